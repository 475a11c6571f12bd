"""S5: dependent services (`requires`), mutually exclusive ones (`excludes`) and the limit per
occupier (`maxPerOccupier`): a service set that breaks one is rejected, naming both services
(seed 000: "you can only have one Public IP service")."""

from reconciler.findings import Severity
from tests.rules.conftest import World, assert_at, contract, definition, occupier, service


def test_s5_public_ip_with_internet_is_fine(world: World) -> None:
    result = world.with_(service("acme-net", "internet-lan-100"), service("acme-pip", "public-ip"))
    assert result.of("S5") == []


def test_s5_two_public_ips_are_rejected_naming_both(world: World) -> None:
    result = world.with_(
        service("acme-net", "internet-lan-100"),
        service("acme-pip-a", "public-ip"),
        service("acme-pip-b", "public-ip"),
    )
    # both lines are flagged (whichever one the pull request added), each naming the other
    first, second = sorted(result.of("S5"), key=lambda f: f.message)
    assert first.severity is second.severity is Severity.ERROR
    assert "acme may have at most 1 public-ip at london-bridge" in first.message
    assert "acme-pip-a and acme-pip-b exceed it" in first.message
    assert "acme-pip-b and acme-pip-a exceed it" in second.message
    assert second.hint == "remove one of them"
    assert_at(result, first, "Service", "acme-pip-a")
    assert_at(result, second, "Service", "acme-pip-b")


def test_s5_max_per_occupier_counts_quantities(world: World) -> None:
    result = world.with_(
        definition("meeting-room", "other", quantity={"min": 1, "max": 0}, maxPerOccupier=2),
        service("acme-rooms", "meeting-room", quantity=3),
    )
    finding = result.one("S5")
    assert "at most 2 meeting-room at london-bridge: service acme-rooms exceeds it" in (
        finding.message
    )


def test_s5_max_per_occupier_is_per_occupier(world: World) -> None:
    result = world.with_(
        occupier("globex"),
        contract("globex-lb", occupier="globex", spaces=["suite-302"]),
        service("acme-net", "internet-lan-100"),
        service("acme-pip", "public-ip"),
        service("globex-net", "internet-lan-100", occupier="globex"),
        service("globex-pip", "public-ip", occupier="globex"),
    )
    assert result.of("S5") == []


def test_s5_public_ip_without_internet_is_rejected(world: World) -> None:
    result = world.with_(service("acme-pip", "public-ip"))
    finding = result.one("S5")
    assert finding.is_error
    assert (
        "service acme-pip (public-ip) requires internet-lan-100 or internet-lan-1000 for acme "
        "at london-bridge, and there is none"
    ) in finding.message
    assert finding.hint == "add a internet-lan-100 service, or remove acme-pip"
    assert_at(result, finding, "Service", "acme-pip", "definition: public-ip")


def test_s5_any_of_requirement_is_met_by_either_service(world: World) -> None:
    result = world.with_(service("acme-net", "internet-lan-1000"), service("acme-pip", "public-ip"))
    assert result.of("S5") == []


def test_s5_call_recording_requires_voice(world: World) -> None:
    result = world.with_(service("acme-rec", "call-recording"))
    finding = result.one("S5")
    assert "acme-rec (call-recording) requires voice-line" in finding.message
    ok = world.with_(service("acme-rec", "call-recording"), service("acme-voice", "voice-line"))
    assert ok.of("S5") == []


def test_s5_requirement_of_another_occupier_does_not_count(world: World) -> None:
    result = world.with_(
        occupier("globex"),
        contract("globex-lb", occupier="globex", spaces=["suite-302"]),
        service("globex-net", "internet-lan-100", occupier="globex"),
        service("acme-pip", "public-ip"),
    )
    assert "acme-pip (public-ip) requires" in result.one("S5").message


def test_s5_requirement_on_a_deprovisioned_contract_does_not_count(world: World) -> None:
    result = world.with_(
        contract(end="2026-06-30", atEnd="deprovision"),
        contract("acme-lb-2", start="2026-07-01", spaces=["suite-301"]),
        service("acme-net", "internet-lan-100", contract="acme-lb"),
        service("acme-pip", "public-ip", contract="acme-lb-2"),
    )
    assert "acme-pip (public-ip) requires" in result.one("S5").message


def test_s5_two_internet_speeds_are_mutually_exclusive_naming_both(world: World) -> None:
    result = world.with_(
        service("acme-net-100", "internet-lan-100"),
        service("acme-net-1000", "internet-lan-1000"),
    )
    finding = result.one("S5")
    assert finding.is_error
    assert (
        "services acme-net-100 (internet-lan-100) and acme-net-1000 (internet-lan-1000) are "
        "mutually exclusive for acme at london-bridge"
    ) in finding.message
    assert "replaces: <old>" in finding.hint
    assert_at(result, finding, "Service", "acme-net-1000", "definition: internet-lan-1000")


def test_s5_exclusion_declared_on_one_side_only_still_applies(world: World) -> None:
    result = world.with_(
        definition("fibre", "internet", excludes=["adsl-legacy"]),
        service("acme-fibre", "fibre"),
        service("acme-adsl", "adsl-legacy"),
        existing_services=frozenset({"acme-adsl"}),
    )
    assert "acme-adsl (adsl-legacy) and acme-fibre (fibre) are mutually exclusive" in (
        result.one("S5").message
    )


def test_s5_upgrade_that_replaces_the_excluded_service_is_allowed(world: World) -> None:
    result = world.with_(
        service("acme-net-100", "internet-lan-100"),
        service("acme-net-1000", "internet-lan-1000", replaces="acme-net-100"),
    )
    assert result.of("S5") == []
    assert result.of("S8") == []


def test_s5_replacement_pair_is_exempt_from_max_per_occupier(world: World) -> None:
    result = world.with_(
        service("acme-net", "internet-lan-100"),
        service("acme-pip-old", "public-ip"),
        service("acme-pip-new", "public-ip", replaces="acme-pip-old"),
    )
    assert result.of("S5") == []


def _renewal(keep: bool) -> tuple[dict[str, object], dict[str, object]]:
    old = contract(end="2026-12-31", **({} if keep else {"atEnd": "deprovision"}))
    new = contract("acme-lb-2", start="2027-01-01", spaces=["suite-301"])
    return old, new


def test_s5_renewal_that_deprovisions_the_old_contract_may_switch_speed(world: World) -> None:
    result = world.with_(
        *_renewal(keep=False),
        service("old-net", "internet-lan-100", contract="acme-lb"),
        service("new-net", "internet-lan-1000", contract="acme-lb-2"),
        service("old-pip", "public-ip", contract="acme-lb"),
        service("new-pip", "public-ip", contract="acme-lb-2"),
    )
    assert result.of("S5") == []


def test_s5_renewal_that_keeps_the_old_services_still_excludes(world: World) -> None:
    result = world.with_(
        *_renewal(keep=True),
        service("old-net", "internet-lan-100", contract="acme-lb"),
        service("new-net", "internet-lan-1000", contract="acme-lb-2"),
        service("old-pip", "public-ip", contract="acme-lb"),
        service("new-pip", "public-ip", contract="acme-lb-2"),
    )
    messages = result.messages("S5")
    assert "new-net (internet-lan-1000) and old-net (internet-lan-100) are mutually" in messages
    assert "at most 1 public-ip at london-bridge: service old-pip and new-pip" in messages
