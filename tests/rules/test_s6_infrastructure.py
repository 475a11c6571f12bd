"""S6: provisioned infrastructure X/Y for the five types: X in use (declared activations), Y
allocated by the live services (seed 000, "Provisioned infrastructure")."""

from datetime import date

from reconciler.catalogue import Infra, Usage, infrastructure
from reconciler.model.repo import Repo
from tests.rules.conftest import TODAY, World, contract, definition, occupier, service


def _repo(world: World, *docs: dict[str, object]) -> Repo:
    result = world.with_(*docs)  # type: ignore[arg-type]
    assert [f.text() for f in result.findings if f.is_error] == []
    assert result.repo is not None
    return result.repo


def test_s6_occupier_without_services_has_nothing_allocated(world: World) -> None:
    repo = _repo(world)
    row = infrastructure(repo, "acme", "london-bridge", TODAY)
    assert row == {kind: Usage(0, 0) for kind in Infra}
    assert list(row) == [
        Infra.SWITCH_PORTS,
        Infra.PHONE_NUMBERS,
        Infra.PUBLIC_IPS,
        Infra.WIFI_DEVICES,
        Infra.WIFI_USERS,
    ]


def test_s6_public_ip_and_internet_lan_show_switch_ports_0_of_3(world: World) -> None:
    """The seed's example: no services, add one Public IP and one Internet (LAN only)."""
    repo = _repo(world, service("acme-net", "internet-lan-100"), service("acme-pip", "public-ip"))
    row = infrastructure(repo, "acme", "london-bridge", TODAY)
    assert row[Infra.SWITCH_PORTS] == Usage(in_use=0, allocated=3)
    assert str(row[Infra.SWITCH_PORTS]) == "0/3"
    assert row[Infra.PUBLIC_IPS] == Usage(0, 1)
    assert row[Infra.PHONE_NUMBERS] == Usage(0, 0)
    assert row[Infra.WIFI_DEVICES] == Usage(0, 0)
    assert row[Infra.WIFI_USERS] == Usage(0, 0)


def test_s6_activations_count_as_in_use(world: World) -> None:
    repo = _repo(
        world,
        occupier(
            activations={
                "floorPorts": [
                    {"site": "london-bridge", "floorPort": "F3-01", "role": "internet"},
                    {"site": "london-bridge", "floorPort": "F3-02", "role": "voice"},
                ],
                "numbers": [{"site": "london-bridge", "number": "+442079460001"}],
            },
            wifiDevices=[{"name": "printer", "mac": "00:11:22:33:44:55", "site": "london-bridge"}],
            users=[
                {"name": "ann", "email": "ann@acme.example", "wifi": True},
                {"name": "bob", "email": "bob@acme.example"},
            ],
        ),
        service("acme-net", "internet-lan-100"),
        service("acme-voice", "voice-line", quantity=2),
        service("acme-wifi", "wifi-user", quantity=3),
        service("acme-dev", "wifi-device"),
    )
    row = infrastructure(repo, "acme", "london-bridge", TODAY, public_in_use=0)
    assert row[Infra.SWITCH_PORTS] == Usage(2, 3)
    assert row[Infra.PHONE_NUMBERS] == Usage(1, 2)
    assert row[Infra.WIFI_DEVICES] == Usage(1, 1)
    assert row[Infra.WIFI_USERS] == Usage(1, 3)


def test_s6_quantity_multiplies_the_allocation_per_unit(world: World) -> None:
    repo = _repo(world, service("acme-net", "internet-lan-100", quantity=4))
    assert infrastructure(repo, "acme", "london-bridge", TODAY)[Infra.SWITCH_PORTS] == Usage(0, 4)


def test_s6_public_prefix_counts_usable_addresses(world: World) -> None:
    repo = _repo(
        world,
        definition("public-29", "public-ip", infrastructure={"publicPrefixLength": 29}),
        service("acme-block", "public-29"),
    )
    # a /29 has 8 addresses: network, broadcast and the gateway are not the occupier's
    assert infrastructure(repo, "acme", "london-bridge", TODAY)[Infra.PUBLIC_IPS] == Usage(0, 5)


def test_s6_scheduled_service_is_allocated_but_deprovisioned_one_is_not(world: World) -> None:
    repo = _repo(
        world,
        contract(end="2026-06-30", atEnd="deprovision"),
        contract("acme-lb-2", start="2027-01-01", spaces=["suite-301"]),
        service("acme-old", "voice-line", contract="acme-lb"),
        service("acme-new", "internet-lan-100", contract="acme-lb-2"),
    )
    row = infrastructure(repo, "acme", "london-bridge", TODAY)
    assert row[Infra.PHONE_NUMBERS] == Usage(0, 0)
    assert row[Infra.SWITCH_PORTS] == Usage(0, 1)


def test_s6_row_is_per_site(world: World) -> None:
    repo = _repo(world, service("acme-net", "internet-lan-100"))
    assert infrastructure(repo, "acme", "elsewhere", date(2026, 11, 23)) == {
        kind: Usage(0, 0) for kind in Infra
    }
