"""The `status` the operator writes on each kind, typed so that the CRDs declare it (and
`kubectl explain` describes it), and the one pure function that sets a condition.

Conditions have the shape of Kubernetes' metav1.Condition, so `kubectl wait
--for=condition=Ready` and generic tools (Argo CD health, kstatus) read them: `Ready`,
`Reconciling`, `Stalled` (kstatus' abnormal-true pair) and `Drifted` (a device differs from
the last apply; set by the drift check).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class ConditionType(StrEnum):
    READY = "Ready"
    RECONCILING = "Reconciling"
    STALLED = "Stalled"
    DRIFTED = "Drifted"


class Observed(BaseModel):
    """Base of the status models: camelCase, documented by the docstring under each field
    (`reconciler.model.base.described`, when the CRDs are generated)."""

    # extra="forbid": a status field the operator writes must be declared here, so the CRDs
    # (and `kubectl explain`) describe it.
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_alias=True,
        extra="forbid",
    )


Reason = Annotated[
    str, Field(pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$", min_length=1, max_length=1024)
]


class Condition(Observed):
    """One aspect of the object's state, as Kubernetes' metav1.Condition."""

    type: ConditionType
    """Ready (applied and converged), Reconciling (work in progress or retrying), Stalled
    (cannot progress until the object changes: a rule refuses it), Drifted (a device differs
    from the last apply)."""
    status: Annotated[str, Field(pattern=r"^(True|False|Unknown)$")]
    """True, False or Unknown."""
    reason: Reason
    """One CamelCase word for machines: Reconciled, Waiting, InvalidSpec, Retrying, Blocked…"""
    message: Annotated[str, Field(max_length=32768)]
    """For people: the rule's finding, the device that failed, what is awaited."""
    last_transition_time: Annotated[str, Field(json_schema_extra={"format": "date-time"})]
    """When `status` last changed (RFC 3339)."""
    observed_generation: Annotated[int, Field(ge=0)] | None = None
    """The metadata.generation this condition was computed from."""


class PortStatus(Observed):
    """A floor port the occupier holds."""

    floor_port: str
    """The floor port (N3)."""
    role: str | None = None
    """The role it was allocated for."""
    state: str
    """The ledger state: active, parked, …"""


class NumberStatus(Observed):
    """A phone number the occupier holds (T2)."""

    number: str
    """The number, E.164."""
    state: str
    """reserved, active or cooling-off (T2)."""
    role: str | None = None
    """main, or the user it is assigned to (T1)."""


class OccupierSite(Observed):
    """What the occupier holds at one site."""

    site: str
    """The site."""
    vlan: int | None = None
    """The occupier's VLAN there (N1)."""
    prefix: str | None = None
    """The occupier's private prefix there (N1)."""
    public_ips: Annotated[list[str], Field(alias="publicIPs")] = []
    """Public addresses or blocks held (N2)."""
    numbers: list[NumberStatus] = []
    """Phone numbers held (T2)."""
    ports: list[PortStatus] = []
    """Floor ports held (N3)."""
    infrastructure: dict[str, str] = {}
    """X/Y per infrastructure type: in use / allocated by the services (S6)."""


class Status(Observed):
    """Written by the tenantry operator."""

    phase: str | None = None
    """A one-word summary for `kubectl get`: Active, Scheduled, Waiting, Invalid, Failed…"""
    observed_generation: int | None = None
    """The metadata.generation the operator last reconciled."""
    conditions: list[Condition] = []
    """Ready, Reconciling, Stalled (and Drifted), one of each at most."""


class OccupierStatus(Status):
    """Written by the tenantry operator: allocations and provisioned infrastructure."""

    services: int | None = None
    """Live service lines of the occupier."""
    ports: str | None = None
    """Switch ports in use / allocated, over every site (S6)."""
    numbers: str | None = None
    """Phone numbers in use / allocated, over every site (S6)."""
    public_ips: Annotated[str | None, Field(alias="publicIPs")] = None
    """Public IPs in use / allocated, over every site (S6)."""
    sites: list[OccupierSite] = []
    """What the occupier holds at each site."""


class SiteStatus(Status):
    """Written by the tenantry operator: pool utilization."""

    pools: dict[str, str] = {}
    """Used/size per pool: vlans, prefixes, publicIPs, numbers, floorPorts."""


class ServiceStatus(Status):
    """Written by the tenantry operator: the service line's state in the ledger."""

    reason: str | None = None
    """Why the service is Failed (the device and its error)."""


STATUS_MODELS: dict[str, type[Status]] = {
    "Site": SiteStatus,
    "ServiceDefinition": Status,
    "Occupier": OccupierStatus,
    "Contract": Status,
    "Service": ServiceStatus,
}


def set_condition(
    conditions: Iterable[Mapping[str, Any]],
    type: ConditionType,
    true: bool | None,
    reason: str,
    message: str,
    generation: int | None,
    now: str,
) -> list[dict[str, Any]]:
    """`conditions` with the one of `type` set (appended when absent; `true` None: Unknown);
    its lastTransitionTime moves to `now` only when its status changes."""
    status = "Unknown" if true is None else "True" if true else "False"
    new: dict[str, Any] = {
        "type": str(type),
        "status": status,
        "reason": reason,
        "message": message[:1000],
        "lastTransitionTime": now,
    }
    if generation is not None:
        new["observedGeneration"] = generation
    out: list[dict[str, Any]] = []
    for old in conditions:
        if old.get("type") != str(type):
            out.append(dict(old))
            continue
        if old.get("status") == status and old.get("lastTransitionTime"):
            new["lastTransitionTime"] = old["lastTransitionTime"]
        out.append(new)
        new = {}
    if new:
        out.append(new)
    return out
