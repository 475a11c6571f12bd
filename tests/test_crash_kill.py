"""A `kill -9` of the first apply at random moments — the first second (imports, the schema)
included — never leaves a ledger the next run cannot use: every next apply converges, the
plan after it is empty and the ledger's invariants hold (issue 20, case 5)."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from click.testing import CliRunner

from reconciler.cli import main

ROOT = Path(__file__).resolve().parent.parent
REPO = str(ROOT / "desired-state")
TODAY = "2026-11-23"
KILLS = 20
PARALLEL = 4


def args(folder: Path) -> list[str]:
    ledger, out = str(folder / "state.db"), str(folder / "rendered")
    return ["apply", REPO, "--today", TODAY, "--state", ledger, "--out", out]


def kill_after(folder: Path, delay: float) -> str:
    """Start the first apply, SIGKILL it after `delay`; say what it left behind."""
    folder.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler.cli", *args(folder)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    ledger = folder / "state.db"
    if not ledger.exists():
        return "no ledger"
    with sqlite3.connect(ledger) as conn:
        tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "allocation" not in tables:
            return "no schema"
        rows = conn.execute("SELECT count(*) FROM allocation").fetchone()[0]
    return "allocated" if rows else "schema only"


def full_run(folder: Path) -> float:
    folder.mkdir()
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "reconciler.cli", *args(folder)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return time.monotonic() - started


def test_a_killed_first_apply_always_converges_on_the_next(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        # how long a whole first apply takes here, with as many running at once
        whole = max(pool.map(full_run, [tmp_path / f"whole-{i}" for i in range(PARALLEL)]))
        rng = random.Random(20)
        # half of the kills land in the first half of a whole apply (start-up, the schema),
        # the rest anywhere up to its end: in proportion, as a machine may be three times
        # faster one hour than the next
        delays = [rng.uniform(0.0, whole / 2) for _ in range(KILLS // 2)]
        delays += [rng.uniform(whole / 2, whole) for _ in range(KILLS - KILLS // 2)]
        folders = [tmp_path / f"kill-{i}" for i in range(KILLS)]
        left = list(pool.map(kill_after, folders, delays))  # threads only start and kill
    assert "allocated" in left and ({"no ledger", "no schema"} & set(left)), left
    runner = CliRunner()
    for folder, delay, state in zip(folders, delays, left, strict=True):
        why = f"after a kill at {delay:.2f}s that left {state}"
        again = runner.invoke(main, args(folder))
        assert again.exit_code == 0, f"{why}:\n{again.output}"
        ledger = str(folder / "state.db")
        plan = runner.invoke(main, ["plan", REPO, "--today", TODAY, "--state", ledger])
        assert plan.exit_code == 0, f"{why}, the next plan is not empty:\n{plan.output}"
        check = runner.invoke(main, ["ledger", "check", REPO, "--state", ledger])
        assert check.exit_code == 0, f"{why}:\n{check.output}"
