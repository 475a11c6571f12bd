"""Benchmark: plan from an empty ledger, apply (render drivers, SQLite ledger), and the no-op
re-plan, against validate, on a synthetic repo; allocations per second into the ledger.
Then `tenantry apply` as a user runs it — a fresh CLI process with the README's defaults (the
render drivers, a SQLite ledger) from an empty ledger, and the no-op re-apply — end to end:
allocations per second, wall and CPU seconds (the process and its forked children).

    python bench/plan.py [--occupiers 10000] [--sites 100] [--baseline DIR] [--cli-only]

`--baseline DIR`: also time the CLI of the tenantry source in DIR (e.g. a `git worktree` of
an older commit), alternating with this one, so both are measured under the same load.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate

from drivers.render import RenderDriver
from reconciler.apply import apply
from reconciler.ledger import Holdings, open_ledger
from reconciler.load import gc_paused
from reconciler.plan.changes import device_changes
from reconciler.plan.planner import make_plan
from reconciler.validate import validate

TODAY = date(2026, 11, 23)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(  # type: ignore[no-untyped-def]
    label: str, fn, results: dict[str, float], cpu: dict[str, float] | None = None
):
    """Wall seconds of `fn` into `results`; its CPU seconds (this process) into `cpu`."""
    start, used = time.perf_counter(), cpu_seconds()
    value = fn()
    results[label] = time.perf_counter() - start
    if cpu is not None:
        cpu[label] = cpu_seconds() - used
    return value


def cli_apply(root: Path, work: Path, source: Path | None = None) -> dict[str, float]:
    """`tenantry apply` as a fresh process from an empty ledger, then again (nothing to do):
    wall and CPU seconds (user + system, forked children included) of each, the
    allocations and commands of each. `source`: run that tenantry tree instead of this one."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = str(source)
    out: dict[str, float] = {}
    for run in ("fresh", "again"):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "reconciler.cli", "apply", str(root.resolve()),
             "--today", TODAY.isoformat(), "--state", str(work / "state.db"),
             "--out", str(work / "rendered")],
            capture_output=True, text=True, env=env, cwd=source or Path.cwd(),
        )
        out[f"{run} wall"] = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        out[f"{run} cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        assert done.returncode == 0, done.stdout[-500:] + done.stderr[-500:]
        found = re.search(r"Applied: (\d+) allocated.* (\d+) commands to", done.stdout)
        assert found, done.stdout[-500:]
        out[f"{run} allocations"] = int(found.group(1))
        out[f"{run} commands"] = int(found.group(2))
    shutil.rmtree(work, ignore_errors=True)
    return out


def report_cli(label: str, runs: list[dict[str, float]]) -> None:
    best = min(runs, key=lambda r: r["fresh wall"])
    cpu = min(r["fresh cpu"] for r in runs)
    allocations = best["fresh allocations"]
    print(
        f"CLI apply {label}: {allocations:.0f} allocations in {best['fresh wall']:.2f}s = "
        f"{allocations / best['fresh wall']:.0f}/s end to end ({allocations / cpu:.0f} per CPU "
        f"second; CPU {cpu:.2f}s); no-op re-apply {min(r['again wall'] for r in runs):.2f}s, "
        f"CPU {min(r['again cpu'] for r in runs):.2f}s, {best['again commands']:.0f} commands"
    )


def cli_benchmark(root: Path, baseline: Path | None, repeat: int) -> None:
    """Best of `repeat` for this tree (and the baseline's, alternating with it)."""
    mine: list[dict[str, float]] = []
    theirs: list[dict[str, float]] = []
    work = Path(tempfile.mkdtemp(prefix="tenantry-bench-cli-"))
    try:
        for _ in range(repeat):
            if baseline is not None:
                theirs.append(cli_apply(root, work / "baseline", baseline))
            mine.append(cli_apply(root, work / "this"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if theirs:
        report_cli(f"baseline ({baseline})", theirs)
    report_cli("this tree", mine)
    if theirs:
        print(
            "this tree / baseline: wall "
            f"{min(r['fresh wall'] for r in mine) / min(r['fresh wall'] for r in theirs):.2f}×, "
            f"CPU {min(r['fresh cpu'] for r in mine) / min(r['fresh cpu'] for r in theirs):.2f}×"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--occupiers", type=int, default=10_000)
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--workdir", type=Path, default=Path("bench/out"))
    parser.add_argument("--baseline", type=Path, help="another tenantry tree to compare with")
    parser.add_argument("--repeat", type=int, default=2, help="CLI applies of each tree")
    parser.add_argument("--cli-only", action="store_true", help="only the CLI apply")
    args = parser.parse_args()
    root = args.workdir / f"repo-{args.occupiers}"
    if not root.exists():
        generate(root, args.sites, args.occupiers)
    if args.cli_only:
        cli_benchmark(root, args.baseline, args.repeat)
        return
    tmp = Path(tempfile.mkdtemp(prefix="tenantry-bench-"))
    t: dict[str, float] = {}
    planner: dict[str, float] = {}  # make_plan alone, CPU seconds (the machine may be loaded)
    try:
        ledger = open_ledger(str(tmp / "state.db"))
        assert ledger is not None
        result = timed("validate", lambda: validate(str(root), TODAY, fork=True), t)
        assert result.ok
        with gc_paused():
            plan = timed(
                "plan from empty ledger (after validate)",
                lambda: make_plan(result.repo, Holdings(source=[]), TODAY),
                t,
                planner,
            )
        render = RenderDriver(tmp / "rendered")
        applied = timed(
            "apply (render, SQLite, after validate)",
            lambda: apply(result.repo, ledger, TODAY, lambda _: render, lambda _: None, parallel=4),
            t,
        )
        assert applied.ok, applied.failures

        def noop() -> int:
            again = validate(str(root), TODAY, fork=True)
            holdings = ledger.holdings()
            active = {n for n, r in ledger.statuses("Service").items() if r.status == "Active"}
            with gc_paused():
                replan = timed(
                    "no-op", lambda: make_plan(again.repo, holdings, TODAY, active), {}, planner
                )
                changes = device_changes(replan, ledger.applied())
            return len(replan.changes) + len(changes)

        leftover = timed("no-op plan (validate + ledger + plan)", noop, t)
        allocations = len(plan.allocations)
        cli = {}
        for command in ("validate", "plan"):
            runs = []
            for _ in range(3):
                start = time.perf_counter()
                done = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "reconciler.cli",
                        command,
                        str(root),
                        "--today",
                        TODAY.isoformat(),
                        "--state",
                        str(tmp / "state.db"),
                    ],
                    capture_output=True,
                    text=True,
                )
                runs.append(time.perf_counter() - start)
                assert done.returncode == 0, done.stdout[-500:] + done.stderr[-500:]
            cli[command] = min(runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for label, seconds in t.items():
        print(f"{label:<45} {seconds:7.2f}s  {seconds / t['validate']:5.2f}× validate")
    print(
        f"allocations written: {allocations} "
        f"({allocations / t['apply (render, SQLite, after validate)']:.0f}/s including "
        f"planning, rendering and statuses)"
    )
    print(f"changes left after apply: {leftover}")
    print(
        f"make_plan CPU: {planner['plan from empty ledger (after validate)']:.2f}s from empty, "
        f"{planner['no-op']:.2f}s no-op"
    )
    print(
        f"CLI, best of 3: validate {cli['validate']:.2f}s, no-op plan {cli['plan']:.2f}s "
        f"= {cli['plan'] / cli['validate']:.2f}× validate (rules in a child meanwhile)"
    )
    cli_benchmark(root, args.baseline, args.repeat)


if __name__ == "__main__":
    main()
