"""S8: upgrade is make-before-break: `replaces: <old>` names a service of the same occupier and
site, one upgrade at a time; the pair is exempt from `excludes` meanwhile (seed 000)."""

from reconciler.findings import Severity
from tests.rules.conftest import World, assert_at, contract, occupier, service


def test_s8_upgrade_replacing_the_old_line_is_fine(world: World) -> None:
    result = world.with_(
        service("acme-net-100", "internet-lan-100"),
        service("acme-net-1000", "internet-lan-1000", replaces="acme-net-100"),
    )
    assert result.of("S8") == [] and result.of("S5") == []


def test_s8_replacing_an_unknown_service_is_rejected(world: World) -> None:
    result = world.with_(service("acme-net-1000", "internet-lan-1000", replaces="acme-net-10"))
    finding = result.one("S8")
    assert finding.severity is Severity.ERROR
    assert (
        finding.message
    ) == "service acme-net-1000 replaces 'acme-net-10', which is not a service"
    assert_at(result, finding, "Service", "acme-net-1000", "replaces: acme-net-10")


def test_s8_replacing_itself_is_rejected(world: World) -> None:
    result = world.with_(service("acme-net", "internet-lan-100", replaces="acme-net"))
    assert "(it names itself)" in result.one("S8").message


def test_s8_replacing_another_occupiers_service_is_rejected(world: World) -> None:
    result = world.with_(
        occupier("globex"),
        contract("globex-lb", occupier="globex", spaces=["suite-302"]),
        service("globex-net", "internet-lan-100", occupier="globex"),
        service("acme-net", "internet-lan-1000", replaces="globex-net"),
    )
    finding = result.one("S8")
    assert finding.message == (
        "service acme-net replaces globex-net, which belongs to globex at london-bridge, "
        "not acme at london-bridge"
    )
    assert_at(result, finding, "Service", "acme-net", "replaces: globex-net")


def test_s8_two_upgrades_of_one_service_are_rejected_naming_both(world: World) -> None:
    result = world.with_(
        service("acme-net-100", "internet-lan-100"),
        service("acme-net-a", "internet-lan-1000", replaces="acme-net-100"),
        service("acme-net-b", "internet-lan-1000", replaces="acme-net-100"),
    )
    finding = result.one("S8")
    assert "services acme-net-a and acme-net-b both replace acme-net-100" in finding.message
    assert_at(result, finding, "Service", "acme-net-b", "replaces: acme-net-100")
