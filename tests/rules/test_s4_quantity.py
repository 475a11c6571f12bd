"""S4: quantity within min..max (0 = no max); the default applies when omitted; an inactive
definition cannot be newly assigned while existing lines stay (seeds 000, 003)."""

from reconciler.catalogue import quantity_of
from reconciler.findings import Severity
from tests.rules.conftest import World, assert_at, definition, service


def test_s4_quantity_within_min_and_max_is_fine(world: World) -> None:
    result = world.with_(service("acme-net", "internet-lan-100", quantity=10))
    assert result.of("S4") == []


def test_s4_max_0_means_no_maximum(world: World) -> None:
    result = world.with_(service("acme-voice", "voice-line", quantity=500))
    assert result.of("S4") == []


def test_s4_quantity_under_min_is_rejected(world: World) -> None:
    result = world.with_(service("acme-net", "internet-lan-100", quantity=0))
    finding = result.one("S4")
    assert finding.severity is Severity.ERROR
    assert finding.message == (
        "service acme-net: quantity 0 of internet-lan-100 must be at least 1"
    )
    assert_at(result, finding, "Service", "acme-net", "quantity: 0")


def test_s4_quantity_over_max_is_rejected(world: World) -> None:
    result = world.with_(service("acme-net", "internet-lan-100", quantity=11))
    finding = result.one("S4")
    assert finding.is_error
    assert "quantity 11 of internet-lan-100 must be at most 10" in finding.message
    assert_at(result, finding, "Service", "acme-net", "quantity: 11")


def test_s4_default_applies_when_quantity_is_omitted(world: World) -> None:
    result = world.with_(
        definition("desk-phone", "voice", quantity={"min": 1, "max": 5, "default": 3}),
        service("acme-net", "internet-lan-100"),
        service("acme-phones", "desk-phone"),
        service("acme-wifi", "wifi-user"),  # no default: the minimum
    )
    assert result.of("S4") == []
    repo = result.repo
    assert repo is not None
    assert quantity_of(repo.services["acme-phones"], repo.definitions["desk-phone"]) == 3
    assert quantity_of(repo.services["acme-wifi"], repo.definitions["wifi-user"]) == 1
    assert quantity_of(repo.services["acme-net"], repo.definitions["internet-lan-100"]) == 1


def test_s4_definition_with_min_above_max_is_rejected(world: World) -> None:
    result = world.with_(definition("odd", "other", quantity={"min": 5, "max": 2}))
    finding = result.errors("S4")[0]
    assert "odd: quantity min 5 is above max 2" in finding.message
    assert_at(result, finding, "ServiceDefinition", "odd", "min: 5")


def test_s4_definition_default_outside_min_max_is_rejected(world: World) -> None:
    result = world.with_(definition("odd", "other", quantity={"min": 1, "max": 4, "default": 6}))
    finding = result.one("S4")
    assert finding.is_error
    assert "odd: default quantity 6 is outside 1..4" in finding.message
    assert_at(result, finding, "ServiceDefinition", "odd", "default: 6")


def test_s4_default_above_min_with_no_max_is_fine(world: World) -> None:
    result = world.with_(definition("odd", "other", quantity={"min": 1, "max": 0, "default": 60}))
    assert result.of("S4") == []


def test_s4_inactive_definition_warns_when_existing_services_are_unknown(world: World) -> None:
    result = world.with_(service("acme-adsl", "adsl-legacy"))
    finding = result.one("S4")
    assert finding.severity is Severity.WARNING
    assert "service acme-adsl uses inactive definition adsl-legacy" in finding.message
    assert "only existing lines may keep it" in finding.message
    assert_at(result, finding, "Service", "acme-adsl", "definition: adsl-legacy")


def test_s4_inactive_definition_cannot_be_newly_assigned(world: World) -> None:
    result = world.with_(
        service("acme-adsl", "adsl-legacy"), existing_services=frozenset({"acme-other"})
    )
    finding = result.one("S4")
    assert finding.severity is Severity.ERROR
    assert "service acme-adsl: adsl-legacy is inactive and cannot be newly assigned" in (
        finding.message
    )
    assert finding.hint == "choose an active service definition"
    assert_at(result, finding, "Service", "acme-adsl", "definition: adsl-legacy")


def test_s4_existing_line_of_an_inactive_definition_stays(world: World) -> None:
    result = world.with_(
        service("acme-adsl", "adsl-legacy"), existing_services=frozenset({"acme-adsl"})
    )
    assert result.of("S4") == []
