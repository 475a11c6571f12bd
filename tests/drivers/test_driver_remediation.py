"""Pure remediation functions: round trips (apply the remediation to running → intended)
and idempotence, hier_config style. No devices involved."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from drivers import cisco_iosxe, frr, openvswitch
from drivers.base import Endpoint, PortIntent, RouteIntent, RouterIntent, SwitchIntent

EP = Endpoint("sw1", "cisco_iosxe", "127.0.0.1")
NAMES = [f"GigabitEthernet0/{i}" for i in range(1, 6)]
texts = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 ()#-", max_size=20).map(str.strip)
vlans = st.integers(1, 4094)


def port(name: str) -> st.SearchStrategy[PortIntent]:
    return st.builds(PortIntent, st.just(name), vlans, texts, st.booleans(),
                     st.none() | vlans)


running_ports = st.fixed_dictionaries(
    {n: st.one_of(port(n), port(n).map(lambda p: replace(p, vlan=cisco_iosxe.NOT_ACCESS)))
     for n in NAMES})
intended_ports = st.lists(st.sampled_from(NAMES), unique=True, min_size=1).flatmap(
    lambda names: st.tuples(*(port(n) for n in names)))


def apply_ios(running: dict[str, PortIntent], lines: list[str]) -> dict[str, PortIntent]:
    """A tiny IOS model: enough to replay remediation lines."""
    out = dict(running)
    current = ""
    for line in lines:
        body = line.strip()
        if not line.startswith(" "):
            current = body.split()[1] if body.startswith("interface ") else ""
            continue
        if not current:
            continue
        p = out[current]
        if body == "switchport mode access":
            p = replace(p, vlan=1 if p.vlan == cisco_iosxe.NOT_ACCESS else p.vlan)
        elif body.startswith("switchport access vlan "):
            p = replace(p, vlan=int(body.split()[-1]))
        elif body.startswith("switchport voice vlan "):
            p = replace(p, voice_vlan=int(body.split()[-1]))
        elif body == "no switchport voice vlan":
            p = replace(p, voice_vlan=None)
        elif body.startswith("description "):
            p = replace(p, description=body[len("description "):])
        elif body == "no description":
            p = replace(p, description="")
        elif body in ("shutdown", "no shutdown"):
            p = replace(p, enabled=body == "no shutdown")
        out[current] = p
    return out


@given(running_ports, intended_ports)
def test_cisco_round_trip(running: dict[str, PortIntent], ports: tuple[PortIntent, ...]) -> None:
    intent = SwitchIntent(EP, ports)
    lines = cisco_iosxe.remediation(running, intent)
    after = apply_ios(running, lines)
    for p in ports:
        # whitespace runs in a description are not significant (some CLIs collapse them)
        got = after[p.interface]
        assert replace(got, description=" ".join(got.description.split())) == replace(
            p, description=" ".join(p.description.split()))
    assert cisco_iosxe.remediation(after, intent) == []
    # untouched ports stay untouched
    managed = {p.interface for p in ports}
    assert all(after[n] == running[n] for n in NAMES if n not in managed)


@given(intended_ports)
def test_cisco_parse_of_rendered_config_is_converged(ports: tuple[PortIntent, ...]) -> None:
    intent = SwitchIntent(EP, ports)
    text = "\n".join(line for p in ports for line in cisco_iosxe.intended_lines(p)
                     if line.strip() not in ("no description", "no shutdown"))
    running, _ = cisco_iosxe.parse_running_config(text)
    assert cisco_iosxe.remediation(running, intent) == []


def test_cisco_parking_order_and_vlan_creation() -> None:
    running = {"Gi0/1": PortIntent("Gi0/1", 214, "acme", True, 40)}
    lines = cisco_iosxe.remediation(running, SwitchIntent(EP, (PortIntent("Gi0/1", 999),),
                                                          vlans=(999,)), running_vlans={1, 214})
    assert lines == ["vlan 999", " exit", "interface Gi0/1", " shutdown",
                     " switchport access vlan 999", " no switchport voice vlan",
                     " no description"]


def test_ovs_remediation_orders_down_txn_up() -> None:
    ep = Endpoint("ovs", "openvswitch", "127.0.0.1")
    running = {"p1": PortIntent("p1", 100, "", True), "p2": PortIntent("p2", 999, "", False)}
    intent = SwitchIntent(ep, (PortIntent("p1", 999), PortIntent("p2", 200, "globex", True)))
    lines = openvswitch.remediation(running, intent, {"p1": "br0", "p2": "br0"})
    assert lines[0] == "ovs-ofctl mod-port br0 p1 down"
    assert lines[1].startswith("ovs-vsctl --timeout=10 -- set port p1 tag=999")
    assert lines[-1] == "ovs-ofctl mod-port br0 p2 up"
    assert len(lines) == 3  # all OVSDB changes in one transaction


def test_ovs_parse_list_output() -> None:
    text = (
        '{"data":[[["uuid","u1"],"p1",100,["set",[]],["set",[]],'
        '["map",[["tenantry-description","a b"]]]],'
        '[["uuid","u2"],"p2",100,"native-untagged",40,["map",[]]],'
        '[["uuid","u3"],"p3",["set",[]],"trunk",["set",[1,2]],["map",[]]]],'
        '"headings":["_uuid","name","tag","vlan_mode","trunks","external_ids"]}\n'
        '{"data":[["p1","up"],["p2","down"],["p3","up"]],"headings":["name","admin_state"]}\n'
        '{"data":[["br0",["set",[["uuid","u1"],["uuid","u2"]]]],["br1",["uuid","u3"]]],'
        '"headings":["name","ports"]}\n'
    )
    running, bridges = openvswitch.parse_list_output(text)
    assert running["p1"] == PortIntent("p1", 100, "a b", True)
    assert running["p2"] == PortIntent("p2", 100, "", False, 40)
    assert running["p3"].vlan == openvswitch.NOT_ACCESS
    assert bridges == {"p1": "br0", "p2": "br0", "p3": "br1"}


def test_frr_remediation_adds_before_removing_and_leaves_unmanaged() -> None:
    running = frr.parse_static_routes(
        "ip route 203.0.113.16/29 198.51.100.6\nip route 10.0.0.0/8 192.0.2.1\n"
        "vrf blue\n ip route 203.0.113.24/29 198.51.100.6\nexit-vrf\n")
    intent = RouterIntent(Endpoint("r", "frr", "x"),
                          (RouteIntent("203.0.113.10/29", "198.51.100.6"),),
                          managed_prefixes=("203.0.113.0/24",))
    assert frr.remediation(running, intent) == [
        "ip route 203.0.113.8/29 198.51.100.6", "no ip route 203.0.113.16/29 198.51.100.6"]
    after = (running - {frr.StaticRoute("203.0.113.16/29", "198.51.100.6")}) | {
        frr.StaticRoute("203.0.113.8/29", "198.51.100.6")}
    assert frr.remediation(after, intent) == []
