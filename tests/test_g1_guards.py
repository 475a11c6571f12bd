"""G1: nothing is released that a person did not ask for — the hostile test's deprovisioning
cases (issue 20) on the real CLI and a real SQLite ledger, and the guards on plans."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler.cli import main
from reconciler.guards import MASS_RELEASE_FLOOR, ContractRecord, g1_releases
from reconciler.ledger.model import Holdings
from reconciler.plan import make_plan
from tests.rules.conftest import CATALOGUE, TODAY, contract, occupier, service
from tests.test_plan import repo_of

ROOT = Path(__file__).resolve().parent.parent
DAY = "2026-11-23"


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--today", DAY])


def allocations(ledger: Path) -> list[tuple[str, ...]]:
    with sqlite3.connect(ledger) as conn:
        return sorted(conn.execute("SELECT site, kind, value, holder, state FROM allocation"))


def applied_copy(tmp_path: Path) -> tuple[Path, Path, list[tuple[str, ...]]]:
    repo = tmp_path / "r"
    shutil.copytree(ROOT / "desired-state", repo)
    ledger = tmp_path / "L.db"
    first = cli("apply", str(repo), "--state", str(ledger), "--out", str(tmp_path / "out"))
    assert first.exit_code == 0, first.output
    return repo, ledger, allocations(ledger)


def test_g1_an_empty_directory_releases_nothing(tmp_path: Path) -> None:
    _, ledger, before = applied_copy(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli("apply", str(empty), "--state", str(ledger), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "holds no *.yaml or *.yml files" in result.output
    assert allocations(ledger) == before


def test_g1_a_deleted_occupier_with_a_running_contract_is_refused(tmp_path: Path) -> None:
    repo, ledger, before = applied_copy(tmp_path)
    shutil.rmtree(repo / "occupiers" / "acme")
    args = ("--state", str(ledger))
    result = cli("apply", str(repo), *args, "--out", str(tmp_path / "out"))
    assert result.exit_code == 1, result.output
    assert (
        f"{repo}/occupiers/acme/contracts.yaml:1:1: error[G1]: occupier acme was deleted from "
        "the desired state while its contract acme-lb-2026 at london-bridge is Active and runs "
        "to 2027-12-31" in result.output
    )
    assert "tenantry decommission acme" in result.output
    assert allocations(ledger) == before
    # the mass-release override does not lift it: an occupier leaves through D1–D5
    forced = cli("apply", str(repo), *args, "--out", str(tmp_path / "out"), "--allow-mass-release")
    assert forced.exit_code == 1 and allocations(ledger) == before
    plan = cli("plan", str(repo), *args)
    assert plan.exit_code == 1 and "error[G1]" in plan.output


def test_g1_a_deleted_occupier_is_named_in_the_checkout_read_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last apply ran from another checkout (CI's workspace, a colleague's clone): the
    finding points at the file's place in this one, as the path given now spells it."""
    first, ledger, before = applied_copy(tmp_path)
    clone = tmp_path / "clone"
    shutil.copytree(first, clone / "desired-state")
    shutil.rmtree(clone / "desired-state" / "occupiers" / "acme")
    monkeypatch.chdir(clone)
    out = ("--out", str(tmp_path / "out"))
    for command in (("plan",), ("apply", *out), ("apply", *out, "--allow-mass-release")):
        result = cli(*command, "desired-state", "--state", str(ledger))
        assert result.exit_code == 1, result.output
        assert (
            "\ndesired-state/occupiers/acme/contracts.yaml:1:1: error[G1]: occupier acme was "
            "deleted from the desired state while its contract acme-lb-2026"
        ) in f"\n{result.output}", result.output
        assert str(first) not in result.output
    assert allocations(ledger) == before


def test_g1_a_contract_recorded_before_paths_within_the_checkout_keeps_its_file() -> None:
    """Ledgers written by earlier versions recorded only the file as it was read then."""
    legacy = ContractRecord.decode(
        '{"occupier": "acme", "site": "london-bridge", "start": "2026-01-01", "end": null, '
        '"file": "/old/checkout/occupiers/acme/contracts.yaml"}'
    )
    assert legacy is not None
    assert legacy.where("repo") == "/old/checkout/occupiers/acme/contracts.yaml"
    now = ContractRecord("acme", "london-bridge", TODAY, None, "", "occupiers/acme/c.yaml")
    again = ContractRecord.decode(now.encode())
    assert again == now and again.where("repo") == "repo/occupiers/acme/c.yaml"


def test_g1_a_missing_site_releases_nothing(tmp_path: Path) -> None:
    repo = repo_of(tmp_path, occupier(), contract(), service("acme-internet", "internet-lan-100"))
    first = make_plan(repo, Holdings(), TODAY)
    without_site = repo_of(tmp_path, base=list(CATALOGUE))  # the site document is gone
    plan = make_plan(without_site, first.after, TODAY)
    assert plan.releases  # the planner alone would free everything
    findings = g1_releases(without_site, plan, first.after, TODAY, {}, {}, root="repo")
    assert [f.rule for f in findings] == ["G1"]
    assert (
        findings[0]
        .text()
        .startswith("repo:1:1: error[G1]: site london-bridge is not in the desired state")
    )


def test_g1_a_plan_releasing_more_than_a_tenth_of_a_site_stops(tmp_path: Path) -> None:
    docs = [
        occupier(),
        contract(),
        service("acme-internet", "internet-lan-100"),
        service("acme-voice", "voice-line", quantity=2),
    ]
    repo = repo_of(tmp_path, *docs)
    first = make_plan(repo, Holdings(), TODAY)
    no_services = repo_of(tmp_path, occupier(), contract())
    plan = make_plan(no_services, first.after, TODAY)
    released = len(plan.releases)
    assert released == len(first.after.rows) > MASS_RELEASE_FLOOR  # everything acme held
    findings = g1_releases(no_services, plan, first.after, TODAY, {}, {})
    assert len(findings) == 1
    assert f"releases {released} of the {released} values held at london-bridge" in (
        findings[0].message
    )
    assert "--allow-mass-release" in findings[0].hint
    assert g1_releases(no_services, plan, first.after, TODAY, {}, {}, True) == []


def test_g1_a_small_sites_routine_release_is_no_mass_release(tmp_path: Path) -> None:
    """Removing one voice line at a lab-sized site releases all it holds, and is routine."""
    repo = repo_of(tmp_path, occupier(), contract(), service("acme-voice", "voice-line"))
    first = make_plan(repo, Holdings(), TODAY)
    plan = make_plan(repo_of(tmp_path, occupier(), contract()), first.after, TODAY)
    assert 0 < len(plan.releases) <= MASS_RELEASE_FLOOR
    assert g1_releases(repo, plan, first.after, TODAY, {}, {}) == []


def test_g1_releases_a_decommission_asked_for_do_not_count(tmp_path: Path) -> None:
    repo = repo_of(tmp_path, occupier(), contract(), service("acme-internet", "internet-lan-100"))
    first = make_plan(repo, Holdings(), TODAY)
    request = {"confirm": "Acme Ltd", "irreversible": True}
    leaving = repo_of(
        tmp_path,
        occupier(decommission=request),
        contract(),
        service("acme-internet", "internet-lan-100"),
    )
    plan = make_plan(leaving, first.after, TODAY)
    assert plan.decommissions == ["acme"] and plan.releases
    assert g1_releases(leaving, plan, first.after, TODAY, {}, {}) == []


def test_g1_a_contract_that_ended_does_not_hold_back_a_deleted_occupier(tmp_path: Path) -> None:
    repo = repo_of(tmp_path, occupier(), contract(), service("acme-internet", "internet-lan-100"))
    first = make_plan(repo, Holdings(), TODAY)
    gone = repo_of(tmp_path)
    plan = make_plan(gone, first.after, TODAY)
    ended = ContractRecord("acme", "london-bridge", date(2024, 1, 1), date(2025, 1, 1), "c.yaml")
    running = ContractRecord("acme", "london-bridge", date(2024, 1, 1), None, "c.yaml")
    allow = {"allow_mass_release": True}
    assert g1_releases(gone, plan, first.after, TODAY, {"c": ended}, {}, **allow) == []
    refused = g1_releases(gone, plan, first.after, TODAY, {"c": running}, {}, **allow)
    assert [f.rule for f in refused] == ["G1"] and "has no end date" in refused[0].message
    # once its decommission is under way the ledger says so, and the releases go ahead
    phases = {"acme": "DecommissionPending"}
    assert g1_releases(gone, plan, first.after, TODAY, {"c": running}, phases, **allow) == []


def test_an_unknown_platform_is_refused_before_anything_is_allocated(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    shutil.copytree(ROOT / "desired-state", repo)
    site = repo / "sites" / "london-bridge.yaml"
    lines = site.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if "platform: cisco_iosxe" in line)
    lines[at] = lines[at].replace("cisco_iosxe", "juniper_junos")
    site.write_text("\n".join(lines) + "\n")
    ledger = tmp_path / "L.db"
    args = ("--state", str(ledger), "--drivers", "devices", "--out", str(tmp_path / "out"))
    result = cli("apply", str(repo), *args)
    assert result.exit_code == 1, result.output
    column = lines[at].index("juniper_junos") + 1  # the value
    assert f"{site}:{at + 1}:{column}: error[platform]:" in result.output, result.output
    assert "juniper_junos" in result.output  # refused by validate: no device, no ledger
    assert not ledger.exists(), "the ledger was touched"
