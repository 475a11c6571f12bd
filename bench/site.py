"""Benchmark: `tenantry site` for a generated repo of 10,000 occupiers with a filled ledger.

    .venv/bin/python bench/site.py [--occupiers 10000] [--sites 100] [--out bench/out/site]

Generates the repo (bench/generate.py), fills a SQLite ledger with one real `apply` (render
driver; timed apart, it is not the dashboard's cost), then times the dashboard build in-process
phase by phase (load, ledger snapshot, page model, HTML) and the CLI as CI runs it (a fresh
process). Prints the pages written, their total size, and the largest page with its size:
big tables are paginated, so no page grows with the number of occupiers.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from generate import generate  # noqa: E402

from drivers.render import RenderDriver  # noqa: E402
from reconciler.apply import apply  # noqa: E402
from reconciler.dashboard import pages, render  # noqa: E402
from reconciler.ledger import open_ledger  # noqa: E402
from reconciler.load import gc_paused, load  # noqa: E402

TODAY = date(2026, 11, 23)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--occupiers", type=int, default=10_000)
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/out/site")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tenantry-bench-site-"))
    repo, state = work / "repo", work / "state.db"
    documents = generate(repo, args.sites, args.occupiers)
    print(f"repo: {args.occupiers} occupiers, {args.sites} sites, {documents} documents")

    started = time.perf_counter()
    ledger = open_ledger(str(state))
    assert ledger is not None
    renderer = RenderDriver(work / "rendered")
    result = apply(load(str(repo)).repo, ledger, TODAY, lambda _: renderer, lambda _: None)
    print(f"ledger filled by apply in {time.perf_counter() - started:.1f} s (ok={result.ok})")

    phases: dict[str, float] = {}
    with gc_paused():  # as `tenantry site` runs (render.build_site)
        mark = time.perf_counter()
        loaded = load(str(repo))
        phases["load documents"] = time.perf_counter() - mark
        mark = time.perf_counter()
        snapshot = render.read_snapshot(open_ledger(str(state), create=False), TODAY)
        phases["read ledger"] = time.perf_counter() - mark
        mark = time.perf_counter()
        model = pages.build(loaded.repo, snapshot, TODAY)
        phases["page model"] = time.perf_counter() - mark
        mark = time.perf_counter()
        written = render.write(model, args.out)
        phases["render + write HTML"] = time.perf_counter() - mark
    for name, seconds in phases.items():
        print(f"  {name:22} {seconds:6.2f} s")
    print(f"  {'in-process total':22} {sum(phases.values()):6.2f} s")

    mark = time.perf_counter()
    cli = subprocess.run(
        [sys.executable, "-m", "reconciler.cli", "site", str(repo), "--out", str(args.out),
         "--state", str(state), "--today", TODAY.isoformat()],
        capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - mark
    if cli.returncode != 0:
        print(cli.stdout + cli.stderr)
        return 1
    files = list(args.out.rglob("*.html"))
    total = sum(f.stat().st_size for f in files)
    print(f"CLI `tenantry site` (fresh process): {seconds:.2f} s")
    print(
        f"pages: {written.pages} ({len(files)} files), {total / 1024 / 1024:.1f} MiB in all; "
        f"largest {written.largest.relative_to(args.out)} {written.largest_bytes / 1024:.0f} KiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
