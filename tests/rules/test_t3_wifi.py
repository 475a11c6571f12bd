"""T3: Wi-Fi users and devices count against their allocations (S7); a MAC is unique per site;
Wi-Fi is only where the occupier has a contract (seeds 000, 002)."""

from typing import Any

from reconciler.findings import Severity
from tests.rules.conftest import World, assert_at, contract, occupier, service, site


def _device(name: str, mac: str, where: str = "london-bridge") -> dict[str, Any]:
    return {"name": name, "mac": mac, "site": where}


def _devices(owner: str = "acme", quantity: int = 2) -> dict[str, Any]:
    return service(f"{owner}-dev", "wifi-device", occupier=owner, quantity=quantity)


def test_t3_devices_and_users_within_their_allocation_are_fine(world: World) -> None:
    result = world.with_(
        occupier(
            wifiDevices=[
                _device("printer", "00:11:22:33:44:55"),
                _device("tv", "00:11:22:33:44:66"),
            ],
            users=[
                {"name": "ann", "email": "ann@acme.example", "wifi": True},
                {"name": "bob", "email": "bob@acme.example", "wifi": ["london-bridge"]},
            ],
        ),
        _devices(),
        service("acme-wifi", "wifi-user", quantity=2),
    )
    assert result.of("T3") == [] and result.of("S7") == []


def test_t3_wifi_devices_count_against_their_allocation(world: World) -> None:
    result = world.with_(
        occupier(
            wifiDevices=[
                _device("printer", "00:11:22:33:44:55"),
                _device("tv", "00:11:22:33:44:66"),
            ]
        ),
        _devices(quantity=1),
    )
    finding = result.one("S7")
    assert "Wi-Fi devices 2/1 for acme at london-bridge" in finding.message
    assert_at(result, finding, "Occupier", "acme", "name: tv")


def test_t3_same_mac_twice_at_a_site_is_rejected_naming_both(world: World) -> None:
    result = world.with_(
        occupier(wifiDevices=[_device("printer", "00:11:22:33:44:55")]),
        occupier("globex", wifiDevices=[_device("tv", "00-11-22-33-44-55")]),
        contract("globex-lb", occupier="globex", spaces=["suite-302"]),
        _devices(),
        _devices("globex"),
    )
    finding = result.one("T3")
    assert finding.severity is Severity.ERROR
    assert (
        "MAC 00-11-22-33-44-55 at london-bridge is used by both acme/printer and globex/tv"
        in finding.message
    )
    assert_at(result, finding, "Occupier", "globex", "00-11-22-33-44-55")


def test_t3_mac_is_compared_regardless_of_case_within_one_occupier(world: World) -> None:
    result = world.with_(
        occupier(
            wifiDevices=[
                _device("printer", "aa:bb:cc:dd:ee:ff"),
                _device("copier", "AA:BB:CC:DD:EE:FF"),
            ]
        ),
        _devices(),
    )
    assert "used by both acme/printer and acme/copier" in result.one("T3").message


def test_t3_same_mac_at_two_sites_is_fine(world: World) -> None:
    result = world.with_(
        site("canary-wharf", admins=["carol"], publicPools=[], numberBlocks=[]),
        contract("acme-cw", site="canary-wharf"),
        occupier(
            wifiDevices=[
                _device("laptop", "00:11:22:33:44:55"),
                _device("laptop-cw", "00:11:22:33:44:55", "canary-wharf"),
            ]
        ),
        service("acme-dev", "wifi-device", contract="acme-lb"),
        service("acme-dev-cw", "wifi-device", site="canary-wharf"),
    )
    assert result.of("T3") == []
    assert [f.text() for f in result.findings if f.is_error] == []


def test_t3_device_at_a_site_without_a_contract_is_rejected(world: World) -> None:
    result = world.with_(
        site("canary-wharf", admins=["carol"], publicPools=[], numberBlocks=[]),
        occupier(wifiDevices=[_device("printer", "00:11:22:33:44:55", "canary-wharf")]),
    )
    finding = result.errors("T3")[0]
    assert "Wi-Fi device printer: acme has no contract at canary-wharf" in finding.message
    assert_at(result, finding, "Occupier", "acme", "site: canary-wharf")


def test_t3_user_declared_twice_is_rejected(world: World) -> None:
    result = world.with_(
        occupier(
            users=[
                {"name": "ann", "email": "ann@acme.example"},
                {"name": "ann", "email": "ann2@acme.example"},
            ]
        )
    )
    finding = result.one("T3")
    assert "occupier acme: user ann declared twice" in finding.message
    assert_at(result, finding, "Occupier", "acme", "name: ann")


def test_t3_user_wifi_at_a_site_without_a_contract_is_rejected(world: World) -> None:
    result = world.with_(
        site("canary-wharf", admins=["carol"], publicPools=[], numberBlocks=[]),
        occupier(users=[{"name": "ann", "email": "ann@acme.example", "wifi": ["canary-wharf"]}]),
    )
    finding = result.errors("T3")[0]
    assert "user ann: acme has no contract at canary-wharf" in finding.message
    assert_at(result, finding, "Occupier", "acme", "- canary-wharf")
