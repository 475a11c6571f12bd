"""Checks shared by the SQLite and PostgreSQL ledger tests (the same interface, two backends)."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from reconciler.ledger import Allocation, Kind, LedgerConflict, Release, State, open_ledger

ROOT = Path(__file__).resolve().parent.parent


def uniqueness(location: str) -> None:
    ledger = open_ledger(location)
    assert ledger is not None
    with ledger.transaction(["s1"]) as tx:
        tx.apply([Allocation("s1", Kind.VLAN, "100", "acme", State.HELD)], tx.holdings())
    with pytest.raises(LedgerConflict), ledger.transaction(["s1"]) as tx:
        # a second holder of VLAN 100 at s1 is refused by the database itself
        tx.apply(
            [Allocation("s1", Kind.VLAN, "100", "bravo", State.HELD)], tx.holdings().__class__()
        )
    with pytest.raises(LedgerConflict), ledger.transaction(["s1"]) as tx:
        # one VLAN per occupier and site
        tx.apply(
            [Allocation("s1", Kind.VLAN, "101", "acme", State.HELD)], tx.holdings().__class__()
        )
    rows = ledger.holdings().rows
    assert [(r.value, r.holder) for r in rows] == [("100", "acme")]


def _worker(
    location: str, name: str, count: int, start: float, out: multiprocessing.Queue[object]
) -> None:
    from reconciler import allocate

    ledger = open_ledger(location)
    assert ledger is not None
    while time.time() < start:
        time.sleep(0.0005)
    got = []
    for i in range(count):
        for _attempt in range(50):
            try:
                with ledger.transaction(["s1"]) as tx:
                    held = {int(v) for v in tx.holdings().values("s1", Kind.VLAN)}
                    vlan = allocate.next_vlan(100, 4000, {}, held)
                    assert vlan is not None
                    tx.apply(
                        [Allocation("s1", Kind.VLAN, str(vlan), f"{name}-{i}", State.HELD)],
                        tx.holdings().__class__(),
                    )
                got.append(vlan)
                break
            except LedgerConflict:
                continue
    out.put((name, got))


def two_writers(location: str, count: int = 150) -> float:
    """Two processes allocate `count` VLANs each at the same moment; returns allocations/s
    (bench/ measures speed; a test on a shared machine only checks the outcome)."""
    open_ledger(location)  # schema first
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[object] = ctx.Queue()
    start = time.time() + 1.0
    procs = [
        ctx.Process(target=_worker, args=(location, n, count, start, queue)) for n in ("a", "b")
    ]
    for p in procs:
        p.start()
    results = dict(queue.get(timeout=120) for _ in procs)  # type: ignore[misc]
    for p in procs:
        p.join(timeout=30)
    elapsed = time.time() - start
    claimed = results["a"] + results["b"]
    assert len(results["a"]) == len(results["b"]) == count
    assert not [v for v, n in Counter(claimed).items() if n > 1], "a VLAN was handed out twice"
    ledger = open_ledger(location)
    assert ledger is not None
    rows = ledger.holdings().values("s1", Kind.VLAN)
    assert sorted(int(v) for v in rows) == sorted(claimed) == list(range(100, 100 + 2 * count))
    return 2 * count / elapsed


def two_applies(location: str, repo: Path, tmp: Path) -> None:
    """Two `tenantry apply` processes started together on one ledger: no double allocation;
    each exits 0, or 1 with a clear 'ledger busy, retry'."""
    env = {**os.environ, "TENANTRY_LEDGER": location}
    cmd = [sys.executable, "-m", "reconciler.cli", "apply", str(repo), "--today", "2026-11-23"]
    procs = [
        subprocess.Popen(
            [*cmd, "--out", str(tmp / f"out{i}")],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(2)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    for proc, text in zip(procs, outputs, strict=True):
        assert proc.returncode == 0 or "ledger busy, retry" in text, text
    assert any(p.returncode == 0 for p in procs), outputs
    ledger = open_ledger(location)
    assert ledger is not None
    holdings = ledger.holdings()
    for kind in (Kind.VLAN, Kind.PREFIX):
        per_holder = Counter((r.site, r.holder) for r in holdings.rows if r.kind is kind)
        assert max(per_holder.values()) == 1, f"an occupier holds two {kind}s"
    # a third run allocates nothing new (it may retire the line an upgrade replaced, S8) and
    # then the plan is empty
    again = subprocess.run(
        [*cmd, "--out", str(tmp / "out0")], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Applied: 0 allocated or changed" in again.stdout
    plan = subprocess.run(
        [sys.executable, "-m", "reconciler.cli", "plan", str(repo), "--today", "2026-11-23"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert plan.returncode == 0, plan.stdout + plan.stderr


def desired_state(location: str) -> None:
    """P1's base for the next apply: the desired state an apply recorded, replaced whole by
    the next record; none before the first (a plan's read-only ledger included)."""
    ledger = open_ledger(location)
    assert ledger is not None
    assert ledger.desired() is None
    first = {
        "Site/lb": ("d1", "lb", "alice,ops", "sites/lb.yaml"),
        "Occupier/acme": ("d2", "lb,mw", "", "occupiers/acme.yaml"),
    }
    with ledger.transaction() as tx:
        tx.record_desired("abc123", first)
    assert ledger.desired() == ("abc123", first)
    second = {"Site/lb": ("d3", "lb", "alice", "sites/lb.yaml")}
    with ledger.transaction() as tx:
        tx.record_desired("def456", second)
    assert ledger.desired() == ("def456", second)


def plan_made_ahead(location: str, repo: Path, tmp: Path) -> None:
    """The CLI plans while the rules run, before the apply holds the ledger: the apply uses
    that plan only if the ledger still holds exactly what it was made from (the same rows,
    the same Active services); otherwise it plans again, as if none had been made."""
    from datetime import date

    from drivers.render import RenderDriver
    from reconciler.apply import Ahead, ApplyResult, apply, plan_ahead
    from reconciler.load import load

    today = date(2026, 11, 23)
    desired = load(str(repo)).repo
    ledger = open_ledger(location)
    assert ledger is not None
    render = RenderDriver(tmp / "rendered")

    def run(ahead: Ahead) -> ApplyResult:
        return apply(desired, ledger, today, lambda _: render, lambda _: None, ahead=ahead)

    ahead = plan_ahead(desired, ledger, today)
    first = run(ahead)
    assert first.ok and first.plan is ahead.plan, "nothing changed: the plan made ahead is used"
    assert first.plan.allocations and first.commands
    # made before another apply filled the ledger: planned again, nothing left to do
    stale = plan_ahead(desired, open_ledger(location), today)
    with ledger.transaction(()) as tx:
        now = tx.holdings()
        assert tx.holdings(now) is now, "the same rows are the same holdings"
    service = min(stale.active)
    ledger.set_status("Service", service, "Failed", "meanwhile")
    again = run(stale)
    assert again.ok and again.plan is not stale.plan, "an Active service changed meanwhile"
    assert not again.plan.allocations and again.commands == 0
    ledger.set_status("Service", service, "Active")
    made = plan_ahead(desired, ledger, today)
    with ledger.transaction(()) as tx:  # another reconciler releases a value meanwhile
        held = tx.holdings()
        tx.apply([Release(held.rows[0])], held)
    third = run(made)
    assert third.ok and third.plan is not made.plan, "the holdings changed meanwhile"
    assert [a.key for a in third.plan.allocations] == [held.rows[0].key]
