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


# EngageIP's inactive quantity component (seed 003): "you will not be able to add any optional
# services" of it; "the min and defaults ... still" hold; "can still be canceled".
LEGACY = definition(
    "adsl-legacy", "internet", inactive=True, quantity={"min": 1, "max": 4, "default": 2},
    infrastructure={"switchPorts": {"count": 1, "role": "internet"}},
)


def test_s4_raising_the_quantity_of_an_inactive_line_is_refused(world: World) -> None:
    result = world.with_(
        LEGACY,
        service("acme-adsl", "adsl-legacy", quantity=3),
        existing_services=frozenset({"acme-adsl"}),
        recorded_terms={"acme-adsl": ("adsl-legacy", 2)},
    )
    finding = result.one("S4")
    assert finding.text().endswith(
        "error[S4]: service acme-adsl: adsl-legacy is inactive; its quantity cannot be raised "
        "from 2 to 3 (hint: add an active service definition instead)"
    )
    assert_at(result, finding, "Service", "acme-adsl", "quantity: 3")


def test_s4_re_pointing_a_line_to_an_inactive_definition_is_refused(world: World) -> None:
    result = world.with_(
        LEGACY,
        service("acme-net", "adsl-legacy"),
        existing_services=frozenset({"acme-net"}),
        recorded_terms={"acme-net": ("internet-lan-100", 1)},
    )
    assert result.one("S4").text().endswith(
        "error[S4]: service acme-net: adsl-legacy is inactive; the line cannot be changed from "
        "internet-lan-100 to it (hint: keep internet-lan-100, or choose an active service "
        "definition)"
    )


def test_s4_an_inactive_line_keeps_its_default_and_minimum(world: World) -> None:
    kept = world.with_(
        LEGACY,
        service("acme-adsl", "adsl-legacy"),  # the default, 2, as recorded
        existing_services=frozenset({"acme-adsl"}),
        recorded_terms={"acme-adsl": ("adsl-legacy", 2)},
    )
    assert kept.of("S4") == []
    lowered = world.with_(
        LEGACY,
        service("acme-adsl", "adsl-legacy", quantity=0),
        existing_services=frozenset({"acme-adsl"}),
        recorded_terms={"acme-adsl": ("adsl-legacy", 2)},
    )
    assert lowered.one("S4").message == (
        "service acme-adsl: quantity 0 of adsl-legacy must be at least 1"
    )


def test_s4_lowering_or_removing_an_inactive_line_is_allowed(world: World) -> None:
    result = world.with_(
        LEGACY,
        service("acme-adsl", "adsl-legacy", quantity=1),
        existing_services=frozenset({"acme-adsl", "acme-gone"}),
        recorded_terms={"acme-adsl": ("adsl-legacy", 2), "acme-gone": ("adsl-legacy", 1)},
    )
    assert result.of("S4") == []


def test_s10_a_scheduled_raise_of_an_inactive_line_is_refused(world: World) -> None:
    result = world.with_(
        LEGACY,
        service("acme-adsl", "adsl-legacy", changes=[{"on": "2027-01-01", "quantity": 3}]),
        existing_services=frozenset({"acme-adsl"}),
    )
    finding = result.one("S10")
    assert finding.text().endswith(
        "error[S10]: service acme-adsl: adsl-legacy is inactive; its quantity cannot be raised "
        "from 2 to 3 on 2027-01-01 (hint: add an active service definition instead)"
    )
    assert_at(result, finding, "Service", "acme-adsl", "quantity: 3")
