"""What the operator's drift check tells the cluster, as pure functions of one check: the
`Drifted` condition of every Site and Occupier, and the events worth telling. No kopf, no
ledger here: `engine.py` reads the devices (reconciler.app.App.drift) and repairs them.

A Site is Drifted while one of its devices runs otherwise than the last apply left it, an
Occupier while one of its resources does; the condition is Unknown while a device of the site
cannot be read (its state is not known: never reported as in sync). An event is posted when
the condition changes, not at every check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.drift import DeviceDrift, Difference, DriftReport
from reconciler.model.repo import Ref
from reconciler.model.status import ConditionType, set_condition
from reconciler.operator.cluster import Body
from reconciler.operator.reconcile import Event, EventPoster, StatusWriter

Repair = tuple[str, str, str, str]  # device, resource, what it had, what it was given


@dataclass
class DriftCheck:
    """One check: what was read, what was repaired (TENANTRY_REPAIR_DRIFT), what failed."""

    report: DriftReport = field(default_factory=DriftReport)
    repaired: list[Repair] = field(default_factory=list)
    repair_failures: dict[str, str] = field(default_factory=dict)  # device → reason
    seconds: float = 0.0

    def left(self, device: DeviceDrift) -> tuple[Difference, ...]:
        """The device's differences still there after the repair."""
        if device.device in self.repair_failures or not self.repaired:
            return device.differences
        done = {(d, r) for d, r, _, _ in self.repaired}
        return tuple(x for x in device.differences if (device.device, x.resource) not in done)


@dataclass(frozen=True)
class Verdict:
    """The operator's drift check of one object: drifted, not, or unknown, and why."""

    drifted: bool | None  # None: unknown (a device could not be read)
    reason: str
    message: str


def _line(device: str, d: Difference) -> str:
    return f"{device}: {d.resource} has {d.running}, should have {d.intended}"


def _verdict(left: list[str], repaired: list[str], unreadable: list[str]) -> Verdict:
    if left:
        return Verdict(True, "DeviceDrift", "; ".join(left))
    if unreadable:
        return Verdict(None, "DeviceUnreadable", "; ".join(unreadable))
    if repaired:
        return Verdict(False, "Repaired", "repaired " + "; ".join(repaired))
    return Verdict(False, "InSync", "the devices run the last apply's intent")


def verdicts(check: DriftCheck, refs: Iterable[Ref]) -> dict[Ref, Verdict]:
    """The Drifted verdict of every Site and Occupier in `refs`."""
    left: dict[Ref, list[str]] = {}
    repaired: dict[Ref, list[str]] = {}
    unreadable: dict[Ref, list[str]] = {}
    done = {(d, r): (found, restored) for d, r, found, restored in check.repaired}
    for device in check.report.devices:
        site = Ref("Site", device.site)
        if device.error:
            unreadable.setdefault(site, []).append(f"{device.device}: {device.error}")
        still = set(check.left(device))
        for d in device.differences:
            whose = [site] + ([Ref("Occupier", d.occupier)] if d.occupier else [])
            for ref in whose:
                if d in still:
                    left.setdefault(ref, []).append(_line(device.device, d))
                elif (device.device, d.resource) in done:
                    repaired.setdefault(ref, []).append(f"{device.device}: {d.resource}")
    return {
        ref: _verdict(left.get(ref, []), repaired.get(ref, []), unreadable.get(ref, []))
        for ref in refs
        if ref.kind in ("Site", "Occupier")
    }


def _drifted(status: Mapping[str, Any]) -> Mapping[str, Any]:
    found = [c for c in status.get("conditions") or [] if c.get("type") == ConditionType.DRIFTED]
    return found[0] if found else {}


def updates(
    check: DriftCheck, bodies: Mapping[Ref, Body], now: str
) -> tuple[dict[Ref, list[dict[str, Any]]], list[Event]]:
    """The new `conditions` of the objects whose Drifted condition changes, and the events:
    Drifted (Warning) when drift appears or changes, DriftRepaired (Normal) when the check
    repaired it, DeviceUnreadable (Warning) when a device could not be read."""
    conditions: dict[Ref, list[dict[str, Any]]] = {}
    events: list[Event] = []
    for ref, verdict in sorted(verdicts(check, bodies).items(),
                               key=lambda kv: (kv[0].kind, kv[0].name)):
        body = bodies[ref]
        status: Mapping[str, Any] = body.get("status") or {}
        old = _drifted(status)
        generation = (body.get("metadata") or {}).get("generation")
        new = set_condition(status.get("conditions") or [], ConditionType.DRIFTED,
                            verdict.drifted, verdict.reason, verdict.message, generation, now)
        if (old.get("status"), old.get("reason"), old.get("message")) == (
            _drifted({"conditions": new}).get("status"), verdict.reason, verdict.message[:1000]
        ):
            continue
        conditions[ref] = new
        if verdict.reason == "DeviceDrift":
            events.append(Event(ref, "Warning", "Drifted", verdict.message))
        elif verdict.reason == "Repaired":
            events.append(Event(ref, "Normal", "DriftRepaired", verdict.message))
        elif verdict.reason == "DeviceUnreadable":
            events.append(Event(ref, "Warning", "DeviceUnreadable", verdict.message))
    return conditions, events


def publish(check: DriftCheck, bodies: Mapping[Ref, Body], now: str,
            write_status: StatusWriter, post_event: EventPoster) -> int:
    """Write the Drifted conditions that changed (only `conditions`: the rest of the status
    is the reconciliation's) and post the events; return how many statuses were written."""
    conditions, events = updates(check, bodies, now)
    for ref, new in conditions.items():
        write_status(ref, {"conditions": new})
    for event in events:
        post_event(bodies[event.ref], event.type, event.reason, event.message)
    return len(conditions)
