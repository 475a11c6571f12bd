"""Open vSwitch access ports, driven with ovs-vsctl / ovs-ofctl on the switch host.

    one `ovs-vsctl list` (ports, interfaces, bridges as JSON) → remediation(running, intended)
    → ofctl `down` for ports being disabled → ONE ovs-vsctl transaction for every tag and
    description → ofctl `up` for ports being enabled → re-read and verify

The ovs-vsctl transaction is atomic in OVSDB, so all managed ports get their new VLANs or none
do. Admin state is not stored in OVSDB (`ovs-ofctl mod-port ... down` is lost when
ovs-vswitchd restarts), so it is read back from `Interface.admin_state`, which follows the real
netdev flag; a restarted switch shows the parked port `up` again, still in the parking VLAN,
and the next run takes it down again. Descriptions live in Port `external_ids`
(`tenantry-description`), since OVS has no description field.

A voice VLAN makes the port `native-untagged` with the data VLAN as native and only the voice
VLAN trunked (phones tag their traffic); without one the port is a plain access port.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from drivers._ssh import CommandRunner, OverShell, SshOptions, check_transport, quote, run_checked
from drivers.base import PortIntent, ReadError, SwitchIntent, Transcript
from drivers.contract import NOT_ACCESS as NOT_ACCESS  # read by the tests
from drivers.contract import Remediation, SwitchDriver, SwitchRunning

PLATFORM = "openvswitch"
PORT_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,15}$")
DESCRIPTION_KEY = "tenantry-description"
_TEMPORARY = re.compile(
    r"database connection failed|connection refused|timed out|No such file", re.I
)


# ------------------------------------------------------------------ parse


def _atom_set(value: Any) -> list[Any]:
    """OVSDB JSON: ["set", [...]] for 0 or 2+ elements, the bare atom for exactly one."""
    if isinstance(value, list) and value and value[0] == "set":
        return list(value[1])
    return [value]


def _rows(table: Mapping[str, Any]) -> list[dict[str, Any]]:
    headings = table["headings"]
    return [dict(zip(headings, row, strict=True)) for row in table["data"]]


def parse_list_output(text: str) -> tuple[dict[str, PortIntent], dict[str, str]]:
    """Running ports and port → bridge from the three JSON tables of READ_COMMAND."""
    tables = [json.loads(line) for line in text.splitlines() if line.strip()]
    if len(tables) != 3:
        raise ValueError(f"expected 3 tables from ovs-vsctl, got {len(tables)}")
    ports, interfaces, bridges = (_rows(t) for t in tables)
    admin = {row["name"]: row["admin_state"] for row in interfaces}
    uuid_to_port: dict[str, str] = {}
    running: dict[str, PortIntent] = {}
    for row in ports:
        name = row["name"]
        uuid_to_port[row["_uuid"][1]] = name
        tags = _atom_set(row["tag"])
        modes = _atom_set(row["vlan_mode"])
        trunks = [t for t in _atom_set(row["trunks"]) if isinstance(t, int)]
        ids = dict(row["external_ids"][1])
        mode = modes[0] if modes else "access"
        vlan, voice = NOT_ACCESS, None
        if tags and isinstance(tags[0], int):
            if mode == "access" and not trunks:
                vlan = tags[0]
            elif mode == "native-untagged" and len(trunks) == 1:
                vlan, voice = tags[0], trunks[0]
        state = _atom_set(admin.get(name, []))
        running[name] = PortIntent(
            interface=name,
            vlan=vlan,
            description=str(ids.get(DESCRIPTION_KEY, "")),
            enabled=bool(state) and state[0] == "up",
            voice_vlan=voice,
        )
    port_bridge: dict[str, str] = {}
    for row in bridges:
        for ref in _atom_set(row["ports"]):
            if isinstance(ref, list) and ref[0] == "uuid" and ref[1] in uuid_to_port:
                port_bridge[uuid_to_port[ref[1]]] = row["name"]
    return running, port_bridge


# ------------------------------------------------------------------ remediation


def remediation(
    running: Mapping[str, PortIntent],
    intended: SwitchIntent,
    bridges: Mapping[str, str],
    *,
    vsctl: str = "ovs-vsctl",
    ofctl: str = "ovs-ofctl",
) -> list[str]:
    """Shell command lines that turn `running` into `intended`; [] when converged.

    Order: ports being disabled go down first, then one atomic ovs-vsctl transaction, then
    ports being enabled come up, so a port is never up in a VLAN it should not be in.
    """
    downs: list[str] = []
    ups: list[str] = []
    txn: list[str] = []
    for want in sorted(intended.ports, key=lambda p: p.interface):
        have = running.get(want.interface)
        name = want.interface
        if have is None or have.vlan != want.vlan or have.voice_vlan != want.voice_vlan:
            if want.voice_vlan is None:
                txn += [
                    "--",
                    "set",
                    "port",
                    name,
                    f"tag={want.vlan}",
                    "vlan_mode=access",
                    "trunks=[]",
                ]
            else:
                txn += [
                    "--",
                    "set",
                    "port",
                    name,
                    f"tag={want.vlan}",
                    "vlan_mode=native-untagged",
                    f"trunks={want.voice_vlan}",
                ]
        have_desc = have.description if have else ""
        if want.description != have_desc:
            if want.description:
                txn += [
                    "--",
                    "set",
                    "port",
                    name,
                    f'external_ids:{DESCRIPTION_KEY}="{want.description}"',
                ]
            else:
                txn += ["--", "remove", "port", name, "external_ids", DESCRIPTION_KEY]
        have_enabled = have.enabled if have else False
        if want.enabled != have_enabled:
            target = downs if not want.enabled else ups
            target.append(
                quote(
                    [
                        ofctl,
                        "mod-port",
                        bridges.get(name, "?"),
                        name,
                        "up" if want.enabled else "down",
                    ]
                )
            )
    lines = list(downs)
    if txn:
        lines.append(quote([vsctl, "--timeout=10", *txn]))
    return lines + ups


# ------------------------------------------------------------------ the driver

READ_ARGS = (
    "--timeout=10",
    "--format=json",
    "--",
    "--columns=_uuid,name,tag,vlan_mode,trunks,external_ids",
    "list",
    "Port",
    "--",
    "--columns=name,admin_state",
    "list",
    "Interface",
    "--",
    "--columns=name,ports",
    "list",
    "Bridge",
)


class OpenVSwitchDriver(OverShell, SwitchDriver[CommandRunner, str]):
    """Open vSwitch hosts, over SSH (or locally with transport="local"); a step is one
    shell command line. Admin state follows ovs-vswitchd a moment later: verify waits
    `settle_s` for it."""

    platform = PLATFORM
    port_name = PORT_NAME
    missing = "no such port on the switch"

    def __init__(
        self,
        ssh: SshOptions | None = None,
        *,
        transport: str = "ssh",
        vsctl: str = "ovs-vsctl",
        ofctl: str = "ovs-ofctl",
        settle_s: float = 2.0,
    ) -> None:
        self.transport = check_transport(transport)
        self.ssh = ssh or SshOptions.from_env()
        self.vsctl = vsctl
        self.ofctl = ofctl
        self.settle_s = settle_s

    def read_switch(self, session: CommandRunner, intent: SwitchIntent,
                    transcript: Transcript) -> SwitchRunning:
        device = intent.endpoint.name
        command = quote([self.vsctl, *READ_ARGS])
        out = run_checked(session, device, command, _TEMPORARY)
        transcript.reads.append(command)
        try:
            ports, bridges = parse_list_output(out)
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise ReadError(device, f"cannot parse ovs-vsctl output: {exc}") from None
        return SwitchRunning(ports, bridges=bridges)

    def steps(self, running: SwitchRunning, intent: SwitchIntent) -> list[str]:
        return remediation(running.ports, intent, running.bridges or {},
                           vsctl=self.vsctl, ofctl=self.ofctl)

    def push(self, session: CommandRunner, intent: SwitchIntent,
             remediation: Remediation[str], transcript: Transcript) -> None:
        for line in remediation.steps:
            transcript.commands.append(line)
            run_checked(session, intent.endpoint.name, line, _TEMPORARY)
