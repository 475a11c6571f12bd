"""D2: a decommission is refused when a contract starts today, a handset that cannot be logged
out remotely is logged in, a service is Failed or Updating, or the actor is not admin of every
site where the occupier has a contract, live or completed (seed 002, "When is decommission
allowed?")."""

from datetime import date
from typing import Any

from reconciler.findings import Severity
from tests.rules.conftest import TODAY, World, assert_at, contract, occupier, service, site

REQUEST = {"confirm": "Acme Ltd", "irreversible": True}


def _leaving(**spec: Any) -> dict[str, Any]:
    return occupier(decommission=REQUEST, **spec)


def _number(handset: str, logged_in: bool) -> dict[str, Any]:
    return {
        "numbers": [
            {
                "site": "london-bridge",
                "number": "+442079460001",
                "handset": handset,
                "loggedIn": logged_in,
            }
        ]
    }


def test_d2_decommission_without_obstacles_is_fine(world: World) -> None:
    result = world.with_(
        _leaving(activations=_number("analog", False)),
        service("acme-voice", "voice-line"),
        actor="alice",
        service_status={"acme-voice": "Active"},
    )
    assert result.of("D2") == []


def test_d2_contract_starting_today_is_refused(world: World) -> None:
    result = world.with_(_leaving(), contract(start=TODAY.isoformat()))
    finding = result.one("D2")
    assert finding.severity is Severity.ERROR
    assert finding.message == (
        f"cannot decommission acme: contract acme-lb starts on {TODAY.isoformat()}"
    )
    assert finding.hint == "decommission on another day"
    assert_at(result, finding, "Occupier", "acme", "confirm: Acme Ltd")


def test_d2_contract_starting_on_the_scheduled_day_is_refused(world: World) -> None:
    result = world.with_(
        occupier(decommission={**REQUEST, "at": "2027-01-01"}),
        contract("acme-lb-2", start="2027-01-01", spaces=["suite-302"]),
    )
    assert "contract acme-lb-2 starts on 2027-01-01" in result.one("D2").message
    assert world.with_(_leaving(), contract(start="2026-11-22")).of("D2") == []


def test_d2_analog_handset_logged_in_is_refused(world: World) -> None:
    result = world.with_(
        _leaving(activations=_number("analog", True)), service("acme-voice", "voice-line")
    )
    finding = result.one("D2")
    assert finding.message == (
        "cannot decommission acme: the analog handset of +442079460001 is logged in and "
        "cannot be logged out remotely"
    )
    assert finding.hint == "log it out at the handset, then set loggedIn: false"
    assert_at(result, finding, "Occupier", "acme", "loggedIn: true")


def test_d2_softphone_logged_in_is_refused_but_digital_is_logged_out_remotely(
    world: World,
) -> None:
    soft = world.with_(
        _leaving(activations=_number("softphone", True)), service("acme-voice", "voice-line")
    )
    assert "the softphone handset of +442079460001 is logged in" in soft.one("D2").message
    digital = world.with_(
        _leaving(activations=_number("digital", True)), service("acme-voice", "voice-line")
    )
    assert digital.of("D2") == []


def test_d2_failed_or_updating_service_is_refused(world: World) -> None:
    for status in ("Failed", "Updating"):
        result = world.with_(
            _leaving(),
            service("acme-net", "internet-lan-100"),
            service_status={"acme-net": status},
        )
        finding = result.one("D2")
        assert finding.message == f"cannot decommission acme: service acme-net is {status}"
        assert finding.hint == "wait for it to finish or fix it first"
        assert_at(result, finding, "Occupier", "acme", "confirm: Acme Ltd")


def test_d2_failed_status_read_back_from_the_cluster_is_refused(world: World) -> None:
    net = service("acme-net", "internet-lan-100")
    net["status"] = {"phase": "Failed"}
    result = world.with_(_leaving(), net)
    assert "service acme-net is Failed" in result.one("D2").message


def test_d2_actor_not_admin_of_every_site_is_refused(world: World) -> None:
    result = world.with_(
        _leaving(),
        site("canary-wharf", admins=["carol"], publicPools=[], numberBlocks=[]),
        contract("acme-cw", site="canary-wharf", start="2025-01-01", end="2025-12-31"),
        actor="alice",
    )
    finding = result.one("D2")
    assert finding.message == (
        "cannot decommission acme: alice is not an admin of canary-wharf, where it has a contract"
    )
    assert finding.hint == "an admin of canary-wharf must approve it: carol"
    assert_at(result, finding, "Occupier", "acme", "confirm: Acme Ltd")


def test_d2_admin_of_every_site_or_no_actor_is_fine(world: World) -> None:
    docs = (
        _leaving(),
        site("canary-wharf", admins=["carol", "alice"], publicPools=[], numberBlocks=[]),
        contract("acme-cw", site="canary-wharf"),
    )
    assert world.with_(*docs, actor="alice").of("D2") == []
    assert world.with_(*docs).of("D2") == []


def test_d2_request_already_under_way_is_not_checked_again(world: World) -> None:
    result = world.with_(
        _leaving(),
        contract(start=TODAY.isoformat()),
        occupier_phase={"acme": "DecommissionPending"},
    )
    assert result.of("D2") == []


def test_d2_no_request_no_check(world: World) -> None:
    result = world.with_(contract(start=TODAY.isoformat()), actor="bob")
    assert result.of("D2") == []


def test_d2_updating_service_does_not_block_a_scheduled_decommission(world: World) -> None:
    """Updating is transient (another apply is running): a decommission scheduled for a later
    day is checked on that day, not refused now."""
    later = {**REQUEST, "at": "2026-12-18"}
    result = world.with_(
        occupier(decommission=later),
        service("acme-net", "internet-lan-100"),
        service_status={"acme-net": "Updating"},
    )
    assert result.of("D2") == []
    on_the_day = world.with_(
        occupier(decommission=later),
        service("acme-net", "internet-lan-100"),
        service_status={"acme-net": "Updating"},
        today=date(2026, 12, 18),
    )
    assert "service acme-net is Updating" in on_the_day.one("D2").message
