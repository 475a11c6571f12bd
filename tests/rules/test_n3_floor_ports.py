"""N3: switch ports come from the floor ports in the spaces of the occupier's contracts: each
floor port is in one space and behind one switch port, each activation uses one of the
occupier's floor ports, and no floor port or space is held twice."""

import copy
from typing import Any

from reconciler.findings import Severity
from tests.rules.conftest import SITE, World, assert_at, contract, occupier, service, site


def _activate(*ports: str, role: str = "internet") -> dict[str, Any]:
    return {"floorPorts": [{"site": "london-bridge", "floorPort": p, "role": role} for p in ports]}


def _switches() -> list[dict[str, Any]]:
    return copy.deepcopy(SITE["spec"]["switches"])


def test_n3_activating_a_floor_port_of_a_contract_space_is_fine(world: World) -> None:
    result = world.with_(
        occupier(activations=_activate("F3-01")), service("acme-net", "internet-lan-100")
    )
    assert result.of("N3") == []


def test_n3_space_declared_twice_is_rejected(world: World) -> None:
    spaces = [*SITE["spec"]["spaces"], {"name": "suite-302", "floorPorts": []}]
    result = world.with_(site(spaces=spaces))
    finding = result.one("N3")
    assert finding.severity is Severity.ERROR
    assert "site london-bridge: space suite-302 declared twice" in finding.message
    assert_at(result, finding, "Site", "london-bridge", "name: suite-302")


def test_n3_floor_port_in_two_spaces_is_rejected_naming_both(world: World) -> None:
    spaces = [
        {"name": "suite-301", "floorPorts": ["F3-01", "F3-02", "F3-03", "F3-04"]},
        {"name": "suite-302", "floorPorts": ["F3-04", "F3-05", "F3-06"]},
    ]
    result = world.with_(site(spaces=spaces))
    finding = result.one("N3")
    assert "floor port F3-04 is in both suite-301 and suite-302" in finding.message
    assert_at(result, finding, "Site", "london-bridge", "F3-04")


def test_n3_switch_declared_twice_is_rejected(world: World) -> None:
    switches = _switches()
    switches.append({"name": "lb-sw1", "platform": "render", "host": "192.0.2.12"})
    result = world.with_(site(switches=switches))
    finding = result.one("N3")
    assert "switch lb-sw1 declared twice" in finding.message
    assert_at(result, finding, "Site", "london-bridge", "name: lb-sw1")


def test_n3_switch_interface_listed_twice_is_rejected(world: World) -> None:
    switches = _switches()
    switches[0]["ports"][5]["interface"] = "GigabitEthernet1/0/5"
    result = world.with_(site(switches=switches))
    finding = result.errors("N3")[0]
    assert "lb-sw1 GigabitEthernet1/0/5 is listed twice" in finding.message
    assert_at(result, finding, "Site", "london-bridge", "GigabitEthernet1/0/5")


def test_n3_floor_port_behind_two_switch_ports_is_rejected_naming_both(world: World) -> None:
    switches = _switches()
    switches[0]["ports"][5]["floorPort"] = "F3-05"
    result = world.with_(site(switches=switches))
    messages = result.messages("N3")
    assert (
        "floor port F3-05 is behind both lb-sw1 GigabitEthernet1/0/5 and lb-sw1 "
        "GigabitEthernet1/0/6" in messages
    )
    assert "floor port F3-06 is not behind any switch port" in messages


def test_n3_switch_port_to_a_floor_port_in_no_space_is_rejected(world: World) -> None:
    switches = _switches()
    switches[0]["ports"].append({"interface": "GigabitEthernet1/0/7", "floorPort": "F9-99"})
    result = world.with_(site(switches=switches))
    finding = result.one("N3")
    assert "floor port F9-99 is not in any space" in finding.message
    assert_at(result, finding, "Site", "london-bridge", "F9-99")


def test_n3_floor_port_not_behind_any_switch_is_rejected(world: World) -> None:
    spaces = [*SITE["spec"]["spaces"], {"name": "suite-303", "floorPorts": ["F3-07"]}]
    result = world.with_(site(spaces=spaces))
    finding = result.one("N3")
    assert "floor port F3-07 is not behind any switch port" in finding.message
    assert finding.hint == "add it to a switch's ports"
    assert_at(result, finding, "Site", "london-bridge", "F3-07")


def test_n3_contract_for_an_unknown_space_is_rejected(world: World) -> None:
    result = world.with_(contract(spaces=["suite-301", "suite-999"]))
    finding = result.one("N3")
    assert "contract acme-lb: site london-bridge has no space 'suite-999'" in finding.message
    assert_at(result, finding, "Contract", "acme-lb", "suite-999")


def test_n3_space_leased_to_two_occupiers_at_once_is_rejected_naming_both(world: World) -> None:
    result = world.with_(
        occupier("globex"), contract("globex-lb", occupier="globex", start="2026-06-01")
    )
    finding = result.one("N3")
    assert (
        "space suite-301 at london-bridge is leased to both acme (acme-lb) and globex "
        "(globex-lb) at the same time"
    ) in finding.message
    assert_at(result, finding, "Contract", "globex-lb", "suite-301")


def test_n3_space_leased_one_after_the_other_is_fine(world: World) -> None:
    result = world.with_(
        contract(end="2026-05-31"),
        occupier("globex"),
        contract("globex-lb", occupier="globex", start="2026-06-01"),
    )
    assert result.of("N3") == []


def test_n3_floor_port_activated_by_two_occupiers_is_rejected_naming_both(world: World) -> None:
    result = world.with_(
        occupier(activations=_activate("F3-05")),
        occupier("globex", activations=_activate("F3-05")),
        contract(spaces=["suite-301", "suite-302"]),
        contract("globex-lb", occupier="globex", spaces=[]),
        service("acme-net", "internet-lan-100"),
        service("globex-net", "internet-lan-100", occupier="globex"),
    )
    finding = result.one("N3")
    assert "floor port F3-05 at london-bridge is activated by both acme and globex" in (
        finding.message
    )
    assert_at(result, finding, "Occupier", "globex", "F3-05")


def test_n3_unknown_floor_port_is_rejected(world: World) -> None:
    result = world.with_(
        occupier(activations=_activate("F9-99")), service("acme-net", "internet-lan-100")
    )
    finding = result.one("N3")
    assert "occupier acme: site london-bridge has no floor port F9-99" in finding.message
    assert_at(result, finding, "Occupier", "acme", "F9-99")


def test_n3_floor_port_outside_the_occupiers_spaces_is_rejected(world: World) -> None:
    result = world.with_(
        occupier(activations=_activate("F3-05")), service("acme-net", "internet-lan-100")
    )
    finding = result.one("N3")
    assert (
        "occupier acme: floor port F3-05 is in suite-302, which is not a space of its "
        "contracts at london-bridge"
    ) in finding.message
    assert_at(result, finding, "Occupier", "acme", "F3-05")


def test_n3_ended_keep_contract_with_live_services_keeps_its_ports(world: World) -> None:
    result = world.with_(
        contract(end="2026-06-30"),
        occupier(activations=_activate("F3-01")),
        service("acme-net", "internet-lan-100"),
    )
    assert result.of("N3") == []


def test_n3_ended_deprovision_contract_releases_its_ports(world: World) -> None:
    result = world.with_(
        contract(end="2026-06-30", atEnd="deprovision"),
        occupier(activations=_activate("F3-01")),
        service("acme-net", "internet-lan-100"),
    )
    assert "floor port F3-01 is in suite-301, which is not a space of its contracts" in (
        result.messages("N3")
    )
