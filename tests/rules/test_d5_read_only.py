"""D5: status Active → DecommissionPending → Decommissioned / DecommissionFailed; once under way
the decommission cannot be withdrawn and the occupier is read-only (seed 002: "Once the
decommission process is started ... you cannot edit their details")."""

from datetime import date
from pathlib import Path

import yaml

from reconciler.findings import Severity
from reconciler.load import load
from reconciler.model.repo import Ref
from reconciler.rules import Context, check
from tests.rules.conftest import SITE, World, assert_at, contract, occupier, service

REQUEST = {"confirm": "Acme Ltd", "irreversible": True}


def test_d5_decommissioned_occupier_keeping_its_request_is_fine(world: World) -> None:
    for phase in ("DecommissionPending", "Decommissioned", "DecommissionFailed"):
        result = world.with_(occupier(decommission=REQUEST), occupier_phase={"acme": phase})
        assert result.of("D5") == []


def test_d5_active_occupier_may_drop_a_request(world: World) -> None:
    assert world.with_(occupier_phase={"acme": "Active"}).of("D5") == []


def test_d5_withdrawing_a_decommission_under_way_is_rejected(world: World) -> None:
    for phase in ("DecommissionPending", "Decommissioned", "DecommissionFailed"):
        result = world.with_(occupier(), occupier_phase={"acme": phase})
        finding = result.one("D5")
        assert finding.severity is Severity.ERROR
        assert finding.message == f"occupier acme is {phase}: the decommission cannot be withdrawn"
        assert_at(result, finding, "Occupier", "acme", "displayName: Acme Ltd")


def test_d5_phase_read_back_from_the_cluster_counts(world: World) -> None:
    doc = occupier()
    doc["status"] = {"phase": "Decommissioned"}
    assert "the decommission cannot be withdrawn" in world.with_(doc).one("D5").message


def test_d5_check_with_a_context_on_a_loaded_repo(tmp_path: Path) -> None:
    docs = [SITE, occupier(), contract()]
    (tmp_path / "repo.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
    repo = load(str(tmp_path)).repo
    gone = Context(date(2026, 11, 23), occupier_phase={"acme": "Decommissioned"})
    assert [f.message for f in check(repo, gone, only={"D5"})] == [
        "occupier acme is Decommissioned: the decommission cannot be withdrawn"
    ]
    assert check(repo, Context(date(2026, 11, 23)), only={"D5"}) == []


def test_d5_changing_a_decommissioned_occupiers_documents_is_rejected(world: World) -> None:
    result = world.with_(
        occupier(decommission=REQUEST),
        service("acme-net", "internet-lan-100"),
        occupier_phase={"acme": "Decommissioned"},
        changed=frozenset({Ref("Service", "acme-net"), Ref("Contract", "acme-lb")}),
    )
    found = {f.message: f for f in result.errors("D5")}
    read_only = "occupier acme is Decommissioned and read-only"
    service_msg = f"{read_only}: Service acme-net cannot be changed"
    contract_msg = f"{read_only}: Contract acme-lb cannot be changed"
    assert sorted(found) == [contract_msg, service_msg]
    assert_at(result, found[service_msg], "Service", "acme-net", "name: acme-net")
    assert_at(result, found[contract_msg], "Contract", "acme-lb", "name: acme-lb")


def test_d5_changes_to_other_occupiers_are_fine(world: World) -> None:
    result = world.with_(
        occupier(decommission=REQUEST),
        occupier("globex"),
        occupier_phase={"acme": "DecommissionPending"},
        changed=frozenset({Ref("Occupier", "globex")}),
    )
    assert result.of("D5") == []
