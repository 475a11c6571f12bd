"""What the operator tells the cluster, as pure functions of one run's `Outcome`: the status
and conditions of every object, the events worth telling, the verdict for kopf. No kopf, no
threads, no ledger here: `engine.py` runs the reconciliation and fills the Outcome,
handlers.py is the thin kopf shell; all of it runs and is tested without an API server.

Reconciliation is level-triggered and global, as `tenantry apply` is: whatever object
changed, the whole desired state is planned against the ledger, because allocations are
shared per site (a new Service of one occupier can take the last free VLAN another one
needed). Runs are serialized and coalesced: a request that arrives while a run is going on
is served by the next run, which sees every change made before it started.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from reconciler.catalogue import (
    Infra,
    Status,
    contract_status,
    decommissioned,
    infrastructure,
    live,
    statuses,
)
from reconciler.findings import Finding
from reconciler.ledger.model import Allocation, Holdings, Kind, StatusRecord
from reconciler.model.repo import Ref
from reconciler.model.status import ConditionType, set_condition
from reconciler.operator.cluster import Body, Snapshot
from reconciler.plan.pools import PoolUse
from reconciler.rules.decommission import DECOMMISSION_PHASES

RETRY_BUSY_S = 5.0  # ledger busy: soon
RETRY_DEVICE_S = 30.0  # a device failed: later
RETRY_BLOCKED_S = 60.0  # another object is invalid: the timer or its fix brings us back
RETRY_WAITING_S = 10.0  # this object names one that is not there (yet)

INFRA_KEYS = {
    Infra.SWITCH_PORTS: "switchPorts",
    Infra.PHONE_NUMBERS: "phoneNumbers",
    Infra.PUBLIC_IPS: "publicIPs",
    Infra.WIFI_DEVICES: "wifiDevices",
    Infra.WIFI_USERS: "wifiUsers",
}
POOL_KEYS = {
    "VLANs": "vlans",
    "prefixes": "prefixes",
    "public IPs": "publicIPs",
    "numbers": "numbers",
    "floor ports": "floorPorts",
}


@dataclass(frozen=True)
class Event:
    """A Kubernetes event to post on an object."""

    ref: Ref
    type: str  # Normal | Warning
    reason: str
    message: str


@dataclass(frozen=True)
class Verdict:
    """What the handler of one object should tell kopf: nothing, retry later, or give up."""

    retry: bool = False
    permanent: bool = False
    message: str = ""
    delay: float = 0.0


@dataclass
class Outcome:
    """What one reconcile found and did, for the objects' statuses and events."""

    snap: Snapshot
    today: date
    invalid: dict[Ref, list[Finding]] = field(default_factory=dict)
    unplaced: list[Finding] = field(default_factory=list)  # errors not tied to one object
    temporary: str = ""  # the reason a retry may help (ledger busy, a device down)
    failed_sites: dict[str, str] = field(default_factory=dict)
    holdings: Holdings | None = None
    services: dict[str, StatusRecord] = field(default_factory=dict)
    pools: list[PoolUse] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def blocked(self) -> bool:
        return bool(self.invalid or self.unplaced)

    def verdict(self, ref: Ref) -> Verdict:
        if ref in self.invalid:
            text = findings_text(self.invalid[ref])
            if all(f.rule == "ref" for f in self.invalid[ref]):  # what it names may yet come
                return Verdict(retry=True, message=text, delay=RETRY_WAITING_S)
            return Verdict(permanent=True, message=text)
        if self.temporary:
            busy = "busy" in self.temporary
            delay = RETRY_BUSY_S if busy else RETRY_DEVICE_S
            return Verdict(retry=True, message=self.temporary, delay=delay)
        if self.blocked and ref not in self.snap.parked:
            return Verdict(retry=True, message=self.blocked_message(), delay=RETRY_BLOCKED_S)
        return Verdict()

    def blocked_message(self) -> str:
        names = sorted(f"{r.kind}/{r.name}" for r in self.invalid)
        text = f"nothing applied: invalid {', '.join(names)}" if names else "nothing applied"
        if self.unplaced:
            text += f"; {findings_text(self.unplaced)}"
        return text


def findings_text(findings: Iterable[Finding]) -> str:
    return "; ".join(
        f"[{f.rule}] {f.message}" + (f" (hint: {f.hint})" if f.hint else "")
        for f in findings
        if f.is_error
    )


def place(outcome: Outcome, errors: Iterable[Finding]) -> None:
    for finding in errors:
        placed = outcome.snap.refs_of([finding])
        if not placed:
            outcome.unplaced.append(finding)
        for ref, found in placed.items():
            outcome.invalid.setdefault(ref, []).extend(found)


def allocation_events(before: Holdings, after: Holdings) -> list[Event]:
    """One event per value taken, released or changed, on the occupier that holds it."""
    events = []
    for key in sorted(set(before.by_key) | set(after.by_key)):
        old, new = before.by_key.get(key), after.by_key.get(key)
        if old == new:
            continue
        if new is not None and new.holder and (old is None or old.holder != new.holder):
            events.append(Event(Ref("Occupier", new.holder), "Normal", "Allocated", _what(new)))
        if old is not None and old.holder and (new is None or new.holder != old.holder):
            events.append(Event(Ref("Occupier", old.holder), "Normal", "Released", _what(old)))
        elif old is not None and new is not None and old.holder == new.holder and new.holder:
            events.append(
                Event(
                    Ref("Occupier", new.holder), "Normal", "Changed", f"{_what(new)}: {new.state}"
                )
            )
    return events


def _what(row: Allocation) -> str:
    role = f" ({row.role})" if row.role else ""
    return f"{row.kind} {row.value}{role} at {row.site}"


# ------------------------------------------------------------------------------ statuses


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_of(outcome: Outcome, ref: Ref) -> dict[str, Any]:
    """The whole `.status` of one object after a run."""
    body = outcome.snap.bodies[ref]
    previous: Mapping[str, Any] = body.get("status") or {}
    generation = (body.get("metadata") or {}).get("generation")
    verdict = outcome.verdict(ref)
    fields = _fields(outcome, ref, previous)
    phase = str(fields.pop("phase", previous.get("phase") or "Pending"))
    if ref in outcome.snap.parked:
        why = outcome.snap.parked[ref]
        ready, stalled, reason, message = False, False, "Waiting", why
        phase = "Deleting" if why == "being deleted" else "Waiting"
    elif ref in outcome.invalid and not verdict.permanent:
        ready, stalled, reason, message = False, False, "Waiting", verdict.message
        phase = "Waiting"
    elif verdict.permanent:
        ready, stalled, reason, message = False, True, "InvalidSpec", verdict.message
        if phase not in DECOMMISSION_PHASES:
            phase = "Invalid"
    elif verdict.retry:
        reason = "Blocked" if outcome.blocked else "Retrying"
        ready, stalled, message = False, False, verdict.message
    else:
        ready, stalled, reason, message = True, False, "Reconciled", "applied"
    retrying, when = verdict.retry, now()
    conditions: list[dict[str, Any]] = list(previous.get("conditions") or [])
    for kind, true, why, text in (
        (ConditionType.READY, ready, reason, message),
        (ConditionType.RECONCILING, retrying, *((reason, message) if retrying else ("Idle", ""))),
        (ConditionType.STALLED, stalled, *((reason, message) if stalled else ("Progressing", ""))),
    ):
        conditions = set_condition(conditions, kind, true, why, text, generation, when)
    return {"phase": phase, "observedGeneration": generation, "conditions": conditions, **fields}


def _fields(outcome: Outcome, ref: Ref, previous: Mapping[str, Any]) -> dict[str, Any]:
    repo, today = outcome.snap.repo, outcome.today
    if outcome.holdings is None or ref in outcome.snap.parked:
        return {}
    if ref.kind == "Occupier" and ref.name in repo.occupiers:
        return occupier_fields(outcome, ref.name)
    if ref.kind == "Service" and ref.name in repo.services:
        now_status = statuses(repo, today)[ref.name]
        record = outcome.services.get(ref.name)
        if now_status is Status.ACTIVE and record is not None:
            return {"phase": record.status, "reason": record.reason}
        return {"phase": str(now_status)}
    if ref.kind == "Contract" and ref.name in repo.contracts:
        return {"phase": str(contract_status(repo.contracts[ref.name], today))}
    if ref.kind == "Site" and ref.name in repo.sites:
        pools = {
            POOL_KEYS[p.pool]: f"{p.used}/{p.size}" for p in outcome.pools if p.site == ref.name
        }
        failed = outcome.failed_sites.get(ref.name)
        return {"phase": "Failed" if failed else "Active", "pools": pools}
    if ref.kind == "ServiceDefinition" and ref.name in repo.definitions:
        return {"phase": "Inactive" if repo.definitions[ref.name].spec.inactive else "Available"}
    return {}


def occupier_fields(outcome: Outcome, name: str) -> dict[str, Any]:
    repo, today, holdings = outcome.snap.repo, outcome.today, outcome.holdings or Holdings()
    doc = repo.occupiers[name]
    sites = sorted(set(repo.sites_of(name)) | {s for (s, h) in holdings.of if h == name})
    totals = {key: [0, 0] for key in INFRA_KEYS.values()}
    per_site = []
    for site in sites:
        held = holdings.of.get((site, name), [])
        public = [a.value for a in held if a.kind is Kind.PUBLIC]
        usage = infrastructure(repo, name, site, today, len(public)) if site in repo.sites else {}
        infra = {}
        for kind, use in usage.items():
            key = INFRA_KEYS[kind]
            infra[key] = str(use)
            totals[key][0] += use.in_use
            totals[key][1] += use.allocated
        vlan = [a.value for a in held if a.kind is Kind.VLAN]
        prefix = [a.value for a in held if a.kind is Kind.PREFIX]
        per_site.append(
            {
                "site": site,
                "vlan": int(vlan[0]) if vlan else None,
                "prefix": prefix[0] if prefix else None,
                "publicIPs": sorted(public),
                "numbers": [
                    {
                        "number": a.value,
                        "state": str(a.state),
                        **({"role": a.role} if a.role else {}),
                    }
                    for a in sorted(held, key=lambda a: a.value)
                    if a.kind is Kind.NUMBER
                ],
                "ports": [
                    {"floorPort": a.value, "role": a.role, "state": str(a.state)}
                    for a in sorted(held, key=lambda a: a.value)
                    if a.kind is Kind.PORT
                ],
                "infrastructure": infra,
            }
        )
    status_now = statuses(repo, today)
    services = sum(
        1 for s in repo.services.values() if s.spec.occupier == name and live(status_now[s.name])
    )
    request = doc.spec.decommission
    phase = (
        "Decommissioned"
        if decommissioned(doc, today)
        else "DecommissionPending"
        if request is not None
        else "Active"
    )
    return {
        "phase": phase,
        "services": services,
        "ports": "{}/{}".format(*totals["switchPorts"]),
        "numbers": "{}/{}".format(*totals["phoneNumbers"]),
        "publicIPs": "{}/{}".format(*totals["publicIPs"]),
        "sites": per_site,
    }


# ------------------------------------------------------------------------------ publishing

StatusWriter = Callable[[Ref, dict[str, Any]], None]
EventPoster = Callable[[Body, str, str, str], None]


def _comparable(status: Mapping[str, Any]) -> Any:
    def strip(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: strip(v) for k, v in value.items() if k != "lastTransitionTime"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip({k: v for k, v in status.items() if k != "kopf"})


def _ready(status: Mapping[str, Any]) -> Mapping[str, Any]:
    found = [c for c in status.get("conditions") or [] if c.get("type") == ConditionType.READY]
    return found[0] if found else {}


def publish(outcome: Outcome, write_status: StatusWriter, post_event: EventPoster) -> int:
    """Write every status that changed and post the events; return how many were written.
    A change of Ready (reason or message) is an event too, so failures show in
    `kubectl describe` and `kubectl get events`."""
    written = 0
    for ref, body in sorted(outcome.snap.bodies.items(), key=lambda kv: (kv[0].kind, kv[0].name)):
        new = status_of(outcome, ref)
        old = body.get("status") or {}
        if _comparable(new) == _comparable(old):
            continue
        write_status(ref, new)
        written += 1
        ready_old = _ready(old)
        ready_new = _ready(new)
        if (ready_old.get("reason"), ready_old.get("message")) != (
            ready_new["reason"],
            ready_new["message"],
        ):
            kind = "Normal" if ready_new["status"] == "True" else "Warning"
            post_event(body, kind, ready_new["reason"], ready_new["message"] or new["phase"])
    for event in outcome.events:
        target = outcome.snap.bodies.get(event.ref)
        if target is not None:
            post_event(target, event.type, event.reason, event.message)
    return written
