"""`tenantry ledger check`: what must hold in any ledger, checked on what it holds. Pure.

The database already makes (site, kind, value) unique and one VLAN and prefix per occupier
and site; these checks cover what a constraint cannot say: overlapping prefixes and blocks,
values a pool could never have given, holders and statuses that name nobody, states that
contradict each other. Each problem is one line.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from ipaddress import IPv4Network, ip_network
from itertools import pairwise

from reconciler.ledger.model import Allocation, Holdings, Kind, State
from reconciler.model.repo import Repo

SERVICE_STATUSES = {"Active", "Scheduled", "Inactive", "Updating", "Failed"}
NEEDS_HOLDER = {State.HELD, State.RESERVED, State.ACTIVE}


def problems(
    holdings: Holdings,
    statuses: Mapping[str, Mapping[str, str]],
    repo: Repo | None,
    decommissioned: frozenset[str] = frozenset(),
) -> list[str]:
    """Every broken invariant; `statuses` is kind → name → status; `repo` (optional) the
    desired state the holders and services must exist in."""
    found = [*_rows(holdings), *_overlaps(holdings), *_statuses(statuses)]
    if repo is not None:
        found += _holders(holdings, statuses, repo, decommissioned)
    return found


def _where(row: Allocation) -> str:
    return f"{row.kind} {row.value} at {row.site}"


def _rows(holdings: Holdings) -> Iterator[str]:
    for row in holdings.rows:
        if row.state in NEEDS_HOLDER and not row.holder:
            yield f"{_where(row)} is {row.state} but has no holder"
        if row.state is State.COOLING_OFF:
            if row.kind is not Kind.NUMBER:
                yield f"{_where(row)} is cooling off, which only numbers do"
            elif row.until is None:
                yield f"{_where(row)} is cooling off with no end date"
            elif row.holder:
                yield f"{_where(row)} is cooling off but still held by {row.holder}"
        problem = _value_problem(row)
        if problem:
            yield f"{_where(row)}: {problem}"


def _value_problem(row: Allocation) -> str:
    if row.kind is Kind.VLAN:
        return "" if row.value.isdigit() and 1 <= int(row.value) <= 4094 else "not a VLAN id"
    if row.kind in (Kind.PREFIX, Kind.PUBLIC):
        try:
            ip_network(row.value)
        except ValueError:
            return "not a network"
    if row.kind is Kind.NUMBER and not (row.value.startswith("+") and row.value[1:].isdigit()):
        return "not an E.164 number"
    return ""


def _overlaps(holdings: Holdings) -> Iterator[str]:
    """Two prefixes or public blocks at a site that overlap are one address held twice."""
    nets: dict[tuple[str, Kind], list[tuple[IPv4Network, Allocation]]] = defaultdict(list)
    for row in holdings.rows:
        if row.kind in (Kind.PREFIX, Kind.PUBLIC):
            try:
                net = ip_network(row.value)
            except ValueError:
                continue
            if isinstance(net, IPv4Network):
                nets[row.site, row.kind].append((net, row))
    for entries in nets.values():
        entries.sort(key=lambda e: (int(e[0].network_address), e[0].prefixlen))
        for (a, ra), (b, rb) in pairwise(entries):
            if a.overlaps(b):
                yield f"{_where(ra)} ({ra.holder}) overlaps {rb.value} ({rb.holder})"


def _statuses(statuses: Mapping[str, Mapping[str, str]]) -> Iterator[str]:
    for name, status in sorted(statuses.get("Service", {}).items()):
        if status not in SERVICE_STATUSES:
            yield f"service {name} has the unknown status {status!r}"


def _holders(
    holdings: Holdings,
    statuses: Mapping[str, Mapping[str, str]],
    repo: Repo,
    decommissioned: frozenset[str],
) -> Iterator[str]:
    holders = sorted({(row.holder, row.site) for row in holdings.rows if row.holder})
    for holder, site in holders:
        if holder not in repo.occupiers and holder not in decommissioned:
            yield f"{holder} holds values at {site} but is no occupier of the desired state"
        if site not in repo.sites:
            yield f"{holder} holds values at {site}, which is no site of the desired state"
    vlans = {(row.holder, row.site) for row in holdings.rows if row.kind is Kind.VLAN}
    for name, status in sorted(statuses.get("Service", {}).items()):
        service = repo.services.get(name)
        if status in ("Active", "Updating") and service is None:
            yield f"service {name} is recorded {status} but is not in the desired state"
        elif status == "Active" and service is not None:
            key = (service.spec.occupier, service.spec.site)
            if key not in vlans:
                yield f"service {name} is Active but {key[0]} holds no VLAN at {key[1]}"
