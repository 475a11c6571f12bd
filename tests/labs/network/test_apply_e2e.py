"""`tenantry apply` end to end: the real CLI (a subprocess) against the lab switches and router.

A small desired-state repo (labrepo.py) describes two sites whose devices are the running labs:

* site `lab`:   Open vSwitch `sw-ovs` (namespaces a1 a2 b1 b2 behind floor ports O-A1..O-B2)
                and FRR `rtr` (public pool 203.0.113.8/29, the occupier namespace holds the
                next hop of acme's prefix, 10.64.0.2, and its public address 203.0.113.10)
* site `lab-c`: the Cisco simulator `sw-cisco` (floor ports C1..C4 on GigabitEthernet0/1..4)

Occupiers: acme (O-A1, O-A2, a public IP, C1) and globex (O-B1, O-B2, C3). What the devices
received comes from `tenantry apply --transcript FILE`; service statuses from the ledger.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from drivers._ssh import SshOptions
from drivers.base import DriverError, PortIntent, RouteIntent, RouterIntent, SwitchIntent
from drivers.cisco_iosxe import CiscoIosxeDriver
from drivers.frr import FrrDriver
from drivers.openvswitch import OpenVSwitchDriver
from reconciler.ledger import open_ledger

from .conftest import timed
from .labrepo import (
    ACME_NEXT_HOP,
    PUBLIC_IP,
    PUBLIC_POOL,
    TODAY,
    Occupier,
    Router,
    Site,
    Switch,
    Tenancy,
    write_repo,
)
from .netlab import FakeCiscoLab, FrrLab, OvsLab, free_port, ping, wait_ping

pytestmark = pytest.mark.lab

PARKING = 999
CISCO_IFACES = {f"GigabitEthernet0/{n}": f"C{n}" for n in range(1, 5)}


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def tenantry_bin(requirements: Any) -> list[str]:
    """The installed console script: the CLI exactly as an operator runs it."""
    return [requirements.binary(str(Path(sys.executable).parent / "tenantry"))]


@dataclass
class Run:
    rc: int
    out: str  # stdout + stderr
    transcript: dict[str, Any] = field(default_factory=dict)

    def commands(self, device: str) -> list[str]:
        return list(self.transcript.get("devices", {}).get(device, {}).get("commands", []))


@dataclass
class World:
    """The labs, the generated repo and a ledger; `apply()` / `plan()` run the real CLI."""

    root: Path
    cli: list[str]
    ovs: OvsLab
    frr: FrrLab
    cisco: FakeCiscoLab | None = None
    env: dict[str, str] = field(default_factory=dict)
    # the desired state, changed by the tests between runs
    acme_lab: dict[str, str] = field(default_factory=lambda: {"O-A1": "desk 1", "O-A2": "desk 2"})
    acme_spaces: list[str] = field(default_factory=lambda: ["space-a1", "space-a2"])
    acme_public_ip: bool = True
    globex_lab: dict[str, str] = field(default_factory=lambda: {"O-B1": "pc 1", "O-B2": "pc 2"})
    globex_spaces: list[str] = field(default_factory=lambda: ["space-b"])
    globex: bool = True
    globex_leaves: bool = False  # decommissioned: its contracts run, so it leaves by D1 (G1)
    acme_cisco: dict[str, str] = field(default_factory=lambda: {"C1": "desk"})
    cisco_port: int | None = None  # default: the lab's
    cisco_range: str = "100-199"
    acme_stopped: bool = False

    @property
    def repo(self) -> Path:
        return self.root / "repo"

    @property
    def state(self) -> Path:
        return self.root / "state.db"

    def write(self) -> Path:
        ovs_ports = {self.ovs.host(h).port: f"O-{h.upper()}" for h in self.ovs.hosts}
        sites = [
            Site(
                "lab",
                [Switch("sw-ovs", "openvswitch", self.ovs_port, ovs_ports)],
                {"space-a1": ["O-A1"], "space-a2": ["O-A2"], "space-b": ["O-B1", "O-B2"]},
                router=Router("rtr", self.frr_port),
                public_pool=PUBLIC_POOL,
            ),
        ]
        acme = [
            Tenancy("lab", self.acme_spaces, dict(self.acme_lab), public_ip=self.acme_public_ip)
        ]
        globex = [Tenancy("lab", self.globex_spaces, dict(self.globex_lab))]
        if self.cisco is not None:
            port = self.cisco_port or self.cisco.port
            sites.append(
                Site(
                    "lab-c",
                    [Switch("sw-cisco", "cisco_iosxe", port, CISCO_IFACES)],
                    {"suite-a": ["C1", "C2"], "suite-b": ["C3", "C4"]},
                    vlan_range=self.cisco_range,
                )
            )
            acme.append(
                Tenancy(
                    "lab-c",
                    ["suite-a"],
                    dict(self.acme_cisco),
                    reserved_ports=0 if self.acme_cisco else 1,
                )
            )
            globex.append(Tenancy("lab-c", ["suite-b"], {"C3": "pc"}))
        occupiers = [Occupier("acme", acme, stopped=self.acme_stopped)]
        if self.globex:
            occupiers.append(Occupier("globex", globex, leaves=self.globex_leaves))
        return write_repo(self.repo, sites, occupiers)

    @property
    def ovs_port(self) -> int:
        assert self.ovs.sshd is not None
        return self.ovs.sshd.port

    @property
    def frr_port(self) -> int:
        assert self.frr.sshd is not None
        return self.frr.sshd.port

    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TENANTRY_")}
        env.update(
            TENANTRY_SSH_STRICT_HOST_KEY="0",
            TENANTRY_SSH_TIMEOUT="30",  # a loaded CI machine can take seconds to authenticate
            TENANTRY_FRR_VTYSH=shlex.join(self.frr.vtysh),
            **self.ovs.cred_env("sw-ovs"),
            **self.frr.cred_env("rtr"),
        )
        if self.cisco is not None:
            env.update(self.cisco.cred_env("sw-cisco"))
        env.update(self.env)
        return env

    def _run(self, args: list[str]) -> Run:
        transcript = self.root / "transcript.json"
        transcript.unlink(missing_ok=True)
        argv = [*self.cli, *args]
        if args[0] == "apply":
            argv += ["--transcript", str(transcript)]
        res = subprocess.run(argv, capture_output=True, text=True, env=self.base_env(), timeout=120)
        record = json.loads(transcript.read_text()) if transcript.exists() else {}
        return Run(res.returncode, res.stdout + res.stderr, record)

    def apply(self, *extra: str, state: Path | None = None) -> Run:
        self.write()
        return self._run(
            [
                "apply",
                str(self.repo),
                "--drivers",
                "devices",
                "--state",
                str(state or self.state),
                "--today",
                TODAY,
                *extra,
            ]
        )

    def plan(self) -> Run:
        self.write()
        return self._run(["plan", str(self.repo), "--state", str(self.state), "--today", TODAY])

    def statuses(self, state: Path | None = None) -> dict[str, tuple[str, str]]:
        ledger = open_ledger(str(state or self.state), create=False)
        assert ledger is not None
        return {n: (r.status, r.reason) for n, r in ledger.statuses("Service").items()}

    def holdings(self, state: Path | None = None) -> list[tuple[str, ...]]:
        ledger = open_ledger(str(state or self.state), create=False)
        assert ledger is not None
        return sorted(
            (a.site, str(a.kind), a.value, a.holder, str(a.state), a.role)
            for a in ledger.holdings().rows
        )

    # -- what the devices run now
    def ovs_port_state(self, host: str) -> tuple[int, str]:
        port = self.ovs.host(host).port
        tag = int(self.ovs.vsctl("get", "port", port, "tag").strip())
        admin = self.ovs.vsctl("get", "interface", port, "admin_state").strip()
        return tag, admin

    def cisco_ports(self) -> dict[str, PortIntent]:
        assert self.cisco is not None
        driver = CiscoIosxeDriver(SshOptions(strict_host_key=False, timeout_s=10))
        ports = tuple(PortIntent(i, PARKING) for i in CISCO_IFACES)
        intent = SwitchIntent(self.cisco.endpoint("sw-cisco"), ports)
        return driver.read(intent, self.cisco.credentials())

    def frr_routes(self) -> str:
        return self.frr.vty("show running-config")


@pytest.fixture
def world(tmp_path: Path, tenantry_bin: list[str], ovs_lab: OvsLab, frr_e2e: FrrLab) -> World:
    return World(tmp_path, tenantry_bin, ovs_lab, frr_e2e)


@pytest.fixture
def world_c(world: World, cisco_lab: FakeCiscoLab) -> World:
    world.cisco = cisco_lab
    return world


def secrets_of(world: World) -> list[str]:
    assert world.cisco is not None
    return [world.cisco.password, world.cisco.enable]


def converged(world: World) -> None:
    """Apply again: exit 0, zero configuration commands to any device, `plan` exits 0."""
    again = world.apply()
    assert again.rc == 0, again.out
    assert again.transcript["failures"] == {}
    for device, sent in again.transcript["devices"].items():
        assert sent["commands"] == [], (device, sent)
        assert sent["sessions"] <= 1, (device, sent)
    plan = world.plan()
    assert plan.rc == 0, plan.out


# ------------------------------------------------------------------ 1. idempotence


def test_apply_configures_every_device_then_a_second_apply_sends_nothing(world_c: World) -> None:
    w = world_c
    t0 = time.monotonic()
    first = w.apply()
    timed("e2e apply (3 devices, changes)", time.monotonic() - t0)
    assert first.rc == 0, first.out
    assert set(first.transcript["devices"]) == {"sw-cisco", "sw-ovs", "rtr"}
    for device in ("sw-cisco", "sw-ovs", "rtr"):
        assert first.commands(device), device
        assert first.transcript["devices"][device]["sessions"] == 1
    assert f"ip route {PUBLIC_IP}/32 {ACME_NEXT_HOP}" in first.commands("rtr")

    # what the devices run now
    cisco = w.cisco_ports()
    assert (cisco["GigabitEthernet0/1"].vlan, cisco["GigabitEthernet0/1"].enabled) == (100, True)
    assert cisco["GigabitEthernet0/1"].description == "acme desk"
    assert (cisco["GigabitEthernet0/3"].vlan, cisco["GigabitEthernet0/3"].enabled) == (101, True)
    for iface in ("GigabitEthernet0/2", "GigabitEthernet0/4"):
        assert (cisco[iface].vlan, cisco[iface].enabled) == (PARKING, False)
    assert w.ovs_port_state("a1") == (100, "up")
    assert w.ovs_port_state("a2") == (100, "up")
    assert w.ovs_port_state("b1") == (101, "up")
    assert f"ip route {PUBLIC_IP}/32 {ACME_NEXT_HOP}" in w.frr_routes()
    assert w.statuses()["acme-lab-lan"] == ("Active", "")

    t0 = time.monotonic()
    converged(w)
    timed("e2e no-op apply + plan (3 devices)", time.monotonic() - t0)
    assert not any(s in first.out for s in secrets_of(w))


# ------------------------------------------------------------------ 2. data plane


def reach(w: World, src: str, dst: str) -> bool:
    return wait_ping(w.ovs.host(src).ns, w.ovs.host(dst).address, True, timeout_s=3)


def isolated(w: World, src: str, dst: str) -> bool:
    return not ping(w.ovs.host(src).ns, w.ovs.host(dst).address, timeout_s=0.5)


def test_data_plane_follows_the_yaml(world: World) -> None:
    w = world
    first = w.apply()
    assert first.rc == 0, first.out
    assert reach(w, "a1", "a2") and reach(w, "b1", "b2")
    assert isolated(w, "a1", "b1") and isolated(w, "a2", "b2")
    assert wait_ping(w.frr.ns_inet, PUBLIC_IP, want=True), w.frr_routes()
    converged(w)

    # acme gives up desk 2: its floor port is released, parked and isolated
    w.acme_lab = {"O-A1": "desk 1"}
    w.acme_spaces = ["space-a1"]
    released = w.apply()
    assert released.rc == 0, released.out
    assert w.ovs_port_state("a2") == (PARKING, "down")
    assert isolated(w, "a1", "a2") and isolated(w, "a2", "b1")
    converged(w)

    # the floor port moves to globex: its VLAN changes and the data plane follows
    w.globex_lab = {"O-B1": "pc 1", "O-B2": "pc 2", "O-A2": "pc 3"}
    w.globex_spaces = ["space-b", "space-a2"]
    moved = w.apply()
    assert moved.rc == 0, moved.out
    assert w.ovs_port_state("a2") == (101, "up")
    assert reach(w, "a2", "b1")
    assert isolated(w, "a2", "a1")
    converged(w)

    # the public IP service ends: the route goes, the address no longer answers
    w.acme_public_ip = False
    gone = w.apply()
    assert gone.rc == 0, gone.out
    assert f"no ip route {PUBLIC_IP}/32 {ACME_NEXT_HOP}" in gone.commands("rtr")
    assert wait_ping(w.frr.ns_inet, PUBLIC_IP, want=False)
    assert PUBLIC_IP not in w.frr_routes()
    assert w.statuses()["acme-lab-public-ip"] == ("Inactive", "removed from the desired state")
    converged(w)


def test_stopped_occupier_ports_shut_then_restored(world_c: World) -> None:
    """Issue 19 (Splynx Stopped): a suspended occupier's switch ports go down on the OVS data
    plane and the Cisco switch, keeping their VLAN; nothing is released; removing the status
    brings them back up on the next apply."""
    w = world_c
    first = w.apply()
    assert first.rc == 0, first.out
    assert reach(w, "a1", "a2")
    held = w.holdings()
    acme_vlan = w.ovs_port_state("a1")[0]

    w.acme_stopped = True
    stopped = w.apply()
    assert stopped.rc == 0, stopped.out
    assert w.ovs_port_state("a1") == (acme_vlan, "down")
    assert w.ovs_port_state("a2") == (acme_vlan, "down")
    assert isolated(w, "a1", "a2")
    assert reach(w, "b1", "b2"), "globex is not touched"
    assert not w.cisco_ports()["GigabitEthernet0/1"].enabled
    assert w.holdings() == held, "nothing released"
    converged(w)

    w.acme_stopped = False
    resumed = w.apply()
    assert resumed.rc == 0, resumed.out
    assert w.ovs_port_state("a1") == (acme_vlan, "up")
    assert reach(w, "a1", "a2")
    assert w.cisco_ports()["GigabitEthernet0/1"].enabled
    assert w.holdings() == held
    converged(w)


# ------------------------------------------------------------------ 3. faults


def assert_failed_then_converges(w: World, run: Run, reason: str) -> None:
    """sw-cisco failed with `reason`; lab-c services Failed, site lab proceeded; exit 1."""
    assert run.rc == 1, run.out
    assert set(run.transcript["failures"]) == {"sw-cisco"}, run.transcript
    assert re.search(reason, run.transcript["failures"]["sw-cisco"]), run.transcript
    assert re.search(rf"FAILED sw-cisco: .*{reason}", run.out), run.out
    statuses = w.statuses()
    for service in ("acme-lab-c-lan", "globex-lab-c-lan"):
        status, why = statuses[service]
        assert status == "Failed", (service, statuses[service])
        assert "sw-cisco" in why and re.search(reason, why), why
    for service in ("acme-lab-lan", "globex-lab-lan", "acme-lab-public-ip"):
        assert statuses[service] == ("Active", ""), (service, statuses[service])
    # the other devices proceeded
    assert set(run.transcript["devices"]) == {"sw-ovs", "rtr"}
    assert w.ovs_port_state("a1") == (100, "up")
    assert f"ip route {PUBLIC_IP}/32 {ACME_NEXT_HOP}" in w.frr_routes()
    assert not any(s in run.out for s in secrets_of(w))


def fixed(w: World) -> None:
    again = w.apply()
    assert again.rc == 0, again.out
    assert all(s == "Active" for s, _ in w.statuses().values()), w.statuses()
    converged(w)


def test_unreachable_switch_fails_its_site_only_then_converges(world_c: World) -> None:
    w = world_c
    w.cisco_port = free_port()  # nothing listens there
    assert_failed_then_converges(w, w.apply(), "unreachable")
    w.cisco_port = None
    fixed(w)
    assert w.cisco_ports()["GigabitEthernet0/1"].vlan == 100


def test_wrong_password_fails_and_is_never_printed(world_c: World) -> None:
    w = world_c
    assert w.cisco is not None
    wrong = "Wr0ng-S3cret-pw"
    w.env = {"TENANTRY_CRED_SW_CISCO_PASSWORD": wrong}
    run = w.apply()
    assert_failed_then_converges(w, run, "authentication failed")
    assert wrong not in run.out
    w.env = {}
    fixed(w)


def test_rejected_command_fails_then_converges_without_it(world_c: World) -> None:
    w = world_c
    w.cisco_range = "4000-4010"  # acme gets VLAN 4000, which the lab switch refuses
    before = w.cisco_ports()["GigabitEthernet0/1"]
    run = w.apply()
    assert_failed_then_converges(w, run, "rejected")
    assert "Invalid input" in run.transcript["failures"]["sw-cisco"]
    # rolled back: not left in VLAN 4000 and otherwise as it was (the driver cannot restore
    # "not an access port" on a factory-fresh port, so `switchport mode access` stays)
    after = w.cisco_ports()["GigabitEthernet0/1"]
    assert after.vlan != 4000
    assert (after.description, after.enabled) == (before.description, before.enabled)
    # the operator takes the port out of service: VLAN 4000 is no longer needed on the switch
    w.acme_cisco = {}
    fixed(w)
    assert w.cisco_ports()["GigabitEthernet0/3"].vlan == 4001


def test_session_dropped_mid_push_fails_then_converges(world_c: World) -> None:
    w = world_c
    w.acme_cisco = {"C1": "DROP-SESSION"}  # the lab switch drops the session on this text
    assert_failed_then_converges(w, w.apply(), "session dropped|dropped|closed|EOF")
    w.acme_cisco = {"C1": "desk"}
    fixed(w)
    assert w.cisco_ports()["GigabitEthernet0/1"].description == "acme desk"


def test_kill_9_mid_apply_then_apply_converges_without_leaks(
    world_c: World, tmp_path: Path
) -> None:
    w = world_c
    assert w.apply().rc == 0
    # the change to interrupt: globex leaves (decommissioned: VLANs, prefixes, ports
    # released), acme drops its public IP (route removed, address released)
    w.globex_leaves = True
    w.acme_public_ip = False
    # the Cisco switch hangs: it accepts the TCP connection and never speaks, so this apply is
    # certainly still running (between its two ledger transactions) when it is killed
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(8)
    w.cisco_port = hung.getsockname()[1]
    w.write()
    argv = [
        *w.cli,
        "apply",
        str(w.repo),
        "--drivers",
        "devices",
        "--state",
        str(w.state),
        "--today",
        TODAY,
        "--parallel",
        "1",
    ]
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=w.base_env()
    )
    assert proc.stderr is not None
    seen: list[str] = []
    killer = threading.Timer(3.0, lambda: os.kill(proc.pid, signal.SIGKILL))
    killer.start()  # at the latest once the hung switch holds the run
    for line in proc.stderr:
        seen.append(line)
        if re.match(r"^\s+(\[\d+/\d+\] )?\S+: ok", line):  # first device done, next busy
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(30)
    killer.cancel()
    hung.close()
    w.cisco_port = None
    w.write()
    assert proc.returncode == -signal.SIGKILL, seen
    # killed between the two ledger transactions: globex's values are not released yet
    assert any(h[3] == "globex" for h in w.holdings())

    again = w.apply()
    assert again.rc == 0, again.out
    converged(w)
    # a clean run of the same two steps, rendered only, holds exactly the same values
    clean = tmp_path / "clean.db"
    out = tmp_path / "rendered"
    w.globex_leaves, w.acme_public_ip = False, True
    for _ in range(2):
        w.write()
        res = subprocess.run(
            [
                *w.cli,
                "apply",
                str(w.repo),
                "--state",
                str(clean),
                "--out",
                str(out),
                "--today",
                TODAY,
            ],
            capture_output=True,
            text=True,
            env=w.base_env(),
        )
        assert res.returncode == 0, res.stdout + res.stderr
        w.globex_leaves, w.acme_public_ip = True, False
    assert w.holdings() == w.holdings(clean)
    assert not any(h[3] == "globex" for h in w.holdings())
    assert w.cisco_ports()["GigabitEthernet0/3"].vlan == PARKING
    assert PUBLIC_IP not in w.frr_routes()


# ------------------------------------------------------------------ 4. injection


@pytest.mark.parametrize(
    "hostile",
    ["desk\ninterface GigabitEthernet0/2\n no shutdown", "desk; reload", "desk\r\nend", "desk\x00"],
)
def test_hostile_device_text_is_refused_with_its_position(world_c: World, hostile: str) -> None:
    w = world_c
    before = w.cisco_ports()
    w.acme_cisco = {"C1": hostile}
    run = w.apply()
    assert run.rc == 1, run.out
    assert re.search(r"occupiers/acme/occupier\.yaml:\d+:\d+: error", run.out), run.out
    assert run.transcript == {}  # nothing reached any device
    assert w.cisco_ports() == before
    assert not w.state.exists() or not w.holdings()


def test_hostile_device_name_is_refused(world_c: World) -> None:
    w = world_c
    w.write()
    site = w.repo / "sites" / "lab-c.yaml"
    site.write_text(site.read_text().replace("name: sw-cisco", 'name: "sw-cisco\\nreload"'))
    res = subprocess.run(
        [
            *w.cli,
            "apply",
            str(w.repo),
            "--drivers",
            "devices",
            "--state",
            str(w.state),
            "--today",
            TODAY,
        ],
        capture_output=True,
        text=True,
        env=w.base_env(),
    )
    assert res.returncode == 1
    assert re.search(r"sites/lab-c\.yaml:\d+:\d+: error", res.stdout), res.stdout


def test_cli_keywords_stay_inside_the_description(world_c: World) -> None:
    """Allowed characters only, but IOS words: they end up as the description text, nothing
    else on the switch changes."""
    w = world_c
    w.acme_cisco = {"C1": "end interface GigabitEthernet0/2 no shutdown"}
    run = w.apply()
    assert run.rc == 0, run.out
    ports = w.cisco_ports()
    assert ports["GigabitEthernet0/1"].description == (
        "acme end interface GigabitEthernet0/2 no shutdown"
    )
    assert (ports["GigabitEthernet0/2"].vlan, ports["GigabitEthernet0/2"].enabled) == (
        PARKING,
        False,
    )
    converged(w)


def test_drivers_refuse_hostile_text_before_opening_a_session(world_c: World) -> None:
    """The last line of defence, should something bypass validation."""
    w = world_c
    assert w.cisco is not None
    options = SshOptions(strict_host_key=False, timeout_s=10)
    before = w.cisco_ports()
    evil = PortIntent("GigabitEthernet0/1", 100, "x\nend\nreload", True)
    with pytest.raises(DriverError, match="unsafe") as err:
        CiscoIosxeDriver(options).apply(
            SwitchIntent(w.cisco.endpoint("sw-cisco"), (evil,), (100,)), w.cisco.credentials()
        )
    assert not err.value.temporary
    assert w.cisco_ports() == before
    bad_iface = PortIntent("Gi0/1\nreload", 100)
    with pytest.raises(DriverError, match="unsafe"):
        CiscoIosxeDriver(options).apply(
            SwitchIntent(w.cisco.endpoint("sw-cisco"), (bad_iface,)), w.cisco.credentials()
        )
    ovs_port = w.ovs.host("a1").port
    with pytest.raises(DriverError, match="unsafe"):
        OpenVSwitchDriver(options).apply(
            SwitchIntent(w.ovs.endpoint("sw-ovs"), (PortIntent(ovs_port, 100, "a'; reboot"),)),
            w.ovs.credentials(),
        )
    with pytest.raises(DriverError, match="invalid"):
        FrrDriver(options, vtysh=w.frr.vtysh).apply(
            RouterIntent(
                w.frr.endpoint("rtr"),
                (RouteIntent("203.0.113.10/32", "10.64.0.2\nno ip forwarding"),),
            ),
            w.frr.credentials(),
        )
