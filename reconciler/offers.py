"""Seed 000's "Available services" list: what an occupier may still add at a site on a date,
and for each definition it may not, the rule that forbids it. Pure; `tenantry catalogue`
prints it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from reconciler.catalogue import decommissioned, holds, live, statuses, terms_on
from reconciler.model.kinds import AnyOf, ServiceDefinition
from reconciler.model.repo import Repo


@dataclass(frozen=True)
class Offer:
    """A definition an occupier may (or may not) add at a site: seed 000's Available
    services."""

    definition: str
    category: str
    description: str
    rrp: Decimal
    available: bool
    reason: str  # why not, with the rule's id; or how (an upgrade with `replaces`)
    case: str  # what to send the provider in a case when it is added (IVR, bridges)


def offers(repo: Repo, occupier: str, site: str, today: date) -> list[Offer]:
    """Every definition of the catalogue, in name order, for `occupier` at `site`."""
    having = _lines(repo, occupier, site, today)
    blocked = _blocked(repo, occupier, site, today)
    out = []
    for name in sorted(repo.definitions):
        definition = repo.definitions[name]
        reason = blocked or _forbidden(repo, definition, having)
        spec = definition.spec
        out.append(
            Offer(
                name,
                str(spec.category),
                spec.description,
                spec.rrp,
                not reason,
                reason,
                spec.raise_case or "",
            )
        )
    return out


def _blocked(repo: Repo, occupier: str, site: str, today: date) -> str:
    """Nothing at all can be added: no contract there, or the occupier is leaving."""
    doc = repo.occupiers.get(occupier)
    if doc is not None and doc.spec.decommission is not None:
        when = "is decommissioned" if decommissioned(doc, today) else "has a decommission request"
        return f"D5: {occupier} {when}; its documents are read-only"
    contracts = repo.contracts_at.get((occupier, site), ())
    if not any(holds(c, today) for c in contracts):
        return f"S1: {occupier} has no contract at {site}"
    return ""


Lines = dict[str, list[tuple[str, int]]]


def _lines(repo: Repo, occupier: str, site: str, today: date) -> Lines:
    """definition → the occupier's live lines of it at the site and their quantities."""
    status = statuses(repo, today)
    out: defaultdict[str, list[tuple[str, int]]] = defaultdict(list)
    for service in repo.services_at.get((occupier, site), ()):
        if live(status[service.name]):
            definition, quantity, _ = terms_on(repo, service, today)
            name = definition.name if definition else service.spec.definition
            out[name].append((service.name, quantity))
    return dict(out)


def _forbidden(repo: Repo, definition: ServiceDefinition, having: Lines) -> str:
    spec = definition.spec
    name = definition.name
    if spec.inactive:
        return "S4: inactive; it cannot be newly assigned"
    lines = having.get(name, [])
    if spec.max_per_occupier is not None and sum(q for _, q in lines) >= spec.max_per_occupier:
        held = ", ".join(n for n, _ in lines)
        return f"S5: at most {spec.max_per_occupier} per occupier; has {held}"
    for other, services in sorted(having.items()):
        other_def = repo.definitions.get(other)
        if other in spec.excludes or (other_def is not None and name in other_def.spec.excludes):
            first = services[0][0]
            return f"S5: excludes {other} ({first}); to upgrade, add it with `replaces: {first}`"
    for entry in spec.requires:
        names = list(entry.any_of) if isinstance(entry, AnyOf) else [entry]
        if not any(n in having for n in names):
            return f"S5: requires {' or '.join(names)}; add that first"
    return ""


__all__ = ["Offer", "offers"]
