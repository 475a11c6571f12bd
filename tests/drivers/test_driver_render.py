"""render: properties of the written configuration, no golden files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivers.base import (
    DriverError,
    Endpoint,
    GatewayIntent,
    NumberIntent,
    PortIntent,
    RouteIntent,
    RouterIntent,
    SwitchIntent,
    TelephonyIntent,
    WifiDeviceIntent,
    WifiGroupIntent,
    WifiIntent,
    WifiUserIntent,
)
from drivers.registry import create_driver
from drivers.render import RenderDriver, render

SW = Endpoint("sw-floor3", "cisco_iosxe", "10.0.0.3")


def switch(*ports: PortIntent) -> SwitchIntent:
    return SwitchIntent(SW, ports, vlans=(999, 214))


PORTS = (
    PortIntent("GigabitEthernet0/10", 214, "acme desk 10", True),
    PortIntent("GigabitEthernet0/2", 214, "acme desk 2", True, voice_vlan=40),
    PortIntent("GigabitEthernet0/1", 999),
)


def test_switch_file_has_every_port_in_natural_order() -> None:
    name, text = render(switch(*PORTS))
    assert name == "sw-floor3.switch.cfg"
    heads = [line for line in text.splitlines() if line.startswith("interface ")]
    assert heads == ["interface GigabitEthernet0/1", "interface GigabitEthernet0/2",
                     "interface GigabitEthernet0/10"]
    assert text.index("vlan 214") < text.index("vlan 999") < text.index("interface")
    block = text.split("interface GigabitEthernet0/1\n")[1].split("!")[0]
    assert " shutdown" in block and " switchport access vlan 999" in block
    assert " no description" in block
    assert " switchport voice vlan 40" in text


def test_order_of_the_intent_does_not_change_the_file() -> None:
    assert render(switch(*PORTS)) == render(switch(*reversed(PORTS)))


def test_rewriting_the_same_intent_counts_zero_commands(tmp_path: Path) -> None:
    driver = RenderDriver(tmp_path)
    first = driver.apply(switch(*PORTS))
    assert first.commands and first.sessions == 0
    assert driver.apply(switch(*PORTS)).commands == []
    changed = driver.apply(switch(PORTS[0], PORTS[1], PortIntent("GigabitEthernet0/1", 214)))
    assert "+ switchport access vlan 214" in changed.commands
    assert "- switchport access vlan 999" in changed.commands
    assert [p.name for p in tmp_path.iterdir()] == ["sw-floor3.switch.cfg"]  # no temp files


def test_hostile_description_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DriverError) as err:
        RenderDriver(tmp_path).apply(switch(PortIntent("Gi0/1", 214, "x\nreload", True)))
    assert not err.value.temporary
    assert list(tmp_path.iterdir()) == []


def test_router_routes_sorted_and_gateways_rendered() -> None:
    intent = RouterIntent(
        Endpoint("rtr1", "frr", "10.0.0.1"),
        (RouteIntent("203.0.113.16/29", "198.51.100.6"),
         RouteIntent("203.0.113.10/29", "198.51.100.6"),
         RouteIntent("2001:db8:1::/48", "2001:db8::2")),
        gateways=(GatewayIntent(214, "10.64.14.1/24", "acme"),),
        managed_prefixes=("203.0.113.0/24",),
    )
    name, text = render(intent)
    assert name == "rtr1.router.conf"
    routes = [line for line in text.splitlines() if " route " in line]
    assert routes == ["ip route 203.0.113.8/29 198.51.100.6",  # normalised network
                      "ip route 203.0.113.16/29 198.51.100.6",
                      "ipv6 route 2001:db8:1::/48 2001:db8::2"]
    assert "interface vlan214\n description acme\n ip address 10.64.14.1/24" in text


def test_telephony_and_wifi_are_stable_json_without_secrets() -> None:
    tel = TelephonyIntent(Endpoint("sip1", "kamailio", "10.0.0.5"),
                          (NumberIntent("+442079460002", "cooling-off", "acme", "2026-12-01"),
                           NumberIntent("+442079460001", "active", "acme")),
                          logout=("+442079460002",))
    name, text = render(tel)
    doc = json.loads(text)
    assert name == "sip1.telephony.json"
    assert [n["number"] for n in doc["numbers"]] == ["+442079460001", "+442079460002"]
    wifi = WifiIntent(Endpoint("radius1", "freeradius", "10.0.0.6"),
                      (WifiGroupIntent("occ-acme", 214),),
                      (WifiUserIntent("alice", "occ-acme", "wifi/alice"),),
                      (WifiDeviceIntent("02-00-00-00-00-01", "occ-acme"),))
    _, wtext = render(wifi)
    assert json.loads(wtext)["users"] == [
        {"username": "alice", "group": "occ-acme", "secret_ref": "wifi/alice"}]
    assert render(wifi) == render(wifi)


def test_file_names_cannot_escape_the_directory(tmp_path: Path) -> None:
    intent = switch()
    evil = SwitchIntent(Endpoint("../../etc/passwd", "render", "-"), (), ())
    RenderDriver(tmp_path).apply(evil)
    written = list(tmp_path.iterdir())
    assert len(written) == 1 and written[0].is_file()
    assert "/" not in written[0].name and not written[0].name.startswith(".")
    assert render(intent)[0] == "sw-floor3.switch.cfg"


def test_registry_gives_render_by_default_out_dir_from_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENANTRY_RENDER_DIR", str(tmp_path / "out"))
    driver = create_driver("render")
    driver.apply(switch(*PORTS))
    assert (tmp_path / "out" / "sw-floor3.switch.cfg").exists()
