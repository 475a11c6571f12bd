"""The dashboard's page model (pure) on the example repo and a ledger the real apply wrote."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from reconciler.billing import charges as billing
from reconciler.dashboard import charts, pages, render
from reconciler.dashboard.pages import Dashboard, SitePage
from reconciler.dashboard.render import read_snapshot
from reconciler.dashboard.snapshot import DriftResult, MonthCharge, Snapshot
from reconciler.ledger import Kind, State, open_ledger
from reconciler.load import load
from reconciler.model.repo import Repo
from reconciler.plan import pool_usage
from tests.billing_cases import run
from tests.dashboard.conftest import LivedIn, _apply


@pytest.fixture(scope="module")
def repo(lived_in: LivedIn) -> Repo:
    return load(str(lived_in.repo)).repo


@pytest.fixture(scope="module")
def snapshot(lived_in: LivedIn) -> Snapshot:
    return read_snapshot(open_ledger(str(lived_in.state), create=False), lived_in.today)


@pytest.fixture(scope="module")
def dashboard(repo: Repo, snapshot: Snapshot, lived_in: LivedIn) -> Dashboard:
    return pages.build(repo, snapshot, lived_in.today)


def site(dashboard: Dashboard, name: str) -> SitePage:
    return next(s for s in dashboard.sites if s.name == name)


def test_every_site_has_its_pools_and_occupancy(
    dashboard: Dashboard, repo: Repo, snapshot: Snapshot
) -> None:
    expected = {(u.site, u.pool): (u.used, u.size) for u in pool_usage(repo, snapshot.holdings)}
    shown = {(s.name, p.pool): (p.used, p.size) for s in dashboard.sites for p in s.pools}
    assert shown == expected
    london = site(dashboard, "london-bridge")
    assert london.spaces_total == len(repo.sites["london-bridge"].spec.spaces)
    # Umbrella (suite-201 until September) is gone and Wayne (suite-301) was decommissioned on
    # the 18th: their spaces are not let; Northwind has suite-201 since October
    let_spaces = {
        s
        for c in repo.contracts.values()
        if c.spec.site == "london-bridge"
        and c.spec.occupier not in ("umbrella", "wayne")
        and c.spec.start <= date(2026, 12, 21)
        and (c.spec.end is None or c.spec.end >= date(2026, 12, 21))
        for s in c.spec.spaces
    }
    assert london.spaces_let == len(let_spaces) < london.spaces_total


def test_a_pool_at_90_percent_is_flagged(repo: Repo, snapshot: Snapshot, lived_in: LivedIn) -> None:
    london = repo.sites["london-bridge"]
    ports = sum(len(s.floor_ports) for s in london.spec.spaces)
    held = len(snapshot.holdings.values("london-bridge", Kind.PORT))
    flagged = pages.build(repo, snapshot, lived_in.today)
    bar = next(p for p in site(flagged, "london-bridge").pools if p.pool == "floor ports")
    assert bar.warning is (held / ports >= 0.9)
    # shrink the site to just over what is held: now it is flagged, and counted on the index
    spaces = london.spec.spaces
    kept, total = [], 0
    for space in spaces:
        kept.append(space)
        total += len(space.floor_ports)
        if held / total < 1.12 and held <= total:
            break
    small = london.model_copy(
        update={"spec": london.spec.model_copy(update={"spaces": tuple(kept)})}
    )
    repo.sites["london-bridge"] = small
    try:
        page = site(pages.build(repo, snapshot, lived_in.today), "london-bridge")
    finally:
        repo.sites["london-bridge"] = london
    bar = next(p for p in page.pools if p.pool == "floor ports")
    assert bar.warning and bar.percent >= 90 and page.warnings >= 1


def test_failed_device_and_its_services_from_the_last_apply(
    dashboard: Dashboard, lived_in: LivedIn
) -> None:
    london = site(dashboard, "london-bridge")
    results = {d.name: (d.result, d.detail) for d in london.devices}
    failed = {d for d, (result, _) in results.items() if result == "failed"}
    assert failed == {d for d in lived_in.failures if d.startswith("lb-")} != set()
    for device in failed:
        assert "Not a directory" in results[device][1]
    assert {r for d, (r, _) in results.items() if d not in failed} <= {"applied"}
    assert london.failed and all(f.reason.split(": ")[0] in failed for f in london.failed)
    manchester = site(dashboard, "manchester-works")
    assert not manchester.failed  # retried and done
    assert {d.result for d in manchester.devices} == {"applied"}


def test_device_results_from_service_reasons_in_an_older_ledger(
    repo: Repo, snapshot: Snapshot, lived_in: LivedIn
) -> None:
    """A ledger written before devices were recorded: the device a failed service names."""
    from dataclasses import replace

    older = pages.build(repo, replace(snapshot, devices={}), lived_in.today)
    london = site(older, "london-bridge")
    named = {f.reason.split(": ")[0] for f in london.failed}
    assert {d.name for d in london.devices if d.result == "failed"} == named


def test_cooling_off_numbers_with_their_release_date(dashboard: Dashboard, repo: Repo) -> None:
    manchester = site(dashboard, "manchester-works")
    days = repo.sites["manchester-works"].spec.cooling_off_days
    released = [n for n in manchester.cooling_off if n.number == "+441614960300"]
    # Umbrella's number: released when its Manchester task finished on 21 December
    assert released and released[0].until == date(2026, 12, 21) + timedelta(days=days)


def test_decommissioned_occupier_keeps_contracts_services_and_charges_only(
    dashboard: Dashboard, lived_in: LivedIn
) -> None:
    umbrella = next(o for o in dashboard.occupiers if o.name == "umbrella")
    assert umbrella.phase == "Decommissioned" and umbrella.decommissioned
    assert dict(umbrella.tasks) == {"london-bridge": "done", "manchester-works": "done"}
    assert umbrella.sections and all(s.services for s in umbrella.sections)  # D4: kept
    assert umbrella.charge_rows
    assert not (umbrella.users or umbrella.wifi_devices or umbrella.numbers)  # D4: not kept
    assert all(not s.infrastructure for s in umbrella.sections)
    wayne = next(o for o in dashboard.occupiers if o.name == "wayne")
    assert wayne.phase == "DecommissionFailed"
    assert dict(wayne.tasks)["london-bridge"].split(": ")[0] in lived_in.failures


def reported(state: Path, month: str) -> dict[str, Decimal]:
    """Each occupier's total in `tenantry report charges --month` (what finance invoices)."""
    code, out = run(
        "report", "charges", "--month", month, "--state", str(state), "--format", "json"
    )
    assert code == 0, out
    return {r["occupier"]: Decimal(r["amount"]) for r in json.loads(out) if r["kind"] == "total"}


def shown(dashboard: Dashboard) -> dict[str, dict[str, Decimal]]:
    """month → occupier → the total the dashboard's charges table and chart show."""
    out: dict[str, dict[str, Decimal]] = {}
    for occupier in dashboard.occupiers:
        assert occupier.charges is None or len(occupier.charges.bars) == len(occupier.charge_rows)
        for month, amount, _ in occupier.charge_rows:
            out.setdefault(month, {})[occupier.name] = amount
    return out


def test_charges_per_month_are_the_reported_charges(
    dashboard: Dashboard, lived_in: LivedIn
) -> None:
    months = shown(dashboard)
    assert sorted(months) == ["2026-10", "2026-11", "2026-12"]  # first apply: 5 October
    for month, totals in months.items():
        assert totals == reported(lived_in.state, month)
    acme = next(o for o in dashboard.occupiers if o.name == "acme")
    assert "billing history" in acme.charges_source
    assert {status for _, _, status in acme.charge_rows} == {"open"}


def test_a_closed_month_shows_as_billed_after_its_documents_changed(
    lived_in: LivedIn, tmp_path: Path
) -> None:
    """November is closed; then Acme's public IP gets a price change dated 10 November and
    is applied on 22 December. `report charges` keeps November as closed and carries the
    difference into December as reversal and correction rows; the dashboard shows the same
    totals, month by month, in its table, its chart and its HTML."""
    repo, state = tmp_path / "desired-state", tmp_path / "state.db"
    shutil.copytree(lived_in.repo, repo)
    with sqlite3.connect(lived_in.state) as source, sqlite3.connect(state) as target:
        source.backup(target)
    code, out = run("billing", "close", "2026-11", "--state", str(state), "--today", "2026-12-21")
    assert code == 0, out
    services = repo / "occupiers/acme/services.yaml"
    text = services.read_text()
    assert text.count('price: "15.00"\n') == 1
    services.write_text(
        text.replace(
            'price: "15.00"\n',
            'price: "15.00"\n  changes:\n    - {"on": 2026-11-10, price: "25.00"}\n',
        )
    )
    day = date(2026, 12, 22)
    _apply(repo, state, day, tmp_path / "rendered")
    december = json.loads(
        run("report", "charges", "--month", "2026-12", "--state", str(state), "--format", "json")[1]
    )
    assert any(r["occupier"] == "acme" and r["adjusts"] == "2026-11" for r in december)
    ledger = open_ledger(str(state), create=False)
    assert ledger is not None
    snapshot = read_snapshot(ledger, day)
    dashboard = pages.build(load(str(repo)).repo, snapshot, day)
    months = shown(dashboard)
    for month in ("2026-10", "2026-11", "2026-12"):
        assert months[month] == reported(state, month), month
    events, _ = billing.recorded(ledger)
    recomputed = billing.charges(events, 2026, 11, {})
    redone = sum((r.amount for r in recomputed if r.occupier == "acme" and r.kind == "total"),
                 Decimal(0))  # fmt: skip
    assert redone != months["2026-11"]["acme"]  # November as closed, not as recomputed
    acme = next(o for o in dashboard.occupiers if o.name == "acme")
    assert dict((m, status) for m, _, status in acme.charge_rows)["2026-11"] == "closed"
    render.write(dashboard, tmp_path / "site")
    html = (tmp_path / "site" / acme.href).read_text()
    for month, amount, status in acme.charge_rows:
        cells = f'<td>{month}</td><td class="num">{amount:,.2f}</td><td>{status}</td>'
        assert cells in html


def test_without_a_ledger_there_is_no_history(repo: Repo, lived_in: LivedIn) -> None:
    bare = pages.build(repo, Snapshot(), lived_in.today)
    assert not bare.recorded
    for occupier in bare.occupiers:
        assert occupier.charges is None and occupier.charges_source == "no history yet"
        assert not occupier.numbers
    for page in bare.sites:
        assert all(p.trend is None and p.history == "no history yet" for p in page.pools)
        assert all(d.result == "not applied yet" for d in page.devices)
        assert all(d.drift == "no drift check yet" for d in page.devices)


def test_billing_and_drift_records_slot_in(
    repo: Repo, snapshot: Snapshot, lived_in: LivedIn
) -> None:
    """When the ledger records billing events, drift checks and a pool history, the pages
    show those instead of what they derive."""
    from dataclasses import replace

    billed = {"acme": (MonthCharge("2026-11", Decimal("431.99"), closed=True),)}
    drift = {
        "lb-sw1": DriftResult("2026-12-21T06:00:00", 2),
        "lb-rtr1": DriftResult("2026-12-21T06:00:00", 0),
    }
    start = date(2026, 1, 1)
    history = {
        ("london-bridge", "floor ports"): [
            (start + timedelta(days=30 * i), 8 + 2 * i) for i in range(6)
        ]
    }
    richer = replace(snapshot, billed=billed, drift=drift, pool_history=history)
    page = pages.build(repo, richer, lived_in.today)
    acme = next(o for o in page.occupiers if o.name == "acme")
    assert acme.charge_rows == (("2026-11", Decimal("431.99"), "closed"),)
    globex = next(o for o in page.occupiers if o.name == "globex")
    assert globex.charges is None and globex.charges_source == "nothing charged yet"
    london = site(page, "london-bridge")
    devices = {d.name: d for d in london.devices}
    assert devices["lb-sw1"].drifted and devices["lb-sw1"].drift.startswith("2 lines differ")
    assert not devices["lb-rtr1"].drifted and devices["lb-rtr1"].drift.startswith("in sync")
    assert london.drifted == 1 and page.drift_checked
    ports = next(p for p in london.pools if p.pool == "floor ports")
    assert ports.trend is not None and ports.history == "recorded in the ledger"
    assert (
        ports.full_by is not None
        and ports.full_by > history[("london-bridge", "floor ports")][-1][0]
    )


def test_full_by_follows_the_recent_growth() -> None:
    start = date(2026, 1, 1)
    growing = [(start + timedelta(days=10 * i), 10 * i) for i in range(5)]  # 1 a day
    assert charts.full_by(growing, 100) == growing[-1][0] + timedelta(days=61)
    assert charts.full_by([(start, 5), (start + timedelta(days=30), 5)], 100) is None
    assert charts.full_by([(start, 9), (start + timedelta(days=30), 4)], 100) is None
    assert charts.full_by([(start, 100)], 100) is None  # one point is no trend
    assert charts.full_by(
        [(start, 50), (start + timedelta(days=1), 100)], 100
    ) == start + timedelta(days=1)


def test_derived_vlan_trend_counts_occupiers_by_first_active_day(
    dashboard: Dashboard, snapshot: Snapshot
) -> None:
    london = site(dashboard, "london-bridge")
    vlans = next(p for p in london.pools if p.pool == "VLANs")
    assert vlans.trend is not None and vlans.trend.last == date(2026, 12, 21)
    assert pages.running_count(
        [date(2026, 3, 1), date(2026, 1, 1), date(2026, 3, 1)], date(2026, 4, 1)
    ) == [
        (date(2026, 1, 1), 1),
        (date(2026, 3, 1), 3),
        (date(2026, 4, 1), 3),
    ]


def test_big_tables_are_paginated() -> None:
    rows = list(range(450))
    split = pages.paginate(rows, 200)
    assert [len(p.rows) for p in split] == [200, 200, 50]
    assert [p.first for p in split] == [1, 201, 401] and {p.count for p in split} == {3}
    assert [r for p in split for r in p.rows] == rows
    assert pages.paginate([], 200)[0].rows == ()
    assert pages.page_file("london-bridge", 1) == "london-bridge.html"
    assert pages.page_file("london-bridge", 2) == "london-bridge.2.html"


def test_numbers_show_state_and_assignee(dashboard: Dashboard, snapshot: Snapshot) -> None:
    acme = next(o for o in dashboard.occupiers if o.name == "acme")
    held = {a.value: a for a in snapshot.holdings.held_by("london-bridge", "acme", Kind.NUMBER)}
    assert {n.number for n in acme.numbers} == set(held)
    main = [n for n in acme.numbers if n.main]
    assert main and held[main[0].number].role == "main"
    jo = next(n for n in acme.numbers if n.number == "+442079460001")
    assert jo.assignee == "jo" and jo.handset == "digital" and jo.logged_in
    assert jo.state == str(State.ACTIVE)
