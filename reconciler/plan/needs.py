"""What each occupier needs at each site on `today`: from its Active services, scheduled
changes applied (S2, S9, S10), less the lines a make-before-break replacement has retired
(S8). Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

from reconciler.catalogue import Status, quantity_of, statuses, terms_on
from reconciler.model.kinds import ServiceDefinition
from reconciler.model.repo import Repo


@dataclass
class Need:
    """What one occupier needs at one site today."""

    network: bool = False
    ports: Counter[str] = field(default_factory=Counter)  # role → count (Y)
    public_ips: int = 0
    public_blocks: list[int] = field(default_factory=list)  # prefix lengths
    numbers: int = 0  # Y
    services: list[str] = field(default_factory=list)


def replaced(repo: Repo, active: Collection[str]) -> dict[str, str]:
    """S8 make-before-break: a line is retired once the service replacing it is Active on the
    devices (recorded by a previous apply); until then both are provisioned."""
    return {
        s.spec.replaces: s.name
        for s in repo.services.values()
        if s.spec.replaces and s.name in active
    }


def needs(
    repo: Repo, today: date, active: Collection[str] = frozenset()
) -> dict[tuple[str, str], Need]:
    """S2/S9/S10: only Active services are provisioned, with their terms on `today`."""
    status = statuses(repo, today)
    retired = replaced(repo, active)
    units: dict[str, _Unit] = {}
    out: dict[tuple[str, str], Need] = {}
    provisioned = Status.ACTIVE
    for name, service in repo.services.items():
        if status.get(name) is not provisioned or name in retired:
            continue
        spec = service.spec
        if spec.changes:
            definition, quantity, _ = terms_on(repo, service, today)
        else:  # terms_on's answer without its price: the common case, on every service
            definition = repo.definitions.get(spec.definition)
            quantity = (
                spec.quantity if spec.quantity is not None else quantity_of(service, definition)
            )
        if definition is None or quantity <= 0:
            continue
        key = (spec.occupier, spec.site)
        need = out.get(key)
        if need is None:  # not setdefault: that would build a Need per service
            need = out[key] = Need()
        need.network = True
        need.services.append(name)
        unit = units.get(definition.name)
        if unit is None:
            unit = units[definition.name] = _Unit.of(definition)
        if unit.ports:
            need.ports[unit.role] += unit.ports * quantity
        need.public_ips += unit.public_ips * quantity
        if unit.block:
            need.public_blocks.extend([unit.block] * quantity)
        need.numbers += unit.numbers * quantity
    return out


@dataclass(frozen=True, slots=True)
class _Unit:
    """What one unit of a definition needs, read from its model once per plan."""

    role: str
    ports: int
    public_ips: int
    block: int | None
    numbers: int

    @classmethod
    def of(cls, definition: ServiceDefinition) -> _Unit:
        infra = definition.spec.infrastructure
        ports = infra.switch_ports
        return cls(
            ports.role if ports is not None else "",
            ports.count if ports is not None else 0,
            infra.public_ips,
            infra.public_prefix_length,
            infra.phone_numbers,
        )
