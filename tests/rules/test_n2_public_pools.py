"""N2: public IP services take addresses from the site's public pools, never the gateway or an
excluded address: pools must be well-formed, non-overlapping, and present where needed."""

from typing import Any

from reconciler.findings import Severity
from tests.rules.conftest import World, assert_at, definition, service, site

POOL: dict[str, Any] = {
    "name": "transit",
    "cidr": "203.0.113.0/26",
    "gateway": "203.0.113.1",
    "exclude": ["203.0.113.2"],
}


def test_n2_public_ip_service_at_a_site_with_pools_is_fine(world: World) -> None:
    result = world.with_(service("acme-net", "internet-lan-100"), service("acme-pip", "public-ip"))
    assert result.of("N2") == []


def test_n2_pool_name_used_twice_is_rejected(world: World) -> None:
    second = {**POOL, "cidr": "198.51.100.0/28", "gateway": "198.51.100.1", "exclude": []}
    result = world.with_(site(publicPools=[POOL, second]))
    finding = result.one("N2")
    assert finding.severity is Severity.ERROR
    assert "public pool name transit used twice" in finding.message
    assert_at(result, finding, "Site", "london-bridge", "name: transit")


def test_n2_gateway_outside_the_pool_is_rejected(world: World) -> None:
    result = world.with_(site(publicPools=[{**POOL, "gateway": "198.51.100.1"}]))
    finding = result.one("N2")
    assert "gateway 198.51.100.1 is not a host address of 203.0.113.0/26" in finding.message
    assert_at(result, finding, "Site", "london-bridge", "gateway: 198.51.100.1")


def test_n2_gateway_on_the_network_or_broadcast_address_is_rejected(world: World) -> None:
    for address in ("203.0.113.0", "203.0.113.63"):
        result = world.with_(site(publicPools=[{**POOL, "gateway": address}]))
        assert f"gateway {address} is not a host address" in result.one("N2").message


def test_n2_excluded_address_outside_the_pool_is_rejected(world: World) -> None:
    result = world.with_(site(publicPools=[{**POOL, "exclude": ["203.0.113.2", "203.0.114.9"]}]))
    finding = result.one("N2")
    assert "excluded address 203.0.114.9 is outside 203.0.113.0/26" in finding.message
    assert_at(result, finding, "Site", "london-bridge", "203.0.114.9")


def test_n2_overlapping_pools_are_rejected_naming_both(world: World) -> None:
    other = {"name": "extra", "cidr": "203.0.113.32/28", "gateway": "203.0.113.33"}
    result = world.with_(site(publicPools=[POOL, other]))
    finding = result.one("N2")
    assert "public pool 203.0.113.32/28 overlaps 203.0.113.0/26 (london-bridge/transit)" in (
        finding.message
    )
    assert_at(result, finding, "Site", "london-bridge", "203.0.113.32/28")


def test_n2_pools_of_two_sites_must_not_overlap(world: World) -> None:
    result = world.with_(site("canary-wharf", admins=["carol"], numberBlocks=[]))
    finding = result.one("N2")
    assert "site london-bridge: public pool 203.0.113.0/26 overlaps 203.0.113.0/26 " in (
        finding.message
    )
    assert "(canary-wharf/transit)" in finding.message


def test_n2_definition_with_public_ips_and_prefix_is_rejected(world: World) -> None:
    result = world.with_(
        definition("odd-ip", "public-ip", infrastructure={"publicIPs": 1, "publicPrefixLength": 29})
    )
    finding = result.one("N2")
    assert "odd-ip: give publicIPs or publicPrefixLength, not both" in finding.message
    assert_at(result, finding, "ServiceDefinition", "odd-ip", "publicIPs: 1")


def test_n2_public_ip_service_at_a_site_without_pools_is_rejected(world: World) -> None:
    result = world.with_(
        site(publicPools=[]),
        service("acme-net", "internet-lan-100"),
        service("acme-pip", "public-ip"),
    )
    finding = result.one("N2")
    assert (
        "service acme-pip needs public addresses but site london-bridge has no publicPools"
        in finding.message
    )
    assert_at(result, finding, "Service", "acme-pip", "definition: public-ip")
