"""Drift on the real network labs (issue 15): someone changes a device by hand — a port moved
to another VLAN on the Cisco simulator, an Open vSwitch port retagged, an FRR route deleted —
`tenantry drift` exits 2 naming exactly that resource, `tenantry apply` repairs it (and the
data plane works again), and `drift` exits 0. Resources tenantry does not manage (a port it
was never given, a route outside the public pool) are never reported. An unreachable switch
gives exit 1 naming it, while drift on the other devices is still reported.

The labs, the generated repo and the CLI runs are those of test_apply_e2e.py.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from drivers._ssh import SshOptions, open_cli
from drivers.cisco_iosxe import _definition

from .labrepo import ACME_NEXT_HOP, PUBLIC_IP
from .netlab import free_port, wait_ping
from .test_apply_e2e import World, isolated, reach, tenantry_bin, world, world_c  # noqa: F401  (fixtures)

pytestmark = pytest.mark.lab


def drift(w: World, fmt: str = "json") -> tuple[int, Any, str]:
    """`tenantry drift` with the devices' drivers: (exit code, parsed JSON or text, stderr)."""
    res = subprocess.run(
        [*w.cli, "drift", str(w.repo), "--drivers", "devices", "--state", str(w.state),
         "--format", fmt],
        capture_output=True, text=True, env=w.base_env(), timeout=120,
    )
    out = json.loads(res.stdout) if fmt == "json" else res.stdout
    return res.returncode, out, res.stderr


def differences(report: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [
        (d["device"], x["resource"], x["running"], x["intended"])
        for d in report["devices"] for x in d["differences"]
    ]


def applied(w: World) -> None:
    first = w.apply()
    assert first.rc == 0, first.out
    rc, report, err = drift(w)
    assert rc == 0, (report, err)


def repaired(w: World, device: str, resource: str) -> None:
    """`apply` repairs the drift (and says so); afterwards `drift` exits 0."""
    fix = w.apply()
    assert fix.rc == 0, fix.out
    assert f"repaired {device} {resource}: " in fix.out, fix.out
    assert fix.transcript["devices"][device]["repairs"][0][0] == resource
    rc, report, err = drift(w)
    assert rc == 0, (report, err)


def test_cisco_port_moved_to_another_vlan_by_hand(world_c: World) -> None:  # noqa: F811
    w = world_c
    assert w.cisco is not None
    applied(w)
    by_hand = open_cli(w.cisco.endpoint("sw-cisco"), w.cisco.credentials(), _definition(),
                       SshOptions(strict_host_key=False, timeout_s=10), enable=True)
    try:
        res = by_hand.send_inputs(["interface GigabitEthernet0/1", "switchport access vlan 150"],
                                  requested_mode="configuration")
        assert not res.failed
    finally:
        by_hand.close()

    rc, report, _ = drift(w)
    assert rc == 2, report
    [(device, resource, running, intended)] = differences(report)
    assert (device, resource) == ("sw-cisco", "port GigabitEthernet0/1")
    assert running.startswith("vlan 150, up") and intended.startswith("vlan 100, up")
    [found] = [x for d in report["devices"] for x in d["differences"]]
    assert found["occupier"] == "acme" and found["services"] == ["acme-lab-c-lan"]

    repaired(w, "sw-cisco", "port GigabitEthernet0/1")
    assert w.cisco_ports()["GigabitEthernet0/1"].vlan == 100


def test_ovs_port_retagged_by_hand(world: World) -> None:  # noqa: F811
    w = world
    applied(w)
    a1 = w.ovs.host("a1").port
    globex_vlan = w.ovs_port_state("b1")[0]
    stray = f"tx{w.ovs.uid}x"  # a port tenantry was never given: never reported
    w.ovs.vsctl("add-port", w.ovs.bridge, stray, "tag=555", "--", "set", "interface", stray,
                "type=internal")
    try:
        w.ovs.vsctl("set", "port", a1, f"tag={globex_vlan}")
        w.ovs.vsctl("set", "port", stray, "tag=556")
        assert reach(w, "a1", "b1"), "acme's desk now sits in globex's VLAN"

        rc, report, _ = drift(w)
        assert rc == 2, report
        [(device, resource, running, intended)] = differences(report)
        assert (device, resource) == ("sw-ovs", f"port {a1}")
        assert running.startswith(f"vlan {globex_vlan}") and intended.startswith("vlan 100")

        repaired(w, "sw-ovs", f"port {a1}")
        assert w.ovs_port_state("a1") == (100, "up")
        assert reach(w, "a1", "a2") and isolated(w, "a1", "b1")
        assert w.ovs.vsctl("get", "port", stray, "tag").strip() == "556"  # left alone
    finally:
        w.ovs.vsctl("--if-exists", "del-port", w.ovs.bridge, stray)


def test_frr_route_removed_by_hand(world: World) -> None:  # noqa: F811
    w = world
    applied(w)
    assert wait_ping(w.frr.ns_inet, PUBLIC_IP, want=True), w.frr_routes()
    ours = f"ip route {PUBLIC_IP}/32 {ACME_NEXT_HOP}"
    theirs = "ip route 192.0.2.128/25 blackhole"  # outside the public pool: not tenantry's
    w.frr.vty("configure terminal", f"no {ours}", theirs)
    try:
        assert wait_ping(w.frr.ns_inet, PUBLIC_IP, want=False)
        rc, text, _ = drift(w, "human")
        assert rc == 2, text
        lines = [line.strip() for line in text.splitlines() if line.strip().startswith("~")]
        assert lines == [f"~ route {PUBLIC_IP}/32: has absent; should have via "
                         f"{ACME_NEXT_HOP} [acme: acme-lab-public-ip]"]
        assert "device rtr (frr)" in text

        repaired(w, "rtr", f"route {PUBLIC_IP}/32")
        assert wait_ping(w.frr.ns_inet, PUBLIC_IP, want=True), w.frr_routes()
        assert theirs in w.frr_routes()  # left alone
    finally:
        w.frr.vty("configure terminal", f"no {theirs}")


def test_unreachable_switch_is_named_while_drift_elsewhere_is_reported(world_c: World) -> None:  # noqa: F811
    w = world_c
    applied(w)
    a1 = w.ovs.host("a1").port
    w.ovs.vsctl("set", "port", a1, "tag=101")
    w.cisco_port = free_port()  # the switch is not reachable there
    w.write()
    rc, report, _ = drift(w)
    assert rc == 1, report
    [cisco] = [d for d in report["devices"] if d["device"] == "sw-cisco"]
    assert not cisco["readable"] and "unreachable" in cisco["error"]
    assert differences(report) == [("sw-ovs", f"port {a1}", "vlan 101, up, 'acme desk 1'",
                                    "vlan 100, up, 'acme desk 1'")]
    rc, text, _ = drift(w, "human")
    assert rc == 1
    assert "device sw-cisco (cisco_iosxe): could not be read:" in text
    assert "1 could not be read (sw-cisco)" in text

    w.cisco_port = None
    repaired(w, "sw-ovs", f"port {a1}")
