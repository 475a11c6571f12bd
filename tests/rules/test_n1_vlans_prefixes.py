"""N1: each occupier gets its own VLAN from the site range (never a reserved one) and its own
private prefix from the site supernet: the site's pools must be well-formed for that."""

from typing import Any

from reconciler.findings import Severity
from tests.rules.conftest import SITE, World, assert_at, site


def _vlans(**changes: Any) -> dict[str, Any]:
    return {**SITE["spec"]["vlans"], **changes}


def test_n1_well_formed_site_pools_are_fine(world: World) -> None:
    result = world.with_(site(vlans=_vlans(range="2-4094", reserved=[2], parking=1, voice=None)))
    assert result.of("N1") == []


def test_n1_vlan_range_beyond_4094_is_rejected(world: World) -> None:
    result = world.with_(site(vlans=_vlans(range="100-5000")))
    finding = result.one("N1")
    assert finding.severity is Severity.ERROR
    assert "VLAN range 100-5000 must be within 1-4094, first ≤ last" in finding.message
    assert_at(result, finding, "Site", "london-bridge", "range: 100-5000")


def test_n1_vlan_range_backwards_is_rejected(world: World) -> None:
    result = world.with_(site(vlans=_vlans(range="899-100")))
    assert "VLAN range 899-100 must be within 1-4094" in result.one("N1").message


def test_n1_reserved_vlan_outside_the_range_is_rejected(world: World) -> None:
    result = world.with_(site(vlans=_vlans(reserved=[100, 950])))
    finding = result.one("N1")
    assert "reserved VLAN 950 is outside the range 100-899" in finding.message
    assert_at(result, finding, "Site", "london-bridge", "950")


def test_n1_parking_vlan_inside_the_occupier_range_is_rejected(world: World) -> None:
    result = world.with_(site(vlans=_vlans(parking=500)))
    finding = result.one("N1")
    assert "parking VLAN 500 is inside the occupier range 100-899" in finding.message
    assert finding.hint == "reserve it or move it outside the range"
    assert_at(result, finding, "Site", "london-bridge", "parking: 500")


def test_n1_voice_vlan_inside_the_range_is_fine_when_reserved(world: World) -> None:
    bad = world.with_(site(vlans=_vlans(voice=101, reserved=[100])))
    assert "voice VLAN 101 is inside the occupier range" in bad.one("N1").message
    ok = world.with_(site(vlans=_vlans(voice=101, reserved=[100, 101])))
    assert ok.of("N1") == []


def test_n1_prefix_not_longer_than_the_supernet_is_rejected(world: World) -> None:
    result = world.with_(site(privateSupernet={"cidr": "10.64.0.0/16", "prefixLength": 16}))
    finding = result.one("N1")
    assert "per-occupier prefix /16 must be longer than the supernet 10.64.0.0/16" in (
        finding.message
    )
    assert_at(result, finding, "Site", "london-bridge", "prefixLength: 16")


def test_n1_public_pool_overlapping_the_private_supernet_is_rejected(world: World) -> None:
    pool = {"name": "oops", "cidr": "10.64.1.0/29", "gateway": "10.64.1.1"}
    result = world.with_(site(publicPools=[*SITE["spec"]["publicPools"], pool]))
    finding = result.one("N1")
    assert "public pool 10.64.1.0/29 overlaps the private supernet 10.64.0.0/16" in (
        finding.message
    )
    assert_at(result, finding, "Site", "london-bridge", "10.64.1.0/29")
