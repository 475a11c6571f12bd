"""Benchmark: PyYAML's C loader parsing alone vs the whole `tenantry validate`, same files,
same run.

    python bench/validate.py [--occupiers 1000 10000 50000] [--sites 100]

Prints, per size, the seconds for CSafeLoader (parse only), for `tenantry validate` in-process
(load + schema + rules + positions), for the CLI as a user runs it (a fresh process, imports
included), and the ratio validate / CSafeLoader (the target is ≤ 0.5).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate

from reconciler.load import discover
from reconciler.validate import validate

TODAY = date(2026, 11, 23)


def csafe_parse(files: list[str]) -> float:
    start = time.perf_counter()
    for path in files:
        with open(path, encoding="utf-8") as handle:
            for _ in yaml.load_all(handle.read(), Loader=yaml.CSafeLoader):
                pass
    return time.perf_counter() - start


def best(fn: object, repeat: int) -> float:
    return min(fn() for _ in range(repeat))  # type: ignore[operator]


def measure(root: Path, repeat: int) -> dict[str, float]:
    files = discover(str(root))
    size = sum(Path(f).stat().st_size for f in files)
    csafe = best(lambda: csafe_parse(files), repeat)

    def run() -> float:
        start = time.perf_counter()
        result = validate(str(root), TODAY, fork=True)  # as the CLI does
        elapsed = time.perf_counter() - start
        assert result.ok, [f.text() for f in result.findings[:5]]
        run.documents = len(result.repo.sources)  # type: ignore[attr-defined]
        return elapsed

    inproc = best(run, repeat)
    start = time.perf_counter()
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "reconciler.cli",
            "validate",
            str(root),
            "--today",
            TODAY.isoformat(),
        ],
        capture_output=True,
        text=True,
    )
    cli_time = time.perf_counter() - start
    assert cli.returncode == 0, cli.stdout[-2000:]
    return {
        "files": len(files),
        "megabytes": size / 1e6,
        "documents": run.documents,  # type: ignore[attr-defined]
        "csafe": csafe,
        "validate": inproc,
        "cli": cli_time,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--occupiers", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    print(
        f"{'occupiers':>9} {'docs':>7} {'MB':>6} {'CSafeLoader':>11} {'validate':>9} "
        f"{'ratio':>6} {'CLI':>6} {'CLI ratio':>9}"
    )
    for count in args.occupiers:
        root = args.workdir / f"repo-{count}"
        generate(root, min(args.sites, max(count // 10, 1)), count)
        m = measure(root, args.repeat)
        print(
            f"{count:>9} {m['documents']:>7} {m['megabytes']:>6.1f} {m['csafe']:>10.2f}s "
            f"{m['validate']:>8.2f}s {m['validate'] / m['csafe']:>6.2f} {m['cli']:>5.2f}s "
            f"{m['cli'] / m['csafe']:>9.2f}"
        )


if __name__ == "__main__":
    main()
