"""A toy switch platform, built from the public contract only (what a new platform writes):
its "device" is a dict in memory, so the loop's behaviour can be watched step by step."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import ClassVar

from drivers.base import Credentials, DriverError, PortIntent, PushError, SwitchIntent, Transcript
from drivers.contract import Remediation, SwitchDriver, SwitchRunning


@dataclass
class ToyDevice:
    """A switch that holds ports, refuses some VLANs, and can forget what it was told."""

    ports: dict[str, PortIntent]
    refuses_vlan: int | None = None
    forgets: bool = False  # accepts every change and keeps none of them
    fail_read: DriverError | None = None
    log: list[str] = field(default_factory=list)


class ToySwitchDriver(SwitchDriver[ToyDevice, PortIntent]):
    """A step is the whole intended port: the toy device sets ports, not lines."""

    platform = "toy"
    port_name = re.compile(r"^port[0-9]+$")
    devices: ClassVar[dict[str, ToyDevice]] = {}

    def open(self, intent: SwitchIntent, credentials: Credentials | None,
             transcript: Transcript) -> ToyDevice:
        transcript.sessions += 1
        device = self.devices[intent.endpoint.host]
        device.log.append("open")
        return device

    def close(self, session: ToyDevice) -> None:
        session.log.append("close")

    def read_switch(self, session: ToyDevice, intent: SwitchIntent,
                    transcript: Transcript) -> SwitchRunning:
        transcript.reads.append("ports")
        if session.fail_read is not None:
            raise session.fail_read
        return SwitchRunning(dict(session.ports))

    def steps(self, running: SwitchRunning, intent: SwitchIntent) -> list[PortIntent]:
        return [p for p in intent.ports if running.ports.get(p.interface) != p]

    def push(self, session: ToyDevice, intent: SwitchIntent,
             remediation: Remediation[PortIntent], transcript: Transcript) -> None:
        for port in remediation.steps:
            transcript.commands.append(f"set {port.interface} vlan {port.vlan}")
            if port.vlan == session.refuses_vlan:
                raise PushError(intent.endpoint.name, f"vlan {port.vlan} refused",
                                temporary=False, resource=port.interface)
            if not session.forgets:
                session.ports[port.interface] = replace(port, occupier="")

    def rollback(self, session: ToyDevice, intent: SwitchIntent, before: SwitchRunning,
                 error: DriverError, transcript: Transcript) -> None:
        session.log.append(f"rollback {error.resource}")
        session.ports = dict(before.ports)
