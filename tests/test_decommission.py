"""Decommission from a pull request (D1–D5): the request, its refusals, its effects across
sites, its lifecycle with one task per site, and what stays visible afterwards."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from drivers.render import RenderDriver
from reconciler.apply import apply
from reconciler.cli import main
from reconciler.decommission import Record
from reconciler.ledger import Kind, State, open_ledger
from reconciler.load import load
from reconciler.plan import Intent

ROOT = Path(__file__).resolve().parent.parent
DAY = "2026-11-23"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    target = tmp_path / "desired-state"
    shutil.copytree(ROOT / "desired-state", target)
    return target


def ledger_state(state: Path) -> tuple[list[Any], dict[str, Any]]:
    ledger = open_ledger(str(state), create=False)
    assert ledger is not None
    return (
        [(r.site, r.kind, r.value, r.holder, r.state) for r in ledger.holdings().rows],
        {n: (r.status, r.reason) for n, r in ledger.statuses("Occupier").items()},
    )


def apply_cli(repo: Path, tmp_path: Path, day: str = DAY, *extra: str) -> tuple[int, str]:
    return run(
        "apply",
        str(repo),
        "--today",
        day,
        "--state",
        str(tmp_path / "state.db"),
        "--out",
        str(tmp_path / "rendered"),
        *extra,
    )


def test_d1_decommission_command_writes_the_request_and_shows_the_plan(
    repo: Path, tmp_path: Path
) -> None:
    assert apply_cli(repo, tmp_path)[0] == 0
    code, out = run(
        "decommission",
        "northwind",
        str(repo),
        "--today",
        DAY,
        "--state",
        str(tmp_path / "state.db"),
    )
    assert code == 2, out  # the plan has changes
    text = (repo / "occupiers" / "northwind" / "occupier.yaml").read_text()
    assert 'confirm: "Northwind Traders"' in text and "irreversible: true" in text
    assert text.startswith("# yaml-language-server")  # comments and layout kept
    assert "occupier northwind: decommission at every site" in out
    assert "- VLAN 104" in out and "- public 203.0.113.5/32" in out
    code, out = run("validate", str(repo), "--today", DAY, "--state", str(tmp_path / "state.db"))
    assert code == 0, out


def test_d3_d5_decommission_across_two_sites_then_read_only(repo: Path, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    assert apply_cli(repo, tmp_path)[0] == 0
    run("decommission", "umbrella", str(repo), "--today", DAY, "--state", str(state))
    code, out = apply_cli(repo, tmp_path)
    assert code == 0, out
    rows, phases = ledger_state(state)
    assert not [r for r in rows if r[3] == "umbrella"]  # network deprovisioned, ports released
    phase, reason = phases["umbrella"]
    record = Record.decode(phase, reason)
    assert phase == "Decommissioned"
    assert record.tasks == {"london-bridge": "done", "manchester-works": "done"}
    cooling = [r for r in rows if r[1] == "number" and r[4] == "cooling-off"]
    assert cooling  # its number waits out the cooling-off period, unassigned
    sw = (tmp_path / "rendered" / "mw-ovs1.switch.cfg").read_text()
    assert "umbrella" not in sw
    radius = json.loads((tmp_path / "rendered" / "mw-radius1.wifi.json").read_text())
    assert "umbrella" not in json.dumps(radius)
    # D4: history keeps contracts, services and charges, not the network
    code, out = run("report", str(repo), "--today", DAY, "--state", str(state), "--format", "json")
    assert all(r["occupier"] != "umbrella" for r in json.loads(out))
    code, out = run(
        "report", str(repo), "--today", DAY, "--state", str(state), "--history", "--format", "json"
    )
    history = [r for r in json.loads(out) if r["occupier"] == "umbrella"]
    assert history and {r["status"] for r in history} == {"Inactive"}
    assert {r["infrastructure"] for r in history} == {""}
    # D5: any later edit is refused
    services = repo / "occupiers" / "umbrella" / "services.yaml"
    services.write_text(services.read_text().replace("quantity: 2", "quantity: 3", 1))
    code, out = run("validate", str(repo), "--today", DAY, "--state", str(state))
    assert code == 1 and "error[D5]" in out and "read-only" in out


def umbrella_record(ledger: Any) -> Record:
    found = ledger.statuses("Occupier")["umbrella"]
    return Record.decode(found.status, found.reason)


def request(repo: Path, occupier: str) -> None:
    _, out = run(
        "decommission", occupier, str(repo), "--today", DAY, "--state", str(repo.parent / "none.db")
    )
    assert "requested" in out


def refused(
    repo: Path, tmp_path: Path, rule_text: str, day: str = DAY, actor: str | None = None
) -> None:
    """The refusal is reported and nothing changes: ledger and devices as before."""
    state = tmp_path / "state.db"
    before = ledger_state(state)
    rendered = {p.name: p.read_text() for p in (tmp_path / "rendered").iterdir()}
    extra = ("--actor", actor) if actor else ()
    code, out = apply_cli(repo, tmp_path, day, *extra)
    assert code == 1 and "error[D2]" in out and rule_text in out, out
    assert ledger_state(state) == before
    assert {p.name: p.read_text() for p in (tmp_path / "rendered").iterdir()} == rendered


def test_d2_refused_when_an_analog_handset_is_logged_in(repo: Path, tmp_path: Path) -> None:
    apply_cli(repo, tmp_path)
    request(repo, "globex")
    refused(repo, tmp_path, "analog handset of +441614960010 is logged in")


def test_d2_refused_when_a_contract_starts_that_day(repo: Path, tmp_path: Path) -> None:
    apply_cli(repo, tmp_path)
    request(repo, "northwind")
    contracts = repo / "occupiers" / "northwind" / "contracts.yaml"
    contracts.write_text(
        contracts.read_text()
        + (
            "---\napiVersion: tenantry.dev/v1alpha1\nkind: Contract\nmetadata: {name: nw-new}\n"
            "spec: {occupier: northwind, site: manchester-works, start: 2026-11-23, spaces: "
            "[studio-d]}\n"
        )
    )
    refused(repo, tmp_path, "starts on 2026-11-23")


def test_d2_refused_when_the_actor_is_not_admin_of_every_site(repo: Path, tmp_path: Path) -> None:
    apply_cli(repo, tmp_path)
    request(repo, "umbrella")  # London Bridge and Manchester
    refused(repo, tmp_path, "bob is not an admin of london-bridge", actor="bob")


def test_d2_refused_when_a_service_failed(repo: Path, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    apply_cli(repo, tmp_path)
    ledger = open_ledger(str(state))
    assert ledger is not None
    ledger.set_status("Service", "northwind-lb-internet", "Failed", "lb-sw1: unreachable")
    request(repo, "northwind")
    refused(repo, tmp_path, "service northwind-lb-internet is Failed")


def test_d5_failed_site_task_is_reported_and_only_it_is_retried(repo: Path, tmp_path: Path) -> None:
    """A device at one site cannot be configured: that site's task fails with the reason; the
    other site is done; the next run, with the device back, finishes only the failed task."""
    state = str(tmp_path / "state.db")
    assert apply_cli(repo, tmp_path)[0] == 0
    request(repo, "umbrella")
    loaded = load(str(repo))
    ledger = open_ledger(state)
    assert ledger is not None
    good = RenderDriver(tmp_path / "rendered")
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")  # writing under a file fails for real

    def drivers(down: bool) -> Any:
        def factory(intent: Intent) -> RenderDriver:
            site_down = down and intent.endpoint.name.startswith("mw-")
            return RenderDriver(blocked / "x") if site_down else good

        return factory

    today = date.fromisoformat(DAY)
    result = apply(loaded.repo, ledger, today, drivers(True), lambda _: None)
    assert not result.ok and all(d.startswith("mw-") for d in result.failures)
    record = umbrella_record(ledger)
    assert record.phase == "DecommissionFailed"
    assert record.tasks["london-bridge"] == "done"
    assert record.tasks["manchester-works"].startswith("mw-")
    # the Manchester allocations are still held: nothing is free before the devices say so
    held = [a for a in ledger.holdings().rows if a.holder == "umbrella"]
    assert held and {a.site for a in held} == {"manchester-works"}
    again = apply(loaded.repo, ledger, today, drivers(False), lambda _: None)
    assert again.ok
    touched = {d for d, t in again.transcripts.items() if t.commands}
    assert touched and all(d.startswith("mw-") for d in touched)  # London is left alone
    record = umbrella_record(ledger)
    assert record.phase == "Decommissioned"
    assert not [a for a in ledger.holdings().rows if a.holder == "umbrella"]
    numbers = [
        a for a in ledger.holdings().rows if a.kind is Kind.NUMBER and a.state is State.COOLING_OFF
    ]
    assert numbers
