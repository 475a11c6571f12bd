"""Benchmark: PyYAML's C loader parsing alone vs the whole `tenantry validate`, same files,
same run.

    python bench/validate.py [--occupiers 1000 10000 50000] [--findings-fraction 0 0.5 1]

For each size and each share of files carrying one warning (S3, a legacy price under cost),
prints the seconds for CSafeLoader (parse only), for `tenantry validate` in-process (load +
schema + rules + positions), for the CLI as a user runs it (a fresh process, imports
included), both ratios to CSafeLoader (the target is ≤ 0.5 for every CLI ratio, whatever the
share of findings), and the CLI's peak RSS against the YAML's bytes. Times are the best of
--repeat runs. On a shared machine wall-clock ratios swing with the load (printed), so the
same ratios are also given in CPU seconds (user + system, forked children included), which
other processes barely move.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate

from reconciler.load import discover
from reconciler.validate import validate

TODAY = date(2026, 11, 23)


def cpu() -> float:
    """CPU seconds of this process and of its children that have been waited for."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one call."""
    wall, used = time.perf_counter(), cpu()
    fn()
    return time.perf_counter() - wall, cpu() - used


def csafe_parse(files: list[str]) -> None:
    for path in files:
        with open(path, encoding="utf-8") as handle:
            for _ in yaml.load_all(handle.read(), Loader=yaml.CSafeLoader):
                pass


def best(fn: Callable[[], tuple[float, float]], repeat: int) -> tuple[float, float]:
    runs = [fn() for _ in range(repeat)]
    return min(r[0] for r in runs), min(r[1] for r in runs)


# The console script pip installed, as a user runs it (else the module, as its equivalent).
SCRIPT = Path(sys.executable).with_name("tenantry")
TENANTRY = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "reconciler.cli"]


def cli_run(root: Path) -> tuple[float, float, int]:
    """One `tenantry validate` process: wall and CPU seconds, peak RSS in bytes."""
    command = [*TENANTRY, "validate", str(root)]
    with tempfile.TemporaryFile("w+") as out:
        start = time.perf_counter()
        process = subprocess.Popen([*command, "--today", TODAY.isoformat()], stdout=out)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        out.seek(0)
        tail = out.read()[-2000:]
    assert os.waitstatus_to_exitcode(status) == 0, tail
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def measure(root: Path, repeat: int, fraction: float) -> dict[str, float]:
    files = discover(str(root))
    size = sum(Path(f).stat().st_size for f in files)
    csafe = best(lambda: timed(lambda: csafe_parse(files)), repeat)
    counts: dict[str, int] = {}

    def run() -> None:
        result = validate(str(root), TODAY, fork=True)  # as the CLI does
        assert result.ok, [f.text() for f in result.findings[:5]]
        counts["documents"] = len(result.repo.sources)
        counts["warned"] = len({f.file for f in result.findings})

    inproc = best(lambda: timed(run), repeat)
    runs = [cli_run(root) for _ in range(repeat)]
    expected = int((len(files) - 1 - len(discover(str(root / "sites")))) * fraction)
    assert counts["warned"] == expected, (counts["warned"], expected)
    return {
        "files": len(files),
        "bytes": size,
        "documents": counts["documents"],
        "warned": counts["warned"],
        "csafe": csafe[0],
        "validate": inproc[0],
        "cli": min(r[0] for r in runs),
        "csafe cpu": csafe[1],
        "validate cpu": inproc[1],
        "cli cpu": min(r[1] for r in runs),
        "rss": max(r[2] for r in runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--occupiers", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--findings-fraction", type=float, nargs="+", default=[0.0, 0.5, 1.0])
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(
        f"{'occupiers':>9} {'F':>4} {'docs':>7} {'MB':>6} {'CSafeLoader':>11} {'validate':>9} "
        f"{'ratio':>6} {'CLI':>7} {'CLI ratio':>9} | CPU: {'ratio':>6} {'CLI ratio':>9} "
        f"| {'peak RSS':>9} {'×bytes':>6}"
    )
    for count in args.occupiers:
        for fraction in args.findings_fraction:
            root = args.workdir / f"repo-{count}-f{fraction:g}"
            sites = min(args.sites, max(count // 10, 1))
            made = f"{sites} sites, {count} occupiers, F={fraction:g}\n"
            marker = root / ".generated"  # a repo made with the same figures is reused
            if not marker.exists() or marker.read_text() != made:
                generate(root, sites, count, findings_fraction=fraction)
                marker.write_text(made)
            m = measure(root, args.repeat, fraction)
            print(
                f"{count:>9} {fraction:>4g} {m['documents']:>7} {m['bytes'] / 1e6:>6.1f} "
                f"{m['csafe']:>10.2f}s {m['validate']:>8.2f}s {m['validate'] / m['csafe']:>6.2f} "
                f"{m['cli']:>6.2f}s {m['cli'] / m['csafe']:>9.2f} | "
                f"     {m['validate cpu'] / m['csafe cpu']:>6.2f} "
                f"{m['cli cpu'] / m['csafe cpu']:>9.2f} | {m['rss'] / 1e6:>7.0f}MB "
                f"{m['rss'] / m['bytes']:>6.1f}",
                flush=True,
            )
    print(f"load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
