"""FrrDriver against real FRR daemons in a namespace: reachability of an occupier's public
address from an "internet" namespace proves the route, vtysh goes over SSH."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from drivers._ssh import SshOptions
from drivers.base import Credentials, DriverError, RouteIntent, RouterIntent
from drivers.frr import FrrDriver, StaticRoute

from .conftest import timed
from .netlab import FrrLab, wait_ping

pytestmark = pytest.mark.lab

POOL = "203.0.113.0/24"


@pytest.fixture
def driver(frr_lab: FrrLab, ssh_options: SshOptions) -> FrrDriver:
    return FrrDriver(ssh_options, vtysh=frr_lab.vtysh)


def routes(lab: FrrLab, *prefixes: str) -> RouterIntent:
    return RouterIntent(
        lab.endpoint(),
        tuple(RouteIntent(p, lab.xfer_occ) for p in prefixes),
        managed_prefixes=(POOL,),
    )


def test_public_address_answers_only_while_routed(frr_lab: FrrLab, driver: FrrDriver) -> None:
    cred = frr_lab.credentials()
    driver.apply(routes(frr_lab), cred)
    assert wait_ping(frr_lab.ns_inet, frr_lab.public_ip, want=False)

    want = routes(frr_lab, frr_lab.public_block)
    t0 = time.monotonic()
    first = driver.apply(want, cred)
    timed("frr apply (1 route, change)", time.monotonic() - t0)
    assert first.commands == [f"ip route {frr_lab.public_block} {frr_lab.xfer_occ}"]
    assert wait_ping(frr_lab.ns_inet, frr_lab.public_ip, want=True)
    timed("frr apply -> first ping reply", time.monotonic() - t0)
    assert "proto static" in frr_lab.kernel_routes(frr_lab.public_block)

    t0 = time.monotonic()
    again = driver.apply(want, cred)
    timed("frr apply (converged)", time.monotonic() - t0)
    assert again.commands == []

    released = driver.apply(routes(frr_lab), cred)
    assert released.commands == [f"no ip route {frr_lab.public_block} {frr_lab.xfer_occ}"]
    assert wait_ping(frr_lab.ns_inet, frr_lab.public_ip, want=False)
    assert driver.apply(routes(frr_lab), cred).commands == []


def test_routes_outside_the_managed_pools_are_never_touched(
    frr_lab: FrrLab, driver: FrrDriver
) -> None:
    frr_lab.vty(
        "configure terminal",
        f"ip route 10.99.0.0/16 {frr_lab.xfer_occ}",
        f"ip route 203.0.113.64/29 {frr_lab.xfer_occ}",
    )
    try:
        t = driver.apply(routes(frr_lab, "203.0.113.10/32"), frr_lab.credentials())
        # the stray route inside the pool goes, the one outside stays
        assert f"no ip route 203.0.113.64/29 {frr_lab.xfer_occ}" in t.commands
        running = driver.read(routes(frr_lab), frr_lab.credentials())
        assert StaticRoute("10.99.0.0/16", frr_lab.xfer_occ) in running
        assert StaticRoute("203.0.113.10/32", frr_lab.xfer_occ) in running
        assert wait_ping(frr_lab.ns_inet, frr_lab.public_ip, want=True)
    finally:
        frr_lab.vty("configure terminal", f"no ip route 10.99.0.0/16 {frr_lab.xfer_occ}")
        driver.apply(routes(frr_lab), frr_lab.credentials())


def test_rejected_line_rolls_back_the_whole_change(frr_lab: FrrLab, driver: FrrDriver) -> None:
    cred = frr_lab.credentials()
    driver.apply(routes(frr_lab, "203.0.113.16/29"), cred)
    # moving .16/29 to a blackhole is added before the old next hop is removed (make before
    # break), and FRR refuses a route with blackhole and real next hops at once
    bad = RouterIntent(
        frr_lab.endpoint(),
        (RouteIntent("203.0.113.8/29", frr_lab.xfer_occ), RouteIntent("203.0.113.16/29", "Null0")),
        managed_prefixes=(POOL,),
    )
    with pytest.raises(DriverError) as err:
        driver.apply(bad, cred)
    assert err.value.temporary is False
    assert "blackhole" in err.value.reason
    running = {r for r in driver.read(bad, cred) if r.prefix.startswith("203.")}
    assert running == {StaticRoute("203.0.113.16/29", frr_lab.xfer_occ)}  # old, not half-new
    assert wait_ping(frr_lab.ns_inet, frr_lab.public_ip, want=False)
    driver.apply(routes(frr_lab), cred)


def test_wrong_key_is_a_permanent_error(frr_lab: FrrLab, driver: FrrDriver, tmp_path: Path) -> None:
    key = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    with pytest.raises(DriverError) as err:
        driver.apply(routes(frr_lab), Credentials("root", private_key=str(key)))
    assert err.value.temporary is False


def test_local_transport(frr_lab: FrrLab) -> None:
    driver = FrrDriver(transport="local", vtysh=frr_lab.vtysh)
    want = routes(frr_lab, frr_lab.public_block)
    t = driver.apply(want, None)
    assert t.sessions == 0 and t.commands
    assert wait_ping(frr_lab.ns_inet, frr_lab.public_ip, want=True)
    assert driver.apply(want, None).commands == []
    driver.apply(routes(frr_lab), None)


def test_hostile_next_hop_is_refused(frr_lab: FrrLab, driver: FrrDriver) -> None:
    bad = RouterIntent(
        frr_lab.endpoint(),
        (RouteIntent("203.0.113.8/29", "1.2.3.4; reboot"),),
        managed_prefixes=(POOL,),
    )
    with pytest.raises(DriverError) as err:
        driver.apply(bad, frr_lab.credentials())
    assert err.value.temporary is False


def test_occupier_gateways_are_configured_changed_and_removed(
    frr_lab: FrrLab, driver: FrrDriver
) -> None:
    """Each occupier's VLAN interface gets its gateway address and description; zebra holds
    it until the OS creates the interface. A re-run sends nothing; a released occupier's
    interface is stripped; interfaces outside the naming pattern are never touched."""
    from drivers.base import GatewayIntent

    cred = frr_lab.credentials()

    def gateways(*items: GatewayIntent) -> RouterIntent:
        return RouterIntent(frr_lab.endpoint(), (), items, managed_prefixes=(POOL,))

    acme = GatewayIntent(102, "10.64.0.1/24", "acme")
    bravo = GatewayIntent(103, "10.64.1.1/24", "bravo")
    first = driver.apply(gateways(acme, bravo), cred)
    assert "ip address 10.64.0.1/24" in first.commands
    config = frr_lab.vty("show running-config")
    assert "interface vlan102\n description acme\n ip address 10.64.0.1/24" in config
    assert "interface vlan103\n description bravo\n ip address 10.64.1.1/24" in config
    assert driver.apply(gateways(acme, bravo), cred).commands == []
    # acme's prefix changes, bravo leaves
    moved = GatewayIntent(102, "10.64.7.1/24", "acme")
    second = driver.apply(gateways(moved), cred)
    assert second.commands == [
        "interface vlan102",
        "ip address 10.64.7.1/24",
        "no ip address 10.64.0.1/24",
        "exit",
        "interface vlan103",
        "no description",
        "no ip address 10.64.1.1/24",
        "exit",
    ]
    config = frr_lab.vty("show running-config")
    assert "10.64.7.1/24" in config and "10.64.0.1/24" not in config
    assert "10.64.1.1/24" not in config
    assert "to-occ" in frr_lab.vty("show interface brief")  # unmanaged: untouched
    assert driver.apply(gateways(moved), cred).commands == []
    driver.apply(gateways(), cred)
    assert "10.64.7.1/24" not in frr_lab.vty("show running-config")
