"""Decommission (issue 7) end to end: the real `tenantry decommission` and `tenantry apply` CLI
(subprocesses) against the network labs.

The repo (labrepo.py) has two sites, plus a third one for the timing:

* site `lab`:   Open vSwitch `sw-ovs` (namespaces a1 a2 b1 b2 behind floor ports O-A1..O-B2),
                FRR `rtr` (public pool 203.0.113.8/29; the occupier namespace answers for
                203.0.113.10 once the route to acme's next hop 10.64.0.2 is there), numbers
                +442079460001..03, cooling-off 30 days
* site `lab-c`: the Cisco simulator `sw-cisco` (C1..C4 on GigabitEthernet0/1..4),
                numbers +442079460011..13
* site `lab-d`: a second Cisco simulator `sw-cisco-d` (D1..D4), numbers +442079460021..23

acme (O-A1, O-A2, a public IP, a number at `lab`; C1, C2, a number at `lab-c`) is
decommissioned; globex (O-B1, O-B2, a number; C3) stays. `tenantry decommission` edits the
occupier's YAML in place, so after it the repo is never rewritten: newcomers are added with
`write_occupier`. Phases and reasons come from the ledger (`Record.decode`), what each device
was sent from `apply --transcript FILE`.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from drivers._ssh import SshOptions
from drivers.base import PortIntent, SwitchIntent
from drivers.cisco_iosxe import CiscoIosxeDriver
from reconciler.decommission import Record
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
    write_occupier,
    write_repo,
)
from .netlab import FakeCiscoLab, FrrLab, OvsLab, ping, wait_ping

pytestmark = pytest.mark.lab

PARKING = 999
COOLING_OFF_DAYS = 30
UNTIL = date.fromisoformat(TODAY) + timedelta(days=COOLING_OFF_DAYS)
LATER = (UNTIL + timedelta(days=1)).isoformat()
BLOCKS = {
    "lab": ("+442079460001", "+442079460003"),
    "lab-c": ("+442079460011", "+442079460013"),
    "lab-d": ("+442079460021", "+442079460023"),
}
ANALOG = "+442079460001"


def ifaces(prefix: str) -> dict[str, str]:
    return {f"GigabitEthernet0/{n}": f"{prefix}{n}" for n in range(1, 5)}


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def tenantry_bin(requirements: Any) -> list[str]:
    return [requirements.binary(str(Path(sys.executable).parent / "tenantry"))]


@pytest.fixture
def cisco_lab_d(requirements: Any) -> Iterator[FakeCiscoLab]:
    """A second Cisco simulator, for the third site."""
    requirements.module("fake_switches")
    requirements.module("scrapli")
    requirements.binary("ssh")
    lab = FakeCiscoLab(hostname="sw-lab-d")
    try:
        lab.start()
        yield lab
    finally:
        lab.stop()


@dataclass
class Run:
    rc: int
    out: str
    seconds: float
    transcript: dict[str, Any] = field(default_factory=dict)

    def commands(self, device: str) -> list[str]:
        return list(self.transcript.get("devices", {}).get(device, {}).get("commands", []))


@dataclass
class Labs:
    root: Path
    cli: list[str]
    ovs: OvsLab
    frr: FrrLab
    cisco: FakeCiscoLab
    cisco_d: FakeCiscoLab | None = None  # the third site, when present
    env: dict[str, str] = field(default_factory=dict)

    @property
    def repo(self) -> Path:
        return self.root / "repo"

    @property
    def state(self) -> Path:
        return self.root / "state.db"

    # -- the repo
    def sites(self) -> list[Site]:
        assert self.ovs.sshd is not None and self.frr.sshd is not None
        ovs_ports = {self.ovs.host(h).port: f"O-{h.upper()}" for h in self.ovs.hosts}
        sites = [
            Site(
                "lab",
                [Switch("sw-ovs", "openvswitch", self.ovs.sshd.port, ovs_ports)],
                {"space-a1": ["O-A1"], "space-a2": ["O-A2"], "space-b": ["O-B1", "O-B2"]},
                router=Router("rtr", self.frr.sshd.port),
                public_pool=PUBLIC_POOL,
                number_block=BLOCKS["lab"],
                cooling_off_days=COOLING_OFF_DAYS,
            ),
            Site(
                "lab-c",
                [Switch("sw-cisco", "cisco_iosxe", self.cisco.port, ifaces("C"))],
                {"suite-a": ["C1", "C2"], "suite-b": ["C3", "C4"]},
                number_block=BLOCKS["lab-c"],
                cooling_off_days=COOLING_OFF_DAYS,
            ),
        ]
        if self.cisco_d is not None:
            sites.append(
                Site(
                    "lab-d",
                    [Switch("sw-cisco-d", "cisco_iosxe", self.cisco_d.port, ifaces("D"))],
                    {"room-a": ["D1", "D2"], "room-b": ["D3", "D4"]},
                    number_block=BLOCKS["lab-d"],
                    cooling_off_days=COOLING_OFF_DAYS,
                )
            )
        return sites

    def write(self, analog: bool = False) -> None:
        acme = [
            Tenancy(
                "lab",
                ["space-a1", "space-a2"],
                {"O-A1": "desk 1", "O-A2": "desk 2"},
                public_ip=True,
                numbers=1,
                analog_logged_in=(ANALOG,) if analog else (),
            ),
            Tenancy("lab-c", ["suite-a"], {"C1": "desk 1", "C2": "desk 2"}, numbers=1),
        ]
        globex = [
            Tenancy("lab", ["space-b"], {"O-B1": "pc 1", "O-B2": "pc 2"}, numbers=1),
            Tenancy("lab-c", ["suite-b"], {"C3": "pc"}),
        ]
        if self.cisco_d is not None:
            acme.append(Tenancy("lab-d", ["room-a"], {"D1": "desk 1", "D2": "desk 2"}, numbers=1))
            globex.append(Tenancy("lab-d", ["room-b"], {"D3": "pc"}))
        write_repo(self.repo, self.sites(), [Occupier("acme", acme), Occupier("globex", globex)])

    def add(self, occupier: Occupier) -> None:
        write_occupier(self.repo, occupier)

    # -- the CLI
    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TENANTRY_")}
        env.update(
            TENANTRY_SSH_STRICT_HOST_KEY="0",
            TENANTRY_SSH_TIMEOUT="30",  # a loaded CI machine can take seconds to authenticate
            TENANTRY_FRR_VTYSH=shlex.join(self.frr.vtysh),
            **self.ovs.cred_env("sw-ovs"),
            **self.frr.cred_env("rtr"),
            **self.cisco.cred_env("sw-cisco"),
        )
        if self.cisco_d is not None:
            env.update(self.cisco_d.cred_env("sw-cisco-d"))
        env.update(self.env)
        return env

    def cli_run(self, *args: str) -> Run:
        transcript = self.root / "transcript.json"
        transcript.unlink(missing_ok=True)
        argv = [*self.cli, *args]
        if args[0] == "apply":
            argv += ["--transcript", str(transcript)]
        t0 = time.monotonic()
        res = subprocess.run(argv, capture_output=True, text=True, env=self.base_env(), timeout=180)
        seconds = time.monotonic() - t0
        record = json.loads(transcript.read_text()) if transcript.exists() else {}
        return Run(res.returncode, res.stdout + res.stderr, seconds, record)

    def apply(self, *extra: str, today: str = TODAY) -> Run:
        return self.cli_run(
            "apply",
            str(self.repo),
            "--drivers",
            "devices",
            "--state",
            str(self.state),
            "--today",
            today,
            *extra,
        )

    def decommission(self, occupier: str, *extra: str) -> Run:
        return self.cli_run(
            "decommission",
            occupier,
            str(self.repo),
            "--state",
            str(self.state),
            "--today",
            TODAY,
            *extra,
        )

    # -- the ledger
    def ledger(self) -> Any:
        ledger = open_ledger(str(self.state), create=False)
        assert ledger is not None
        return ledger

    def record(self, occupier: str) -> Record:
        found = self.ledger().statuses("Occupier")[occupier]
        return Record.decode(found.status, found.reason)

    def rows(self) -> list[tuple[str, str, str, str, str, str | None]]:
        return sorted(
            (
                a.site,
                str(a.kind),
                a.value,
                a.holder,
                str(a.state),
                a.until.isoformat() if a.until else None,
            )
            for a in self.ledger().holdings().rows
        )

    def held(self, holder: str, kind: str, site: str | None = None) -> list[str]:
        return [
            r[2]
            for r in self.rows()
            if r[3] == holder and r[1] == kind and (site is None or r[0] == site)
        ]

    def ledger_snapshot(self) -> tuple[Any, ...]:
        ledger = self.ledger()
        return (
            self.rows(),
            {n: (r.status, r.reason) for n, r in ledger.statuses("Service").items()},
            {n: (r.status, r.reason) for n, r in ledger.statuses("Occupier").items()},
        )

    # -- the devices, read back
    def ovs_port(self, host: str) -> tuple[int, str]:
        port = self.ovs.host(host).port
        tag = int(self.ovs.vsctl("get", "port", port, "tag").strip())
        admin = self.ovs.vsctl("get", "interface", port, "admin_state").strip()
        return tag, admin

    def cisco_ports(self, lab: FakeCiscoLab | None = None) -> dict[str, tuple[int, bool, str]]:
        lab = lab or self.cisco
        driver = CiscoIosxeDriver(SshOptions(strict_host_key=False, timeout_s=10))
        ports = tuple(PortIntent(i, PARKING) for i in ifaces("C"))
        found = driver.read(SwitchIntent(lab.endpoint(lab.hostname), ports), lab.credentials())
        return {i: (p.vlan, p.enabled, p.description) for i, p in found.items()}

    def devices_snapshot(self) -> tuple[Any, ...]:
        return (
            {h: self.ovs_port(h) for h in self.ovs.hosts},
            self.cisco_ports(),
            self.frr.vty("show running-config"),
        )

    def reach(self, src: str, dst: str) -> bool:
        return wait_ping(self.ovs.host(src).ns, self.ovs.host(dst).address, True, timeout_s=3)

    def isolated(self, src: str, dst: str) -> bool:
        return not ping(self.ovs.host(src).ns, self.ovs.host(dst).address, timeout_s=0.5)


@pytest.fixture
def labs(
    tmp_path: Path,
    tenantry_bin: list[str],
    ovs_lab: OvsLab,
    frr_e2e: FrrLab,
    cisco_lab: FakeCiscoLab,
) -> Labs:
    return Labs(tmp_path, tenantry_bin, ovs_lab, frr_e2e, cisco_lab)


def started(labs: Labs, analog: bool = False) -> Run:
    """The repo written and applied: acme and globex in service on every device."""
    labs.write(analog=analog)
    first = labs.apply()
    assert first.rc == 0, first.out
    return first


def converged(labs: Labs, today: str = TODAY) -> None:
    again = labs.apply(today=today)
    assert again.rc == 0, again.out
    for device, sent in again.transcript["devices"].items():
        assert sent["commands"] == [], (device, sent)


def requested(labs: Labs, occupier: str = "acme", *extra: str) -> Run:
    run = labs.decommission(occupier, *extra)
    text = (labs.repo / "occupiers" / occupier / "occupier.yaml").read_text()
    assert f'confirm: "{occupier.title()}"' in text and "irreversible: true" in text, text
    return run


# ------------------------------------------------------------------ 1. across two sites


def test_decommission_across_two_sites_releases_everything_on_the_devices(labs: Labs) -> None:
    started(labs)
    assert labs.reach("a1", "a2") and labs.reach("b1", "b2")
    assert labs.isolated("a1", "b1")
    assert wait_ping(labs.frr.ns_inet, PUBLIC_IP, want=True), labs.frr.vty("show running-config")
    cisco = labs.cisco_ports()
    assert cisco["GigabitEthernet0/1"][:2] == cisco["GigabitEthernet0/2"][:2] == (100, True)
    acme_vlan = labs.held("acme", "vlan", "lab")
    acme_numbers = labs.held("acme", "number")
    assert acme_vlan == ["100"] and len(acme_numbers) == 2, labs.rows()

    # the pull request: `tenantry decommission` writes the request and shows the plan
    req = requested(labs)
    assert req.rc == 2, req.out  # the plan has changes
    assert "decommission" in req.out and "acme" in req.out, req.out
    run = labs.apply()
    assert run.rc == 0, run.out
    record = labs.record("acme")
    assert record.phase == "Decommissioned", record
    assert dict(record.tasks) == {"lab": "done", "lab-c": "done"}

    # OVS: both ports parked and down, the two hosts of acme no longer reach each other
    assert labs.ovs_port("a1") == labs.ovs_port("a2") == (PARKING, "down")
    assert labs.isolated("a1", "a2") and labs.isolated("a2", "a1")
    assert labs.reach("b1", "b2")  # globex untouched
    # Cisco: acme's ports parked (read back from the simulator), globex's port unchanged
    cisco = labs.cisco_ports()
    for iface in ("GigabitEthernet0/1", "GigabitEthernet0/2"):
        assert cisco[iface][:2] == (PARKING, False), (iface, cisco[iface])
    assert cisco["GigabitEthernet0/3"][:2] == (101, True)
    # FRR: the public /32 is withdrawn, the address no longer answers from the internet
    assert f"no ip route {PUBLIC_IP}/32 {ACME_NEXT_HOP}" in run.commands("rtr"), run.transcript
    assert wait_ping(labs.frr.ns_inet, PUBLIC_IP, want=False)
    assert PUBLIC_IP not in labs.frr.vty("show running-config")
    # ledger: nothing held by acme; its numbers unassigned, in cooling-off until today + 30 days
    assert not [r for r in labs.rows() if r[3] == "acme"], labs.rows()
    cooling = {r[2]: r for r in labs.rows() if r[1] == "number" and r[4] == "cooling-off"}
    assert set(cooling) == set(acme_numbers), labs.rows()
    assert {r[5] for r in cooling.values()} == {UNTIL.isoformat()}
    assert {r[3] for r in cooling.values()} == {""}
    converged(labs)

    # a newcomer at `lab` gets acme's VLAN (and its floor port), not acme's number
    labs.add(Occupier("initech", [Tenancy("lab", ["space-a1"], {"O-A1": "desk"}, numbers=1)]))
    joined = labs.apply()
    assert joined.rc == 0, joined.out
    assert labs.held("initech", "vlan", "lab") == acme_vlan
    assert labs.ovs_port("a1") == (int(acme_vlan[0]), "up")
    assert labs.isolated("a1", "a2")  # a2 stays parked
    initech_numbers = labs.held("initech", "number")
    assert len(initech_numbers) == 1 and not set(initech_numbers) & set(acme_numbers)
    converged(labs)

    # the block of `lab` is now full but for acme's number in cooling-off: before the date a
    # further newcomer is refused (nothing applied), after it the number is re-allocated
    hooli = Occupier("hooli", [Tenancy("lab", [], numbers=1)])
    labs.add(hooli)
    before = labs.ledger_snapshot()
    early = labs.apply(today=(UNTIL - timedelta(days=1)).isoformat())
    assert early.rc == 1, early.out
    assert "nothing applied" in early.out, early.out
    assert labs.ledger_snapshot() == before
    late = labs.apply(today=LATER)
    assert late.rc == 0, late.out
    acme_lab_number = [n for n in acme_numbers if BLOCKS["lab"][0] <= n <= BLOCKS["lab"][1]]
    assert labs.held("hooli", "number") == acme_lab_number, labs.rows()
    assert labs.record("acme").phase == "Decommissioned"
    converged(labs, today=LATER)


# ------------------------------------------------------------------ 2. refusals (D2)


REFUSALS = {
    "analog handset logged in": (f"the analog handset of {ANALOG} is logged in", ()),
    "actor not admin": ("bob is not an admin of lab", ("--actor", "bob")),
    "service failed": ("service acme-lab-c-lan is Failed", ()),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refused_decommission_changes_nothing(labs: Labs, case: str) -> None:
    message, extra = REFUSALS[case]
    labs.write(analog=case == "analog handset logged in")
    if case == "service failed":
        # the first apply cannot log in to the Cisco switch: acme's lab-c services are Failed
        labs.env = {"TENANTRY_CRED_SW_CISCO_PASSWORD": "Wr0ng-pw"}
        assert labs.apply().rc == 1
        assert labs.ledger().statuses("Service")["acme-lab-c-lan"].status == "Failed"
    else:
        assert labs.apply().rc == 0
    devices, ledger = labs.devices_snapshot(), labs.ledger_snapshot()

    shown = requested(labs, "acme", *extra)  # the plan shown with the request says so already
    assert shown.rc == 1 and "error[D2]" in shown.out and message in shown.out, shown.out
    run = labs.apply(*extra)
    assert run.rc == 1, run.out
    assert "error[D2]" in run.out and message in run.out, run.out
    assert run.transcript == {}  # no device was contacted
    assert labs.devices_snapshot() == devices
    assert labs.ledger_snapshot() == ledger

    if case == "analog handset logged in":
        # logged out at the handset: the same request now goes through
        path = labs.repo / "occupiers" / "acme" / "occupier.yaml"
        path.write_text(path.read_text().replace("loggedIn: true", "loggedIn: false"))
        done = labs.apply()
        assert done.rc == 0, done.out
        assert labs.record("acme").phase == "Decommissioned"
        assert labs.ovs_port("a1") == (PARKING, "down")


# ------------------------------------------------------------------ 3. a failed site task


def test_failed_site_task_then_only_that_task_is_retried(labs: Labs) -> None:
    started(labs)
    requested(labs)
    wrong = "Wr0ng-S3cret-pw"
    labs.env = {"TENANTRY_CRED_SW_CISCO_PASSWORD": wrong}
    run = labs.apply()
    assert run.rc == 1, run.out
    assert set(run.transcript["failures"]) == {"sw-cisco"}, run.transcript
    assert wrong not in run.out
    record = labs.record("acme")
    assert record.phase == "DecommissionFailed", record
    assert record.tasks["lab"] == "done"
    assert record.tasks["lab-c"].startswith("sw-cisco: "), record.tasks
    assert "authentication failed" in record.tasks["lab-c"], record.tasks
    # site lab is done on its devices; lab-c keeps acme's allocations until its switch says so
    assert labs.ovs_port("a1") == (PARKING, "down")
    assert wait_ping(labs.frr.ns_inet, PUBLIC_IP, want=False)
    held = {r[0] for r in labs.rows() if r[3] == "acme"}
    assert held == {"lab-c"}, labs.rows()
    assert labs.cisco_ports()["GigabitEthernet0/1"][:2] == (100, True)

    # the device is back: the next run finishes lab-c only
    labs.env = {}
    again = labs.apply()
    assert again.rc == 0, again.out
    assert again.transcript["failures"] == {}
    assert again.commands("sw-ovs") == [] and again.commands("rtr") == [], again.transcript
    assert again.commands("sw-cisco"), again.transcript
    record = labs.record("acme")
    assert record.phase == "Decommissioned", record
    assert dict(record.tasks) == {"lab": "done", "lab-c": "done"}
    assert not [r for r in labs.rows() if r[3] == "acme"], labs.rows()
    cisco = labs.cisco_ports()
    assert cisco["GigabitEthernet0/1"][:2] == cisco["GigabitEthernet0/2"][:2] == (PARKING, False)
    converged(labs)


# ------------------------------------------------------------------ 4. timing, three sites


def test_time_a_decommission_across_three_sites(
    labs: Labs, cisco_lab_d: FakeCiscoLab, capsys: pytest.CaptureFixture[str]
) -> None:
    labs.cisco_d = cisco_lab_d
    started(labs)
    assert labs.cisco_ports(cisco_lab_d)["GigabitEthernet0/1"][:2] == (100, True)
    t0 = time.monotonic()
    requested(labs)
    request_s = time.monotonic() - t0
    run = labs.apply()
    assert run.rc == 0, run.out
    record = labs.record("acme")
    assert record.phase == "Decommissioned", record
    assert dict(record.tasks) == {"lab": "done", "lab-c": "done", "lab-d": "done"}
    for device in ("sw-ovs", "rtr", "sw-cisco", "sw-cisco-d"):
        assert run.commands(device), device
    d = labs.cisco_ports(cisco_lab_d)
    assert d["GigabitEthernet0/1"][:2] == d["GigabitEthernet0/2"][:2] == (PARKING, False)
    assert d["GigabitEthernet0/3"][:2] == (101, True)
    timed("decommission apply (3 sites, 4 devices)", run.seconds)
    timed("tenantry decommission (request + plan)", request_s)
    with capsys.disabled():
        print(
            f"\ndecommission of acme across 3 sites (4 devices, "
            f"{sum(len(run.commands(x)) for x in run.transcript['devices'])} commands): "
            f"apply {run.seconds:.2f} s wall, request + plan {request_s:.2f} s"
        )
    converged(labs)
