"""Drift per platform, on the pure change functions each driver's `diff` uses: only the
resources tenantry manages are reported, each with its occupier; a driver that cannot read
says so (a ReadError) instead of reporting in sync. The lab tests do the same on the real
components (tests/labs/*/test_drift_*.py)."""

from __future__ import annotations

import pytest

from drivers import frr, kamailio
from drivers.base import (
    Endpoint,
    GatewayIntent,
    PortIntent,
    ReadError,
    RouteIntent,
    RouterIntent,
    SwitchIntent,
    Transcript,
    decode_intent,
    encode_intent,
)
from drivers.cisco_iosxe import parse_running_config
from drivers.contract import SwitchRunning, switch_changes
from tests.drivers.toy_switch import ToyDevice, ToySwitchDriver

SW = Endpoint("sw1", "cisco_iosxe", "127.0.0.1")
RTR = Endpoint("rtr1", "frr", "127.0.0.1")


def test_switch_drift_reports_managed_ports_only_with_their_occupier() -> None:
    running, _ = parse_running_config(
        "interface GigabitEthernet0/1\n switchport mode access\n switchport access vlan 150\n"
        " description acme router\n!\n"
        "interface GigabitEthernet0/2\n switchport mode access\n switchport access vlan 7\n!\n"
    )
    intent = SwitchIntent(SW, (PortIntent("GigabitEthernet0/1", 102, "acme router", True,
                                          None, "acme"),))
    [change] = switch_changes(SwitchRunning(running), intent)
    assert change.resource == "port GigabitEthernet0/1"  # Gi0/2 (vlan 7) is not tenantry's
    assert change.running.startswith("vlan 150") and change.intended.startswith("vlan 102")
    assert change.occupier == "acme"


def test_router_drift_ignores_routes_outside_the_managed_pools() -> None:
    running = frr.parse_router(
        "ip route 198.51.100.0/24 192.0.2.1\n"  # the operator's own: unmanaged
        "interface eth0\n ip address 192.0.2.2/24\nexit\n"
        "interface vlan102\n ip address 10.64.0.1/24\n description acme\nexit\n"
    )
    intent = RouterIntent(RTR, (RouteIntent("203.0.113.4/32", "10.64.0.2", "acme"),),
                          (GatewayIntent(102, "10.64.0.1/24", "acme"),), ("203.0.113.0/24",))
    [change] = frr.router_changes(running, intent, "vlan{vlan}")
    assert (change.resource, change.running, change.intended, change.occupier) == (
        "route 203.0.113.4/32", "absent", "via 10.64.0.2", "acme")


def test_telephony_drift_names_the_deleted_live_number() -> None:
    entry = kamailio.Entry("active", "acme", None, "main")
    running = kamailio.Running({"+442079460001": entry}, {}, frozenset())
    [change] = kamailio.number_changes(running, {"+442079460001": entry}, ())
    assert change.resource == "number +442079460001" and change.occupier == "acme"
    assert "live table: absent" in change.running


class Unreadable(ToySwitchDriver):
    def read_switch(self, session: object, intent: SwitchIntent,
                    transcript: Transcript) -> SwitchRunning:
        raise OSError("connection reset by peer")


def test_a_driver_that_cannot_read_raises_instead_of_reporting_in_sync() -> None:
    ToySwitchDriver.devices["drift-unreadable"] = ToyDevice({})
    intent = SwitchIntent(Endpoint("toy1", "toy", "drift-unreadable"), ())
    with pytest.raises(ReadError, match="connection reset"):
        Unreadable().drift(intent)


def test_the_recorded_intent_round_trips() -> None:
    intent = RouterIntent(RTR, (RouteIntent("203.0.113.4/32", "10.64.0.2", "acme"),),
                          (GatewayIntent(102, "10.64.0.1/24", "acme"),), ("203.0.113.0/24",))
    assert decode_intent(encode_intent(intent)) == intent
    with pytest.raises(ValueError, match="not a recorded intent"):
        decode_intent('{"kind": "fax"}')
