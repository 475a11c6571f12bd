"""G2 on either ledger: applies of *different* desired states started at the same moment end
in the state of some sequential order of them — the order the apply log recorded, replayed
one after the other on a fresh ledger, gives the same ledger rows and the same device files.

The world is small on purpose (one site, eight occupiers, one space of two floor ports each) so
that many rounds fit in CI; each variant provisions a different subset of the occupiers, so
any two applies disagree on what is allocated and what is released."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

from drivers.render import RenderDriver
from reconciler.apply import Guard, apply
from reconciler.ledger import open_ledger
from reconciler.ledger.sql import SqlLedger
from reconciler.load import load
from reconciler.model.repo import Repo
from tests.rules.conftest import CATALOGUE, TODAY, contract, occupier, service, site

OCCUPIERS = [f"o{k}" for k in range(1, 9)]
VARIANTS = 8


def world(variant: int) -> list[dict[str, Any]]:
    """Every variant has the same site, occupiers and contracts; variant v provisions
    internet for the occupiers k with (k + v) % 3 != 0, and voice for (k * v) % 4 == 1."""
    floor = [f"P{k}{x}" for k in range(1, 9) for x in "ab"]
    docs: list[dict[str, Any]] = [
        site(
            switches=[
                {
                    "name": "lb-sw1",
                    "platform": "cisco_iosxe",
                    "host": "192.0.2.11",
                    "ports": [
                        {"interface": f"GigabitEthernet1/0/{i}", "floorPort": port}
                        for i, port in enumerate(floor, 1)
                    ],
                }
            ],
            spaces=[
                {"name": f"space-{k}", "floorPorts": [f"P{k}a", f"P{k}b"]} for k in range(1, 9)
            ],
        ),
        *CATALOGUE,
    ]
    for k, name in enumerate(OCCUPIERS, 1):
        docs += [occupier(name), contract(f"{name}-lb", name, spaces=[f"space-{k}"])]
        if (k + variant) % 3 != 0:
            docs.append(service(f"{name}-internet", "internet-lan-100", name))
        if (k * variant) % 4 == 1:
            docs.append(service(f"{name}-voice", "voice-line", name, quantity=1))
    return docs


def write_variants(root: Path) -> list[str]:
    paths = []
    for v in range(VARIANTS):
        folder = root / f"variant-{v}"
        folder.mkdir(parents=True)
        (folder / "all.yaml").write_text(yaml.safe_dump_all(world(v)))
        loaded = load(str(folder))
        assert not [f for f in loaded.findings if f.is_error], loaded.findings
        paths.append(str(folder))
    return paths


def _apply(repo: Repo, location: str, source: str, out: str) -> bool:
    ledger = open_ledger(location)
    assert ledger is not None
    render = RenderDriver(out)
    guard = Guard(allow_mass_release=True, source=source)
    result = apply(repo, ledger, TODAY, lambda _intent: render, lambda _d: None, guard=guard)
    assert result.ok, [f.text() for f in result.plan.errors] + list(result.failures.values())
    return True


def _worker(repo: Repo, location: str, source: str, out: str, start: float) -> None:
    while time.time() < start:
        time.sleep(0.001)
    raise SystemExit(0 if _apply(repo, location, source, out) else 1)


def snapshot(location: str, out: Path) -> dict[str, Any]:
    """What an end state is: ledger rows without their timestamps, and the device files."""
    ledger = open_ledger(location, create=False)
    assert isinstance(ledger, SqlLedger)
    with ledger.reading() as cursor:
        cursor.execute("SELECT site, kind, value, holder, state, role, until FROM allocation")
        allocations = sorted(tuple(map(str, r)) for r in cursor.fetchall())
        cursor.execute("SELECT kind, name, status, reason FROM status")
        statuses = sorted(tuple(r) for r in cursor.fetchall())
        cursor.execute("SELECT device, item, value FROM applied")
        applied = sorted(tuple(r) for r in cursor.fetchall())
    files = {p.name: p.read_text() for p in sorted(out.iterdir())} if out.exists() else {}
    return {"allocations": allocations, "statuses": statuses, "applied": applied, "files": files}


def round_of_applies(
    paths: list[str], repos: dict[str, Repo], fresh_ledger: Callable[[], str], tmp: Path
) -> list[str]:
    """One round: every variant applied at once on a fresh ledger, then the recorded order
    replayed on another; returns that order."""
    location = fresh_ledger()
    out = tmp / "devices"
    _apply(repos[paths[0]], location, "seed", str(out))  # a ledger with history
    ctx = multiprocessing.get_context("fork")
    start = time.time() + 0.3
    procs = [
        ctx.Process(target=_worker, args=(repos[p], location, p, str(out), start)) for p in paths
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * len(procs), "an apply failed"
    ledger = open_ledger(location, create=False)
    assert ledger is not None
    log = ledger.apply_log()
    assert [outcome for *_, outcome in log] == ["done"] * (len(paths) + 1)
    order = [source for _, source, _, _ in log[1:]]
    assert sorted(order) == sorted(paths)
    _no_overlap(ledger)

    replay_location = fresh_ledger()
    replay_out = tmp / "replay"
    _apply(repos[paths[0]], replay_location, "seed", str(replay_out))
    for path in order:
        _apply(repos[path], replay_location, path, str(replay_out))
    assert snapshot(location, out) == snapshot(replay_location, replay_out), order
    return order


def _no_overlap(ledger: SqlLedger) -> None:
    """Each apply started after the one before it finished: they were serialized."""
    with ledger.reading() as cursor:
        cursor.execute("SELECT started, finished FROM apply_log ORDER BY seq")
        spans = cursor.fetchall()
    for (_, finished), (started, _) in pairwise(spans):
        assert finished <= started, spans
