"""The timeline (S10): every rule holds on every date where the desired state changes, not
only today. Pure: the dates come from the documents, `today` and the horizon are parameters.

The dates are contract starts, the day after a contract ends, scheduled changes and
decommission dates. The rules that read the date (DATED) run on today's whole repo, then on
each later date only for the occupiers whose state, as those rules see it, differs from the
date before (with the occupiers they share a site or a number with, for the rules that compare
occupiers): rules run once per distinct state. A finding is reported on the first date of each
stretch where it holds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from reconciler.catalogue import decommissioned, holds, statuses, terms_on
from reconciler.findings import Finding
from reconciler.model.base import Document
from reconciler.model.kinds import Service
from reconciler.model.repo import Ref, Repo, Source
from reconciler.rules import RULES, Context
from reconciler.rules import check as check_on

# The rules whose findings depend on the date; the others judge the documents (or the change
# a person asks for today) and run once.
DATED = frozenset({"S5", "S7", "N3", "T2", "T3"})


def events(repo: Repo) -> dict[date, set[str]]:
    """The dates on which the desired state changes, each with the occupiers it changes."""
    days: defaultdict[date, set[str]] = defaultdict(set)
    charged: defaultdict[str, set[str]] = defaultdict(set)  # contract → occupiers of its lines
    for service in repo.services.values():
        if service.spec.contract is not None:
            charged[service.spec.contract].add(service.spec.occupier)
        for change in service.spec.changes:
            days[change.on].add(service.spec.occupier)
    for name, contract in repo.contracts.items():
        who = {contract.spec.occupier, *charged.get(name, ())}
        days[contract.spec.start] |= who
        if contract.spec.end is not None and contract.spec.end < date.max:
            days[contract.spec.end + timedelta(days=1)] |= who  # Inactive from the next day
    for occupier in repo.occupiers.values():
        request = occupier.spec.decommission
        if request is not None and request.at is not None:
            days[request.at].add(occupier.name)
    return dict(days)


def dates(repo: Repo, today: date, horizon: date | None = None) -> list[date]:
    """Today, then every later date of change up to the horizon (default: the last one)."""
    later = sorted(d for d in events(repo) if d > today and (horizon is None or d <= horizon))
    return [today, *later]


def state_of(repo: Repo, occupier: str, services: list[Service], day: date) -> object:
    """What the dated rules can see of one occupier on `day`: equal states, equal findings.
    Only what can differ between two dates is kept (it is compared, never read): a line
    without scheduled changes has the same definition and quantity on every date."""
    status = statuses(repo, day)
    lines: list[object] = []
    for service in services:
        if not service.spec.changes:
            lines.append(status[service.metadata.name])
            continue
        definition, quantity, _ = terms_on(repo, service, day)
        # how many changes apply: findings point at the change that set the definition
        applied = sum(1 for change in service.spec.changes if change.on <= day)
        name = definition.name if definition else ""
        lines.append((status[service.metadata.name], name, quantity, applied))
    contracts = tuple(
        (c.spec.start <= day, holds(c, day)) for c in repo.contracts_of.get(occupier, ())
    )
    return decommissioned(repo.occupiers.get(occupier), day), tuple(lines), contracts


def presence_of(repo: Repo, occupier: str, services: list[Service], day: date) -> object:
    """What the rules comparing occupiers (N3, T2, T3) can see of one: whether it is still
    there, and which of its contracts hold."""
    contracts = tuple(holds(c, day) for c in repo.contracts_of.get(occupier, ()))
    return decommissioned(repo.occupiers.get(occupier), day), contracts


@dataclass(frozen=True)
class _Group:
    """Dated rules that see the same part of an occupier's state."""

    rules: frozenset[str]
    state: Callable[[Repo, str, list[Service], date], object]
    neighbours: bool  # the rules compare an occupier with those it shares a site or number with


GROUPS = (
    _Group(frozenset({"S5", "S7"}), state_of, False),
    _Group(frozenset({"N3", "T2", "T3"}), presence_of, True),
)
assert frozenset().union(*(g.rules for g in GROUPS)) == DATED


@dataclass
class Timeline:
    """The findings of the dated rules in force on each date, and those reported."""

    days: list[date]
    in_force: dict[date, frozenset[Finding]] = field(default_factory=dict)
    reported: list[Finding] = field(default_factory=list)

    def on(self, day: date) -> frozenset[Finding]:
        """The findings in force on any day from today to the horizon."""
        known = [d for d in self.days if d <= day]
        return self.in_force[known[-1]] if known else frozenset()


class _Scope:
    """Which occupiers' findings one run of the rules decides, and how to run on them."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        # Where occupiers meet, so that a rule compares them: sites, and phone numbers (T2
        # compares them across sites). place → occupiers, occupier → places.
        self.members: defaultdict[str, set[str]] = defaultdict(set)
        self.places: defaultdict[str, set[str]] = defaultdict(set)
        for occupier_name, site in [*repo.contracts_at, *repo.services_at]:
            self._meet(occupier_name, site)
        for occupier in repo.occupiers.values():
            activations = occupier.spec.activations
            places = [a.site for a in activations.floor_ports]
            places += [d.site for d in occupier.spec.wifi_devices]
            places += [n.site for n in activations.numbers]
            places += [n.number for n in activations.numbers]
            for place in places:
                self._meet(occupier.name, place)
        self.owner: dict[Source, str] = {}  # the document's occupier
        self.services: defaultdict[str, list[Service]] = defaultdict(list)
        for service in repo.services.values():
            self.services[service.spec.occupier].append(service)
            self._own(service, service.spec.occupier)
        for contract in repo.contracts.values():
            self._own(contract, contract.spec.occupier)
        for occupier in repo.occupiers.values():
            self._own(occupier, occupier.name)

    def _own(self, doc: Document, occupier: str) -> None:
        source = self.repo.sources.get(Ref(doc.kind, doc.name))
        if source is not None:
            self.owner[source] = occupier

    def _meet(self, occupier: str, place: str) -> None:
        self.members[place].add(occupier)
        self.places[occupier].add(place)

    def around(self, changed: Iterable[str]) -> set[str]:
        """The changed occupiers and every occupier they meet."""
        out = set(changed)
        for occupier in list(out):
            for place in self.places[occupier]:
                out |= self.members[place]
        return out

    def sub_repo(self, occupiers: set[str]) -> Repo:
        """The repo cut down to these occupiers (sites and catalogue whole)."""
        repo = self.repo
        if len(occupiers) >= len(self.places):
            return repo
        contracts = {c.name: c for o in occupiers for c in repo.contracts_of.get(o, ())}
        services = {s.name: s for o in occupiers for s in self.services.get(o, ())}
        for service in services.values():  # a line charged to another's contract (S1)
            other = repo.contracts.get(service.spec.contract or "")
            if other is not None:
                contracts.setdefault(other.name, other)
        sub = Repo(
            sites=repo.sites,
            definitions=repo.definitions,
            occupiers={o: repo.occupiers[o] for o in occupiers if o in repo.occupiers},
            contracts=contracts,
            services=services,
            sources=repo.sources,
        )
        return sub.index()

    def decides(self, finding: Finding, occupiers: set[str]) -> bool:
        """Whether a run on `occupiers` recomputes this finding (site and catalogue
        documents' findings are recomputed by every run)."""
        owner = self.owner.get(finding.source) if finding.source is not None else None
        return owner is None or owner in occupiers


def timeline(
    repo: Repo, ctx: Context, horizon: date | None = None, only: Iterable[str] | None = None
) -> Timeline:
    """Run the dated rules (of `only`) on every date of the timeline."""
    rules = [r for r in RULES if r in DATED and (only is None or r in set(only))]
    changes = events(repo)
    later = sorted(d for d in changes if d > ctx.today and (horizon is None or d <= horizon))
    result = Timeline([ctx.today, *later])
    current = frozenset(check_on(repo, ctx, rules)) if rules else frozenset()
    result.in_force[ctx.today] = current
    if not rules or not later:
        result.in_force.update((day, current) for day in later)
        return result
    services: defaultdict[str, list[Service]] = defaultdict(list)
    for service in repo.services.values():
        services[service.spec.occupier].append(service)
    scope: _Scope | None = None  # built on the first date where some state changes
    known: dict[tuple[int, str], object] = {}
    for day in later:
        new = set(current)
        for index, group in enumerate(GROUPS):
            wanted = [r for r in rules if r in group.rules]
            changed = set()
            for name in changes[day] if wanted else ():
                lines = services.get(name, [])
                if (index, name) not in known:
                    known[index, name] = group.state(repo, name, lines, ctx.today)
                state = group.state(repo, name, lines, day)
                if state != known[index, name]:
                    known[index, name] = state
                    changed.add(name)
            if not changed:
                continue
            # the findings of these occupiers may change; rules that compare occupiers see
            # their neighbours too
            scope = scope or _Scope(repo)
            decided = scope.around(changed) if group.neighbours else changed
            seen = scope.around(decided) if group.neighbours else decided
            run = check_on(scope.sub_repo(seen), replace(ctx, today=day), wanted)
            new = {f for f in new if f.rule not in group.rules or not scope.decides(f, decided)}
            new |= {f for f in run if scope.decides(f, decided)}
        if new != current:
            result.reported.extend(f.dated(day) for f in new - current)
            current = frozenset(new)
        result.in_force[day] = current
    return result


def check(repo: Repo, ctx: Context, only: Iterable[str] | None = None) -> list[Finding]:
    """Every rule (of `only`) today, and the dated ones on each later date of the timeline,
    each finding reported from the first date of each stretch where it holds."""
    wanted = list(RULES) if only is None else [r for r in RULES if r in set(only)]
    undated = [r for r in wanted if r not in DATED]
    found = check_on(repo, ctx, undated) if undated else []
    line = timeline(repo, ctx, ctx.horizon, wanted)
    return [*found, *line.in_force[ctx.today], *line.reported]


__all__ = ["DATED", "Timeline", "check", "dates", "events", "timeline"]
