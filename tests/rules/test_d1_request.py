"""D1: a decommission is requested in the Occupier with `decommission: {confirm: <exact
occupier name>, irreversible: true}`, optionally `at: <date>` (seed 002)."""

from reconciler.findings import Severity
from tests.rules.conftest import World, assert_at, occupier


def test_d1_request_with_the_exact_name_and_irreversible_is_fine(world: World) -> None:
    result = world.with_(occupier(decommission={"confirm": "Acme Ltd", "irreversible": True}))
    assert result.of("D1") == []


def test_d1_scheduled_request_is_fine(world: World) -> None:
    result = world.with_(
        occupier(decommission={"confirm": "Acme Ltd", "irreversible": True, "at": "2026-12-31"})
    )
    assert result.of("D1") == []


def test_d1_wrong_confirmation_name_is_rejected(world: World) -> None:
    result = world.with_(occupier(decommission={"confirm": "acme ltd", "irreversible": True}))
    finding = result.one("D1")
    assert finding.severity is Severity.ERROR
    assert finding.message == (
        "decommission of acme: confirm must be exactly 'Acme Ltd', not 'acme ltd'"
    )
    assert_at(result, finding, "Occupier", "acme", "confirm: acme ltd")


def test_d1_irreversible_false_is_rejected(world: World) -> None:
    result = world.with_(occupier(decommission={"confirm": "Acme Ltd", "irreversible": False}))
    finding = result.one("D1")
    assert "set irreversible: true to confirm that it cannot be undone" in finding.message
    assert_at(result, finding, "Occupier", "acme", "irreversible: false")
