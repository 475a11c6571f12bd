"""OpenVSwitchDriver against a real OVS data plane: isolation is proven with ping between
network namespaces, configuration goes over SSH to a private sshd on 127.0.0.1."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from drivers._ssh import SshOptions
from drivers.base import DriverError, PortIntent, SwitchIntent
from drivers.openvswitch import OpenVSwitchDriver

from .conftest import timed
from .netlab import OvsLab, ping, wait_ping

pytestmark = pytest.mark.lab

A, B, PARKING = 100, 200, 999


@pytest.fixture
def driver(ssh_options: SshOptions) -> OpenVSwitchDriver:
    return OpenVSwitchDriver(ssh_options)


def floor(lab: OvsLab, **ports: tuple[int, str, bool]) -> SwitchIntent:
    """Intent for all four lab ports; unnamed hosts are parked."""
    out = []
    for name in lab.hosts:
        vlan, desc, up = ports.get(name, (PARKING, "", False))
        out.append(PortIntent(lab.host(name).port, vlan, desc, up))
    return SwitchIntent(lab.endpoint(), tuple(out), vlans=(A, B, PARKING))


def reach(lab: OvsLab, src: str, dst: str) -> bool:
    return wait_ping(lab.host(src).ns, lab.host(dst).address, True, timeout_s=3)


def isolated(lab: OvsLab, src: str, dst: str) -> bool:
    return not ping(lab.host(src).ns, lab.host(dst).address, timeout_s=0.5)


def test_occupiers_reach_their_own_hosts_only(ovs_lab: OvsLab, driver: OpenVSwitchDriver) -> None:
    want = floor(ovs_lab, a1=(A, "acme desk 1", True), a2=(A, "acme desk 2", True),
                 b1=(B, "globex", True), b2=(B, "globex", True))
    t0 = time.monotonic()
    first = driver.apply(want, ovs_lab.credentials())
    timed("ovs apply (4 ports, changes)", time.monotonic() - t0)
    assert first.sessions == 1
    assert reach(ovs_lab, "a1", "a2")
    assert reach(ovs_lab, "b1", "b2")
    assert isolated(ovs_lab, "a1", "b1")
    assert isolated(ovs_lab, "a2", "b2")
    t0 = time.monotonic()
    second = driver.apply(want, ovs_lab.credentials())
    timed("ovs apply (4 ports, converged)", time.monotonic() - t0)
    assert second.commands == []
    assert len(second.reads) == 1


def test_release_parks_and_isolates_the_port(ovs_lab: OvsLab, driver: OpenVSwitchDriver) -> None:
    cred = ovs_lab.credentials()
    driver.apply(floor(ovs_lab, a1=(A, "acme", True), a2=(A, "acme", True),
                       b1=(B, "globex", True), b2=(B, "globex", True)), cred)
    assert reach(ovs_lab, "a1", "a2")
    released = floor(ovs_lab, a1=(A, "acme", True), b1=(B, "globex", True),
                     b2=(B, "globex", True))  # a2 released
    t = driver.apply(released, cred)
    assert t.commands[0].startswith("ovs-ofctl mod-port")  # dark before it moves
    a2 = ovs_lab.host("a2").port
    assert driver.read(released, cred)[a2] == PortIntent(a2, PARKING, "", False)
    assert ovs_lab.vsctl("get", "port", a2, "tag").strip() == str(PARKING)
    assert ovs_lab.vsctl("get", "interface", a2, "admin_state").strip() == "down"
    assert isolated(ovs_lab, "a1", "a2")
    assert isolated(ovs_lab, "b1", "a2")
    assert driver.apply(released, cred).commands == []


def test_vlan_change_the_port_follows(ovs_lab: OvsLab, driver: OpenVSwitchDriver) -> None:
    cred = ovs_lab.credentials()
    driver.apply(floor(ovs_lab, a1=(A, "acme", True), a2=(A, "acme", True),
                       b1=(B, "globex", True), b2=(B, "globex", True)), cred)
    assert reach(ovs_lab, "b1", "b2")
    moved = floor(ovs_lab, a1=(A, "acme", True), a2=(A, "acme", True),
                  b1=(A, "acme", True), b2=(B, "globex", True))  # b1 now belongs to A
    t0 = time.monotonic()
    driver.apply(moved, cred)
    assert reach(ovs_lab, "a1", "b1")
    timed("ovs retag -> first ping reply", time.monotonic() - t0)
    assert isolated(ovs_lab, "b1", "b2")
    assert driver.apply(moved, cred).commands == []


def test_parked_port_after_vswitchd_forgets_admin_state_is_taken_down_again(
    ovs_lab: OvsLab, driver: OpenVSwitchDriver
) -> None:
    """`ovs-ofctl mod-port down` is not stored in OVSDB; the driver reads the real state."""
    cred = ovs_lab.credentials()
    parked = floor(ovs_lab, a1=(A, "acme", True))
    driver.apply(parked, cred)
    b1 = ovs_lab.host("b1").port
    ovs_lab.ofctl("mod-port", ovs_lab.bridge, b1, "up")  # what a vswitchd restart does
    t = driver.apply(parked, cred)
    assert t.commands == [f"ovs-ofctl mod-port {ovs_lab.bridge} {b1} down"]
    assert driver.read(parked, cred)[b1].enabled is False


def test_voice_vlan_makes_a_native_untagged_port(
    ovs_lab: OvsLab, driver: OpenVSwitchDriver
) -> None:
    cred = ovs_lab.credentials()
    a1, a2 = ovs_lab.host("a1").port, ovs_lab.host("a2").port
    want = SwitchIntent(ovs_lab.endpoint(), (PortIntent(a1, A, "acme", True, voice_vlan=40),
                                             PortIntent(a2, A, "acme", True)))
    driver.apply(want, cred)
    assert ovs_lab.vsctl("get", "port", a1, "vlan_mode").strip() == "native-untagged"
    assert driver.read(want, cred)[a1].voice_vlan == 40
    assert reach(ovs_lab, "a1", "a2")  # untagged data traffic still in the native VLAN
    assert driver.apply(want, cred).commands == []


def test_hostile_description_is_refused(ovs_lab: OvsLab, driver: OpenVSwitchDriver) -> None:
    a1 = ovs_lab.host("a1").port
    want = SwitchIntent(ovs_lab.endpoint(), (PortIntent(a1, A, 'x" -- del-br br0', True),))
    with pytest.raises(DriverError) as err:
        driver.apply(want, ovs_lab.credentials())
    assert not err.value.temporary
    assert ovs_lab.bridge in ovs_lab.vsctl("list-br")


def test_unknown_port_is_refused(ovs_lab: OvsLab, driver: OpenVSwitchDriver) -> None:
    want = SwitchIntent(ovs_lab.endpoint(), (PortIntent("tpnope", A, "", True),))
    with pytest.raises(DriverError) as err:
        driver.apply(want, ovs_lab.credentials())
    assert not err.value.temporary
    assert "no such port" in err.value.reason


def test_local_transport(ovs_lab: OvsLab, monkeypatch: pytest.MonkeyPatch) -> None:
    """transport=local runs ovs-vsctl on this host (the reconciler runs on the switch)."""
    for key, value in ovs_lab.env.items():
        if key.startswith("OVS_"):
            monkeypatch.setenv(key, value)
    driver = OpenVSwitchDriver(transport="local")
    want = floor(ovs_lab, a1=(A, "acme", True), a2=(A, "acme", True))
    t = driver.apply(want, None)
    assert t.sessions == 0
    assert driver.apply(want, None).commands == []


def test_strict_host_key_checking_with_known_hosts(ovs_lab: OvsLab, tmp_path: Path) -> None:
    """The production default: strict checking; the lab's key is known, a stranger's is not."""
    assert ovs_lab.sshd is not None
    want = floor(ovs_lab, a1=(A, "acme", True), a2=(A, "acme", True))
    known = OpenVSwitchDriver(SshOptions(known_hosts_file=str(ovs_lab.sshd.known_hosts)))
    known.apply(want, ovs_lab.credentials())
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    stranger = OpenVSwitchDriver(SshOptions(known_hosts_file=str(empty), timeout_s=5))
    with pytest.raises(DriverError) as err:
        stranger.apply(want, ovs_lab.credentials())
    assert "host key" in err.value.reason
    assert err.value.temporary is False  # an unknown host key is not retried
