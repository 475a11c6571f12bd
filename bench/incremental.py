"""Benchmark: `tenantry validate --changed-since HEAD` after a one-file change vs a full
`tenantry validate`, on the same synthetic repo, in the same run; in-process and as CLI
processes (imports included), in rounds of one full and three incremental runs. The
target is ≤ 5 %.

    python bench/incremental.py [--occupiers 10000] [--sites 100] [--repeat 3]

The repo is generated under bench/out/, made a git repo and committed; one occupier file is
then edited (a Wi-Fi user service reduced: an S7 error). The first incremental run builds the
dependency index (`.tenantry/index.sqlite`, one full load): its time is shown separately.
Both runs' findings for the covered files are checked to be the same.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate

from reconciler.incremental import INDEX_FILE, validate_changed
from reconciler.rules import Context
from reconciler.validate import validate

TODAY = date(2026, 11, 23)
CHANGED = "occupiers/site-005/occ-007.yaml"


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def interleaved(
    full: Callable[[], object], partial: Callable[[], object], rounds: int
) -> tuple[float, float, list[float]]:
    """The best full and incremental times, taken in rounds of one full run and three
    incremental ones (a machine whose speed drifts over the minute slows both alike), and
    each round's ratio."""
    fulls: list[float] = []
    partials: list[float] = []
    ratios: list[float] = []
    for _ in range(rounds):
        fulls.append(best(full, 1))
        partials.append(best(partial, 3))
        ratios.append(partials[-1] / fulls[-1])
    return min(fulls), min(partials), ratios


# The console script pip installed, as a user runs it (else the module, as its equivalent).
SCRIPT = Path(sys.executable).with_name("tenantry")
TENANTRY = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "reconciler.cli"]


def cli(repo: Path, *extra: str) -> Callable[[], object]:
    command = [*TENANTRY, "validate", str(repo)]
    command += ["--today", TODAY.isoformat(), *extra]

    def run() -> object:
        return subprocess.run(command, capture_output=True, text=True)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--occupiers", type=int, default=10_000)
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    repo = Path(__file__).resolve().parent / "out" / f"incremental-{args.occupiers}"
    generate(repo, args.sites, args.occupiers)
    git(repo, "init", "-q")
    (repo / ".gitignore").write_text(".tenantry/\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    file = repo / CHANGED
    file.write_text(file.read_text().replace("quantity: 2", "quantity: 1", 1))
    context = Context(today=TODAY)

    start = time.perf_counter()
    first = validate_changed(str(repo), "HEAD", context)
    build = time.perf_counter() - start
    full_result = validate(str(repo), TODAY, context=context, fork=True)
    covered = set(first.covered)
    expected = [f.text() for f in full_result.findings if f.file in covered]
    assert [f.text() for f in first.findings] == expected, (first.findings, expected)
    assert first.findings and not first.full
    documents = len(full_result.repo.sources)
    del full_result

    full = best(lambda: validate(str(repo), TODAY, context=context, fork=True), args.repeat)
    partial = best(lambda: validate_changed(str(repo), "HEAD", context), args.repeat * 3)
    full_cli, partial_cli, ratios = interleaved(
        cli(repo), cli(repo, "--changed-since", "HEAD"), args.repeat
    )
    result = cli(repo, "--changed-since", "HEAD")()
    assert result.returncode == 1 and "error[S7]" in result.stdout, result.stdout  # type: ignore[attr-defined]

    print(f"{args.occupiers} occupiers, {documents} documents; one file changed ({CHANGED})")
    print(
        f"  covered {len(first.covered)} file(s), {first.documents} documents; "
        f"context loaded {len(first.loaded.files)} file(s)"
    )
    print(f"  index build (first run, one full load): {build:.2f}s -> {repo / INDEX_FILE}")
    print(f"  in-process  full {full:.3f}s  incremental {partial:.3f}s  = {partial / full:.1%}")
    print(
        f"  CLI         full {full_cli:.3f}s  incremental {partial_cli:.3f}s"
        f"  = {partial_cli / full_cli:.1%}  (by round: {min(ratios):.1%}–{max(ratios):.1%},"
        f" median {statistics.median(ratios):.1%})"
    )
    hook = [*TENANTRY, "pre-commit", CHANGED, "--path", str(repo)]
    hook += ["--today", TODAY.isoformat()]
    pre_commit = best(lambda: subprocess.run(hook, capture_output=True, cwd=repo), args.repeat * 3)
    print(f"  pre-commit hook (`tenantry pre-commit {CHANGED}`): {pre_commit:.3f}s")
    startup = best(
        lambda: subprocess.run([*TENANTRY, "--version"], capture_output=True),
        args.repeat,
    )
    print(f"  (CLI start-up alone, `tenantry --version`: {startup:.3f}s)")
    shutil.rmtree(repo / ".tenantry", ignore_errors=True)


if __name__ == "__main__":
    main()
