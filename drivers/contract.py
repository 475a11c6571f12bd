"""The driver contract: one loop for every platform, one abstract base per device kind.

Shaped after scrapli_cfg (get → diff → commit / abort) and hier_config (remediation is a pure
function of running and intended). A platform supplies the stages; the loop lives here once:

    check → open → read → diff → push (→ rollback on a permanent refusal) → verify → close

* `read_running` returns the running state of the resources tenantry manages;
* `diff(intent, running)` is pure and returns a `Remediation`: the per-resource `Change`s a
  person reads (what the device has, what it should have, whose it is) and the platform's
  ordered `steps` that `push` sends; an empty remediation means converged, nothing is sent;
* `verify` re-reads and diffs again (waiting `settle_s` for devices that apply asynchronously);
* `rollback` puts back what ran before, on platforms that can.

A failure inside a stage that is not yet typed becomes that stage's error (`ConnectError`,
`ReadError`, `PushError`, `VerifyError`) with its message and `temporary` flag kept.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from re import Pattern
from typing import ClassVar, Generic, TypeVar

from drivers.base import (
    ConnectError,
    Credentials,
    DriverError,
    Intent,
    PortIntent,
    PushError,
    ReadError,
    RouterIntent,
    SwitchIntent,
    TelephonyIntent,
    Transcript,
    VerifyError,
    WifiIntent,
    check_switch_intent,
)

ABSENT = "absent"
NOT_ACCESS = 0  # `vlan` of a running port not in access mode: never equals an intent

IntentT = TypeVar("IntentT", bound=Intent)
SessionT = TypeVar("SessionT")
RunningT = TypeVar("RunningT")
StepT = TypeVar("StepT")


@dataclass(frozen=True)
class Change:
    """One managed resource that differs: what the device has, what it should have."""

    resource: str  # "port GigabitEthernet0/1", "route 203.0.113.8/29", "number +44…"
    running: str  # ABSENT when the device does not have it
    intended: str  # ABSENT when it should go
    occupier: str = ""  # whose resource it is, where the intent says

    def __str__(self) -> str:
        return f"{self.resource}: {self.running} -> {self.intended}"


@dataclass(frozen=True)
class Remediation(Generic[StepT]):
    """What separates a device from its intent: the changes and the steps that make them."""

    changes: tuple[Change, ...] = ()
    steps: tuple[StepT, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.steps)

    def __str__(self) -> str:
        return "; ".join(map(str, self.changes)) or f"{len(self.steps)} step(s)"


def changes_between(
    running: Mapping[str, str],
    intended: Mapping[str, str],
    occupiers: Mapping[str, str] | None = None,
) -> tuple[Change, ...]:
    """The per-resource changes between two descriptions {resource: state}; both must hold
    only managed resources. A resource missing on one side is ABSENT there."""
    owners = occupiers or {}
    found = []
    for resource in sorted(running.keys() | intended.keys()):
        have, want = running.get(resource, ABSENT), intended.get(resource, ABSENT)
        if have != want:
            found.append(Change(resource, have, want, owners.get(resource, "")))
    return tuple(found)


@contextmanager
def stage(error: type[DriverError], device: str) -> Iterator[None]:
    """Type an untyped failure by the stage it happened in; typed ones pass unchanged."""
    try:
        yield
    except DriverError as exc:
        if type(exc) is not DriverError:
            raise
        raise error(device, exc.reason, temporary=exc.temporary, resource=exc.resource) from exc
    except OSError as exc:  # a socket or a file under the driver: worth another try
        raise error(device, f"{type(exc).__name__}: {exc}") from exc


class Driver(ABC, Generic[IntentT, SessionT, RunningT, StepT]):
    """One platform of one device kind. Subclasses supply the stages; `apply` is the loop."""

    kind: ClassVar[str]
    platform: ClassVar[str]
    settle_s: float = 0.0  # how long verify waits for a device that applies asynchronously
    verify_temporary = False  # whether a device still differing after a push may converge
    # Whether a session spends its time waiting on the device (network round trips), so that
    # several at once converge faster. A platform that only computes and writes local files
    # says False: the executor converges its devices one after another in the applying
    # thread, where threads would only contend for the interpreter.
    waits_on_device: ClassVar[bool] = True

    # -- the stages a platform supplies

    def check(self, intent: IntentT) -> None:
        """Refuse (IntentRefused) anything unsafe before a session is opened."""

    @abstractmethod
    def open(
        self, intent: IntentT, credentials: Credentials | None, transcript: Transcript
    ) -> SessionT:
        """A session to the device (counted in `transcript.sessions` if it is one)."""

    def close(self, session: SessionT) -> None:
        """Release the session; must not raise."""

    @abstractmethod
    def read_running(self, session: SessionT, intent: IntentT, transcript: Transcript) -> RunningT:
        """The running state of the managed resources (each read noted in the transcript)."""

    @abstractmethod
    def diff(self, intent: IntentT, running: RunningT) -> Remediation[StepT]:
        """Pure: the changes and steps that turn `running` into `intent`."""

    @abstractmethod
    def push(
        self,
        session: SessionT,
        intent: IntentT,
        remediation: Remediation[StepT],
        transcript: Transcript,
    ) -> None:
        """Send the steps (each noted in `transcript.commands`)."""

    def rollback(
        self,
        session: SessionT,
        intent: IntentT,
        before: RunningT,
        error: DriverError,
        transcript: Transcript,
    ) -> None:
        """Best effort after a permanent refusal: put back what ran before (default: the
        platform has no rollback; the next run reads the device again and converges)."""

    def verify(self, session: SessionT, intent: IntentT, transcript: Transcript) -> None:
        """Re-read; what still differs after `settle_s` is a VerifyError."""
        deadline = time.monotonic() + self.settle_s
        while True:
            left = self.diff(intent, self.read_running(session, intent, transcript))
            if not left:
                return
            if time.monotonic() > deadline:
                raise VerifyError(
                    intent.endpoint.name,
                    f"not converged after push, still differs: {left}",
                    temporary=self.verify_temporary,
                )
            time.sleep(0.05)

    # -- the loop, written once

    @contextmanager
    def session(
        self, intent: IntentT, credentials: Credentials | None, transcript: Transcript
    ) -> Iterator[SessionT]:
        """check → open, and close whatever happens."""
        device = intent.endpoint.name
        self.check(intent)
        with stage(ConnectError, device):
            session = self.open(intent, credentials, transcript)
        try:
            yield session
        finally:
            self.close(session)

    def apply(
        self,
        intent: IntentT,
        credentials: Credentials | None = None,
        baseline: IntentT | None = None,
    ) -> Transcript:
        """Converge the device on `intent`; a converged device is read once, sent nothing.
        `baseline`: the intent of the last apply; the changes to resources that differed
        from it (drift, someone's edit by hand) are noted in `transcript.repairs`."""
        device = intent.endpoint.name
        transcript = Transcript(device=device)
        with self.session(intent, credentials, transcript) as session:
            with stage(ReadError, device):
                running = self.read_running(session, intent, transcript)
            remediation = self.diff(intent, running)
            if not remediation:
                return transcript
            if baseline is not None:
                transcript.repairs = self._repairs(baseline, running, remediation)
            try:
                with stage(PushError, device):
                    self.push(session, intent, remediation, transcript)
            except DriverError as exc:
                if not exc.temporary:
                    self.rollback(session, intent, running, exc, transcript)
                raise
            with stage(VerifyError, device):
                self.verify(session, intent, transcript)
        return transcript

    def _repairs(self, baseline: IntentT, running: RunningT, remediation: Remediation[StepT]
                 ) -> list[tuple[str, str, str]]:
        """The changes of `remediation` to resources that differed from `baseline`; none when
        the baseline itself cannot be diffed any more (a Wi-Fi secret since removed)."""
        try:
            drifted = {c.resource for c in self.diff(baseline, running).changes}
        except DriverError:
            return []
        return [(c.resource, c.running, c.intended)
                for c in remediation.changes if c.resource in drifted]

    def running(self, intent: IntentT, credentials: Credentials | None = None) -> RunningT:
        """Open, read the managed resources, close: nothing is sent."""
        transcript = Transcript(device=intent.endpoint.name)
        with self.session(intent, credentials, transcript) as session, stage(
            ReadError, intent.endpoint.name
        ):
            return self.read_running(session, intent, transcript)

    def drift(
        self, intent: IntentT, credentials: Credentials | None = None
    ) -> Remediation[StepT]:
        """What `apply` would change, read from the device; nothing is sent."""
        return self.diff(intent, self.running(intent, credentials))


# ---------------------------------------------------------------- switches


@dataclass(frozen=True)
class SwitchRunning:
    """What a switch runs: every port it has, and its VLANs when the platform manages them."""

    ports: Mapping[str, PortIntent]
    vlans: frozenset[int] | None = None  # None: VLANs need not be created on this platform
    bridges: Mapping[str, str] | None = None  # port → bridge, where ports live in bridges


def describe_port(port: PortIntent | None) -> str:
    if port is None:
        return ABSENT
    mode = "not an access port" if port.vlan == NOT_ACCESS else f"vlan {port.vlan}"
    voice = f", voice vlan {port.voice_vlan}" if port.voice_vlan is not None else ""
    state = "up" if port.enabled else "shut"
    description = " ".join(port.description.split())
    return f"{mode}{voice}, {state}" + (f", {description!r}" if description else "")


class SwitchDriver(Driver[SwitchIntent, SessionT, SwitchRunning, StepT]):
    """Access switches: the managed ports' VLAN, voice VLAN, description and admin state."""

    kind = "switch"
    port_name: ClassVar[Pattern[str]]  # the platform's interface or port names
    missing = "no such interface on the switch"

    def check(self, intent: SwitchIntent) -> None:
        check_switch_intent(intent, self.port_name)

    @abstractmethod
    def read_switch(
        self, session: SessionT, intent: SwitchIntent, transcript: Transcript
    ) -> SwitchRunning:
        """Every port the switch has (and its VLANs where the platform manages them)."""

    @abstractmethod
    def steps(self, running: SwitchRunning, intent: SwitchIntent) -> list[StepT]:
        """Pure: the platform's steps from `running` to `intent`; [] when converged."""

    def read_running(
        self, session: SessionT, intent: SwitchIntent, transcript: Transcript
    ) -> SwitchRunning:
        running = self.read_switch(session, intent, transcript)
        absent = [p.interface for p in intent.ports if p.interface not in running.ports]
        if absent:
            raise ReadError(
                intent.endpoint.name, f"{self.missing}: {', '.join(absent)}", temporary=False
            )
        return running

    def diff(self, intent: SwitchIntent, running: SwitchRunning) -> Remediation[StepT]:
        return Remediation(switch_changes(running, intent), tuple(self.steps(running, intent)))

    def read(
        self, intent: SwitchIntent, credentials: Credentials | None = None
    ) -> dict[str, PortIntent]:
        """What the managed ports run now."""
        ports = self.running(intent, credentials).ports
        return {p.interface: ports[p.interface] for p in intent.ports}


def switch_changes(running: SwitchRunning, intent: SwitchIntent) -> tuple[Change, ...]:
    """Per managed port and per missing VLAN."""
    have = {f"port {p.interface}": describe_port(running.ports.get(p.interface))
            for p in intent.ports}
    want = {f"port {p.interface}": describe_port(p) for p in intent.ports}
    if running.vlans is not None:
        have |= {f"vlan {v}": "defined" for v in intent.vlans if v in running.vlans}
        want |= {f"vlan {v}": "defined" for v in intent.vlans}
    return changes_between(have, want, {f"port {p.interface}": p.occupier for p in intent.ports})


# ---------------------------------------------------------------- the other kinds


class RouterDriver(Driver[RouterIntent, SessionT, RunningT, StepT]):
    """Routers: occupiers' gateways and the static routes of their public addresses."""

    kind = "router"


class TelephonyDriver(Driver[TelephonyIntent, SessionT, RunningT, StepT]):
    """SIP servers: the number plan (active, cooling off) and remote handset logouts."""

    kind = "telephony"


class WifiDriver(Driver[WifiIntent, SessionT, RunningT, StepT]):
    """RADIUS servers: one group per occupier with its VLAN, users and devices in it."""

    kind = "wifi"
