"""D3 seen by the rules: once an occupier is decommissioned, its number activations, Wi-Fi
device MACs, spaces and floor ports no longer block the next occupier (T2, T3, N3)."""

from tests.rules.conftest import World, contract, occupier, service

GONE = {"confirm": "Acme Ltd", "irreversible": True, "at": "2026-11-01"}
NUMBER = {"site": "london-bridge", "number": "+442079460001", "handset": "digital"}
DEVICE = {"name": "printer", "mac": "02:00:00:00:00:01", "site": "london-bridge"}
PORT = {"site": "london-bridge", "floorPort": "F3-01", "role": "internet", "device": "dock"}


def newcomer() -> list[dict]:  # type: ignore[type-arg]
    return [
        occupier(
            "bravo", activations={"numbers": [NUMBER], "floorPorts": [PORT]}, wifiDevices=[DEVICE]
        ),
        contract("bravo-lb", "bravo", start="2026-11-10"),  # acme's suite-301
        service("bravo-voice", "voice-line", occupier="bravo"),
        service("bravo-net", "internet-lan-100", occupier="bravo"),
        service("bravo-dev", "wifi-device", occupier="bravo"),
    ]


def acme(decommission: dict | None) -> list[dict]:  # type: ignore[type-arg]
    extra = {"decommission": decommission} if decommission else {}
    return [
        occupier(
            activations={"numbers": [NUMBER], "floorPorts": [PORT]}, wifiDevices=[DEVICE], **extra
        ),
        service("acme-voice", "voice-line"),
        service("acme-net", "internet-lan-100"),
        service("acme-dev", "wifi-device"),
    ]


def test_d3_live_occupier_still_blocks_the_newcomer(world: World) -> None:
    result = world.with_(*acme(None), *newcomer())
    assert result.errors("T2") and result.errors("T3") and result.errors("N3")


def test_d3_decommissioned_occupier_frees_number_mac_space_and_port(world: World) -> None:
    result = world.with_(*acme(GONE), *newcomer())
    for rule in ("T2", "T3", "N3"):
        assert result.errors(rule) == [], result.messages(rule)
