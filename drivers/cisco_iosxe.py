"""Cisco IOS / IOS-XE access switches over SSH (scrapli).

    read `show running-config` once → parse the managed interfaces → remediation(running,
    intended) → push one block per interface → re-read and verify

`remediation` is pure and hier_config-shaped: it returns only the lines that differ, so a
second run against a converged switch sends nothing. Within one interface block the order is
chosen so the port is never up in the wrong state: `shutdown` comes first when a port is being
parked, `no shutdown` comes last when it is being enabled.

A block that the switch rejects is rolled back to what that interface ran before (best
effort), so every managed interface is left either old or new; the error is permanent. A
dropped session is temporary: the next run reads the device again and converges. The loop
itself (read → diff → push → verify) is `drivers.contract.Driver.apply`.
"""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Collection, Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from drivers._ssh import SshOptions, classify, close_quietly, open_cli
from drivers.base import (
    ConnectError,
    Credentials,
    DriverError,
    PortIntent,
    PushError,
    ReadError,
    SwitchIntent,
    Transcript,
    check_switch_intent,
)
from drivers.contract import NOT_ACCESS as NOT_ACCESS  # read by the tests
from drivers.contract import Remediation, SwitchDriver, SwitchRunning

if TYPE_CHECKING:
    from scrapli import Cli
    from scrapli.cli import LoadedDefinition

PLATFORM = "cisco_iosxe"
INTERFACE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9/.:-]{0,63}$")
# Seen on real IOS and on the fake-switches simulator used by the lab tests.
EXTRA_FAILURE_INDICATORS = ("No such command", "Command rejected", "% Bad", "% Access denied")


# ------------------------------------------------------------------ validation


def check_intent(intent: SwitchIntent) -> None:
    check_switch_intent(intent, INTERFACE_NAME)


# ------------------------------------------------------------------ parse


def parse_running_config(text: str) -> tuple[dict[str, PortIntent], set[int]]:
    """Interfaces (as PortIntent: what they run now) and defined VLANs of a running-config.

    IOS omits defaults: no `switchport access vlan` means VLAN 1, no `shutdown` means enabled.
    A port without `switchport mode access` gets vlan NOT_ACCESS, so remediation sets the mode.
    """
    ports: dict[str, PortIntent] = {}
    vlans: set[int] = set()
    current: dict[str, object] | None = None

    def flush() -> None:
        if current is not None:
            name = str(current["interface"])
            vlan = int(str(current["vlan"])) if current["access"] else NOT_ACCESS
            voice = current["voice"]
            ports[name] = PortIntent(
                interface=name,
                vlan=vlan,
                description=str(current["description"]),
                enabled=not current["shutdown"],
                voice_vlan=int(str(voice)) if voice is not None else None,
            )

    for raw in text.splitlines():
        line = raw.rstrip()
        if not line or line.startswith("!"):
            continue
        if not line.startswith(" "):
            flush()
            current = None
            words = line.split()
            if words[0] == "interface" and len(words) == 2:
                current = {
                    "interface": words[1],
                    "vlan": 1,
                    "access": False,
                    "description": "",
                    "shutdown": False,
                    "voice": None,
                }
            elif words[0] == "vlan" and len(words) == 2 and words[1].isdigit():
                vlans.add(int(words[1]))
            continue
        if current is None:
            continue
        body = line.strip()
        if body.startswith("description "):
            current["description"] = body[len("description ") :]
        elif m := re.fullmatch(r"switchport access vlan (\d+)", body):
            current["vlan"] = int(m.group(1))
        elif m := re.fullmatch(r"switchport voice vlan (\d+)", body):
            current["voice"] = int(m.group(1))
        elif body == "switchport mode access":
            current["access"] = True
        elif body == "shutdown":
            current["shutdown"] = True
    flush()
    return ports, vlans


# ------------------------------------------------------------------ intended lines / remediation


def intended_lines(port: PortIntent) -> list[str]:
    """The full intended configuration of one access port (what `render` writes)."""
    lines = [
        f"interface {port.interface}",
        " switchport mode access",
        f" switchport access vlan {port.vlan}",
    ]
    if port.voice_vlan is not None:
        lines.append(f" switchport voice vlan {port.voice_vlan}")
    lines.append(f" description {port.description}" if port.description else " no description")
    lines.append(" no shutdown" if port.enabled else " shutdown")
    return lines


def _port_remediation(running: PortIntent | None, want: PortIntent) -> list[str]:
    body: list[str] = []
    if running is None or running.vlan == NOT_ACCESS:
        body.append("switchport mode access")
    if running is None or running.vlan != want.vlan:
        body.append(f"switchport access vlan {want.vlan}")
    have_voice = running.voice_vlan if running else None
    if want.voice_vlan != have_voice:
        body.append(
            f"switchport voice vlan {want.voice_vlan}"
            if want.voice_vlan is not None
            else "no switchport voice vlan"
        )
    # whitespace runs are not significant: some CLIs collapse them when storing a description
    want_desc = " ".join(want.description.split())
    have_desc = " ".join(running.description.split()) if running else ""
    if want_desc != have_desc:
        body.append(f"description {want_desc}" if want_desc else "no description")
    have_enabled = running.enabled if running else True
    if want.enabled != have_enabled:
        if want.enabled:
            body.append("no shutdown")  # last: the port comes up only once it is right
        else:
            body.insert(0, "shutdown")  # first: a port being parked goes dark before it moves
    if not body:
        return []
    return [f"interface {want.interface}", *(" " + b for b in body)]


def remediation(
    running: dict[str, PortIntent],
    intended: SwitchIntent,
    running_vlans: Collection[int] | None = None,
) -> list[str]:
    """The configuration lines that turn `running` into `intended`; [] when converged.

    Lines of an interface block are indented by one space under their `interface` line.
    Missing VLANs are created first (only when `running_vlans` is known); VLANs are never
    deleted, since a switch carries VLANs that are not ours.
    """
    lines: list[str] = []
    if running_vlans is not None:
        for vlan in sorted(set(intended.vlans) - set(running_vlans)):
            lines += [f"vlan {vlan}", " exit"]
    for port in sorted(intended.ports, key=lambda p: natural_key(p.interface)):
        lines += _port_remediation(running.get(port.interface), port)
    return lines


def blocks(lines: Iterable[str]) -> list[list[str]]:
    """Split remediation lines into blocks (a top-level line plus its indented lines)."""
    out: list[list[str]] = []
    for line in lines:
        if line.startswith(" ") and out:
            out[-1].append(line)
        else:
            out.append([line])
    return out


@lru_cache(maxsize=8192)  # switches share their port names: each is split once
def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """GigabitEthernet0/2 sorts before GigabitEthernet0/10."""
    return tuple((0, int(t)) if t.isdigit() else (1, t) for t in re.split(r"(\d+)", name) if t)


# ------------------------------------------------------------------ the driver


@lru_cache(maxsize=1)
def _definition() -> LoadedDefinition:
    """scrapli's cisco_iosxe definition with extra failure strings (simulators, old IOS)."""
    from scrapli.cli import LoadedDefinition

    text = (importlib.resources.files("scrapli.definitions") / "cisco_iosxe.yaml").read_text()
    marker = "failure_indicators:\n"
    if marker not in text:  # pragma: no cover - a scrapli release changed the layout
        raise RuntimeError("scrapli cisco_iosxe definition has no failure_indicators")
    extra = "".join(f"  - '{s}'\n" for s in EXTRA_FAILURE_INDICATORS)
    return LoadedDefinition(platform_name=PLATFORM, definition=text.replace(marker, marker + extra))


class CiscoIosxeDriver(SwitchDriver["Cli", str]):
    """Cisco IOS/IOS-XE (and IOS-like CLIs) over SSH; a step is one configuration line."""

    platform = PLATFORM
    port_name = INTERFACE_NAME

    def __init__(self, ssh: SshOptions | None = None) -> None:
        self.ssh = ssh or SshOptions.from_env()

    def open(
        self, intent: SwitchIntent, credentials: Credentials | None, transcript: Transcript
    ) -> Cli:
        device = intent.endpoint.name
        cli = open_cli(intent.endpoint, credentials, _definition(), self.ssh, enable=True)
        transcript.sessions += 1
        # scrapli does not raise when `enable` is refused: the session stays at `>`.
        try:
            prompt = cli.get_prompt().result.strip()
        except Exception as exc:
            close_quietly(cli)
            raise classify(device, exc, "prompt", ConnectError) from None
        if not prompt.endswith("#"):
            close_quietly(cli)
            raise ConnectError(device, f"enable refused (prompt {prompt!r})", temporary=False)
        return cli

    def close(self, session: Cli) -> None:
        close_quietly(session)

    def read_switch(self, session: Cli, intent: SwitchIntent, transcript: Transcript
                    ) -> SwitchRunning:
        device = intent.endpoint.name
        command = "show running-config"
        try:
            res = session.send_input(command)
        except Exception as exc:
            raise classify(device, exc, command, ReadError) from None
        transcript.reads.append(command)
        if res.failed:
            raise ReadError(device, f"{command}: {res.result.strip()}", temporary=False)
        ports, vlans = parse_running_config(res.result)
        return SwitchRunning(ports, frozenset(vlans))

    def steps(self, running: SwitchRunning, intent: SwitchIntent) -> list[str]:
        return remediation(dict(running.ports), intent, running.vlans)

    def push(self, session: Cli, intent: SwitchIntent, remediation: Remediation[str],
             transcript: Transcript) -> None:
        device = intent.endpoint.name
        for block in blocks(remediation.steps):
            complaint = self._send_block(session, device, block, transcript)
            if complaint is not None:
                interface = block[0].split()[1] if block[0].startswith("interface ") else ""
                raise PushError(device, f"rejected in {block[0]!r}: {complaint}",
                                temporary=False, resource=interface)

    def rollback(self, session: Cli, intent: SwitchIntent, before: SwitchRunning,
                 error: DriverError, transcript: Transcript) -> None:
        """Best effort: put the interface whose block was refused back to what it ran."""
        old = before.ports.get(error.resource)
        if old is None or old.vlan == NOT_ACCESS:  # not an access port: cannot express it
            return
        try:
            now = self.read_switch(session, intent, transcript).ports
        except DriverError:
            return
        if error.resource not in now:
            return
        back = _port_remediation(now[error.resource], old)
        if back:
            self._send_block(session, intent.endpoint.name, back, transcript)

    def _send_block(self, cli: Cli, device: str, block: list[str], transcript: Transcript
                    ) -> str | None:
        """Send one block in configuration mode; the switch's complaint, or None if accepted."""
        inputs = [b.strip() for b in block]
        transcript.commands.extend(inputs)
        try:
            res = cli.send_inputs(
                inputs, requested_mode="configuration", stop_on_indicated_failure=True
            )
        except Exception as exc:
            raise classify(device, exc, f"push {inputs[0]!r}", PushError) from None
        if res.failed:
            return res.result.strip() or "rejected"
        return None
