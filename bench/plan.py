"""Benchmark: plan from an empty ledger, apply (render drivers, SQLite ledger), and the no-op
re-plan, against validate, on a synthetic repo; allocations per second into the ledger.

    python bench/plan.py [--occupiers 10000] [--sites 100]
"""

from __future__ import annotations

import argparse
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


def timed(label: str, fn, results: dict[str, float]):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = fn()
    results[label] = time.perf_counter() - start
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--occupiers", type=int, default=10_000)
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--workdir", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    root = args.workdir / f"repo-{args.occupiers}"
    if not root.exists():
        generate(root, args.sites, args.occupiers)
    tmp = Path(tempfile.mkdtemp(prefix="tenantry-bench-"))
    t: dict[str, float] = {}
    try:
        ledger = open_ledger(str(tmp / "state.db"))
        assert ledger is not None
        result = timed("validate", lambda: validate(str(root), TODAY, fork=True), t)
        assert result.ok
        with gc_paused():
            plan = timed(
                "plan from empty ledger (after validate)",
                lambda: make_plan(result.repo, Holdings(), TODAY),
                t,
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
                replan = make_plan(again.repo, holdings, TODAY, active)
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
        f"CLI, best of 3: validate {cli['validate']:.2f}s, no-op plan {cli['plan']:.2f}s "
        f"= {cli['plan'] / cli['validate']:.2f}× validate (rules in a child meanwhile)"
    )


if __name__ == "__main__":
    main()
