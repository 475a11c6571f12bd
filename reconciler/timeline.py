"""The timeline (S10): every rule holds on every date where the desired state changes, not
only today. Pure: the dates come from the documents, `today` and the horizon are parameters.

The dates are contract starts, the day after a contract ends, scheduled changes and
decommission dates. The rules that read the date (DATED) run on today's whole repo, then on
each later date only for the occupiers whose state, as those rules see it, differs from the
date before (with the occupiers they share a floor port, a space, a number or a MAC with, for
the rules that compare occupiers), on a repo cut down to them: rules run once per distinct
state, and a date costs what changes on it, not the size of the repo. A finding is reported on
the first date of each stretch where it holds.
"""

# Annotations are objects (no `from __future__ import annotations`): `reconciler.refs` says why.
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import NamedTuple

from reconciler.catalogue import (
    charges,
    decommissioned,
    holds,
    line_status,
    site_facts,
    terms_on,
)
from reconciler.findings import Finding
from reconciler.model.kinds import AtEnd, Service
from reconciler.model.repo import Ref, Repo, Source
from reconciler.rules import RULES, Context
from reconciler.rules import check as check_on
from reconciler.rules.telephony import mac_key

# The rules whose findings depend on the date; the others judge the documents (or the change
# a person asks for today) and run once.
DATED = frozenset({"S5", "S7", "N3", "T2", "T3"})


def events(repo: Repo) -> dict[date, set[str]]:
    """The dates on which the desired state changes, each with the occupiers it changes."""
    changing, kept = _events(repo)
    days = {day: set(who) for day, who in changing.items()}
    for day, who in kept.items():
        days.setdefault(day, set()).update(who)
    return days


def _events(repo: Repo) -> tuple[dict[date, set[str]], dict[date, set[str]]]:
    """`events`, apart: the ends of `atEnd: keep` contracts come second, for nothing the dated
    rules see changes then (the lines stay Active, the contract still holds its spaces)."""
    days: defaultdict[date, set[str]] = defaultdict(set)
    kept: defaultdict[date, set[str]] = defaultdict(set)
    charged: defaultdict[str, set[str]] = defaultdict(set)  # contract → occupiers of its lines
    last, next_day, keep = date.max, timedelta(days=1), AtEnd.KEEP  # read once, not per line
    for service in repo.services.values():
        spec = service.spec
        if spec.contract is not None:
            charged[spec.contract].add(spec.occupier)
        for change in spec.changes:
            days[change.on].add(spec.occupier)
        if spec.end is not None and spec.end < last:
            days[spec.end + next_day].add(spec.occupier)  # Inactive from the next day
    for name, contract in repo.contracts.items():
        lease = contract.spec
        lines = charged.get(name)  # most lines name no contract: then only its occupier's
        who = {lease.occupier, *lines} if lines else (lease.occupier,)
        days[lease.start].update(who)
        if lease.end is not None and lease.end < last:
            ends = kept if lease.at_end is keep else days
            ends[lease.end + next_day].update(who)  # Inactive from the next day
    for occupier in repo.occupiers.values():
        request = occupier.spec.decommission
        if request is not None and request.at is not None:
            days[request.at].add(occupier.name)
    return dict(days), dict(kept)


def dates(repo: Repo, today: date, horizon: date | None = None) -> list[date]:
    """Today, then every later date of change up to the horizon (default: the last one)."""
    later = sorted(d for d in events(repo) if d > today and (horizon is None or d <= horizon))
    return [today, *later]


def state_of(repo: Repo, occupier: str, services: list[Service], day: date) -> object:
    """What the dated rules can see of one occupier on `day`: equal states, equal findings.
    Only what can differ between two dates is kept (it is compared, never read): a line
    without scheduled changes has the same definition and quantity on every date."""
    gone = decommissioned(repo.occupiers.get(occupier), day)
    charged = charges(repo)
    lines: list[object] = []
    for service in services:
        status = line_status(charged[service.metadata.name], service, gone, day)
        if not service.spec.changes:
            lines.append(status)
            continue
        definition, quantity, _ = terms_on(repo, service, day)
        # how many changes apply: findings point at the change that set the definition
        applied = sum(1 for change in service.spec.changes if change.on <= day)
        name = definition.metadata.name if definition else ""
        lines.append((status, name, quantity, applied))
    contracts = tuple(
        (c.spec.start <= day, holds(c, day)) for c in repo.contracts_of.get(occupier, ())
    )
    return gone, tuple(lines), contracts


def presence_of(repo: Repo, occupier: str, services: list[Service], day: date) -> object:
    """What the rules comparing occupiers (N3, T2, T3) can see of one: whether it is still
    there, and which of its contracts hold."""
    contracts = tuple(holds(c, day) for c in repo.contracts_of.get(occupier, ()))
    return decommissioned(repo.occupiers.get(occupier), day), contracts


class _Group(NamedTuple):
    """Dated rules that see the same part of an occupier's state."""

    rules: frozenset[str]
    state: Callable[[Repo, str, list[Service], date], object]
    neighbours: bool  # the rules compare an occupier with those it shares a port, space...


GROUPS = (
    _Group(frozenset({"S5", "S7"}), state_of, False),
    _Group(frozenset({"N3", "T2", "T3"}), presence_of, True),
)
assert frozenset().union(*(g.rules for g in GROUPS)) == DATED


class Timeline:
    """The findings of the dated rules in force today, what each later date adds and
    removes, and the findings reported (each dated from the first day it holds). (A plain
    class, as Repo.)"""

    def __init__(self, days: list[date]) -> None:
        self.days = days
        self.today: frozenset[Finding] = frozenset()
        # date → (added, removed); a date where nothing changes is left out
        self.changes: dict[date, tuple[frozenset[Finding], frozenset[Finding]]] = {}
        self.reported: list[Finding] = []

    def on(self, day: date) -> frozenset[Finding]:
        """The findings in force on any day from today to the horizon."""
        if day < self.days[0]:
            return frozenset()
        found = set(self.today)
        for when in self.days[1:]:
            if when > day:
                break
            added, removed = self.changes.get(when, (frozenset(), frozenset()))
            found = (found - removed) | added
        return frozenset(found)

    @property
    def in_force(self) -> dict[date, frozenset[Finding]]:
        """The findings in force on each date of the timeline (for reading, not in a loop:
        every date holds a whole set)."""
        out: dict[date, frozenset[Finding]] = {}
        found = self.today
        for day in self.days:
            added, removed = self.changes.get(day, (frozenset(), frozenset()))
            found = out[day] = (found - removed) | added
        return out


class _Scope:
    """Which occupiers' findings one run of the rules decides, and how to run on them."""

    def __init__(self, repo: Repo, services: dict[str, list[Service]]) -> None:
        self.repo = repo
        self.services = services  # by occupier
        # Where occupiers meet, so that a rule compares them: a floor port and a space of a
        # site (N3), a number (T2, across sites), a MAC at a site (T3). place → occupiers,
        # occupier → places.
        members: defaultdict[object, set[str]] = defaultdict(set)
        places: defaultdict[str, set[object]] = defaultdict(set)
        for contract in repo.contracts.values():
            lease = contract.spec
            for space in lease.spaces:
                place: object = ("space", lease.site, space)
                members[place].add(lease.occupier)
                places[lease.occupier].add(place)
        for name, occupier in repo.occupiers.items():
            spec = occupier.spec
            mine: list[object] = [
                ("port", p.site, p.floor_port) for p in spec.activations.floor_ports
            ]
            mine += [("number", n.number) for n in spec.activations.numbers]
            mine += [("mac", d.site, mac_key(d.mac)) for d in spec.wifi_devices]
            for place in mine:
                members[place].add(name)
            places[name].update(mine)
        self.members, self.places = members, places
        self.everyone = len(
            {*repo.occupiers, *services, *(c.spec.occupier for c in repo.contracts.values())}
        )
        self._sites: dict[str, set[str]] = {}
        self._refs: dict[Source, Ref] | None = None

    def sites_of(self, occupier: str) -> set[str]:
        """The sites the occupier's documents name: a run on some occupiers needs only those."""
        named = self._sites.get(occupier)
        if named is None:
            repo = self.repo
            named = self._sites[occupier] = {
                c.spec.site for c in repo.contracts_of.get(occupier, ())
            }
            named.update(s.spec.site for s in self.services.get(occupier, ()))
            doc = repo.occupiers.get(occupier)
            if doc is not None:
                spec = doc.spec
                named.update(p.site for p in spec.activations.floor_ports)
                named.update(n.site for n in spec.activations.numbers)
                named.update(d.site for d in spec.wifi_devices)
                named.update(m.site for m in spec.main_numbers)
                for user in spec.users:
                    if isinstance(user.wifi, tuple):
                        named.update(user.wifi)
        return named

    def around(self, changed: Iterable[str]) -> set[str]:
        """The changed occupiers and every occupier they meet."""
        out = set(changed)
        for occupier in list(out):
            for place in self.places.get(occupier, ()):
                out |= self.members[place]
        return out

    def sub_repo(self, occupiers: set[str]) -> Repo:
        """The repo cut down to these occupiers, the sites they name and the whole catalogue."""
        repo = self.repo
        if len(occupiers) >= self.everyone:
            return repo
        contracts = {c.metadata.name: c for o in occupiers for c in repo.contracts_of.get(o, ())}
        services = {s.metadata.name: s for o in occupiers for s in self.services.get(o, ())}
        for service in services.values():  # a line charged to another's contract (S1)
            other = repo.contracts.get(service.spec.contract or "")
            if other is not None:
                contracts.setdefault(other.metadata.name, other)
        named = {s for o in occupiers for s in self.sites_of(o)}
        named.update(c.spec.site for c in contracts.values())
        sub = Repo(
            sites={s: repo.sites[s] for s in sorted(named) if s in repo.sites},
            definitions=repo.definitions,
            occupiers={o: repo.occupiers[o] for o in occupiers if o in repo.occupiers},
            contracts=contracts,
            services=services,
            sources=repo.sources,
        ).index()
        sub.memo["site facts",] = site_facts(repo)
        return sub

    def owner_of(self, finding: Finding) -> str | None:
        """The occupier whose documents the finding is on (None: a site or the catalogue,
        whose findings by the dated rules judge their own declarations, the same on every
        date: the run on today's whole repo decides them)."""
        if finding.source is None:
            return None
        if self._refs is None:
            self._refs = {source: ref for ref, source in self.repo.sources.items()}
        ref = self._refs.get(finding.source)
        repo = self.repo
        if ref is None:
            return None
        if ref.kind == "Service":
            service = repo.services.get(ref.name)
            return service.spec.occupier if service is not None else None
        if ref.kind == "Contract":
            contract = repo.contracts.get(ref.name)
            return contract.spec.occupier if contract is not None else None
        return ref.name if ref.kind == "Occupier" and ref.name in repo.occupiers else None


def timeline(
    repo: Repo, ctx: Context, horizon: date | None = None, only: Iterable[str] | None = None
) -> Timeline:
    """Run the dated rules (of `only`) on every date of the timeline."""
    wanted = None if only is None else set(only)
    rules = [r for r in RULES if r in DATED and (wanted is None or r in wanted)]
    changes, kept = _events(repo)
    later = sorted(
        d for d in {*changes, *kept} if d > ctx.today and (horizon is None or d <= horizon)
    )
    result = Timeline([ctx.today, *later])
    result.today = frozenset(check_on(repo, ctx, rules)) if rules else frozenset()
    if not rules or not later:
        return result
    services: defaultdict[str, list[Service]] = defaultdict(list)  # by occupier, when needed
    scope: _Scope | None = None  # built on the first date where some state changes
    # the findings in force, by group and occupier: a run replaces those of the occupiers
    # it decides
    held: dict[tuple[int, str], frozenset[Finding]] = {}
    known: dict[tuple[int, str], object] = {}
    groups = [(i, g, [r for r in rules if r in g.rules]) for i, g in enumerate(GROUPS)]
    groups = [(i, g, wanted_rules) for i, g, wanted_rules in groups if wanted_rules]
    for day in later:
        added: set[Finding] = set()
        removed: set[Finding] = set()
        if day in changes and not services:  # a date of change: the states are compared
            for service in repo.services.values():
                services[service.spec.occupier].append(service)
        for index, group, group_rules in groups:
            changed = set()
            for name in changes.get(day, ()):
                lines = services.get(name, [])
                if (index, name) not in known:
                    known[index, name] = group.state(repo, name, lines, ctx.today)
                state = group.state(repo, name, lines, day)
                if state != known[index, name]:
                    known[index, name] = state
                    changed.add(name)
            if not changed:
                continue
            if scope is None:
                scope = _Scope(repo, services)
                held = _by_owner(scope, result.today)
            # the findings of these occupiers may change; rules that compare occupiers see
            # those they meet too
            decided = scope.around(changed) if group.neighbours else changed
            seen = scope.around(decided) if group.neighbours else decided
            fresh: defaultdict[str, set[Finding]] = defaultdict(set)
            for finding in check_on(scope.sub_repo(seen), ctx._replace(today=day), group_rules):
                owner = scope.owner_of(finding)
                if owner in decided:
                    fresh[owner].add(finding)
            for owner in decided:
                before = held.get((index, owner), frozenset())
                after = frozenset(fresh.get(owner, ()))
                if after != before:
                    added |= after - before
                    removed |= before - after
                    held[index, owner] = after
        if added or removed:
            result.reported.extend(f.dated(day) for f in added)
            result.changes[day] = (frozenset(added), frozenset(removed))
    return result


def _by_owner(
    scope: _Scope, findings: Iterable[Finding]
) -> dict[tuple[int, str], frozenset[Finding]]:
    """Findings of the dated rules by group and occupier (site and catalogue ones left out:
    no later run decides them)."""
    group_of = {rule: index for index, group in enumerate(GROUPS) for rule in group.rules}
    out: defaultdict[tuple[int, str], set[Finding]] = defaultdict(set)
    for finding in findings:
        owner = scope.owner_of(finding)
        if owner is not None:
            out[group_of[finding.rule], owner].add(finding)
    return {key: frozenset(value) for key, value in out.items()}


def check(repo: Repo, ctx: Context, only: Iterable[str] | None = None) -> list[Finding]:
    """Every rule (of `only`) today, and the dated ones on each later date of the timeline,
    each finding reported from the first date of each stretch where it holds."""
    wanted = list(RULES) if only is None else [r for r in RULES if r in set(only)]
    undated = [r for r in wanted if r not in DATED]
    found = check_on(repo, ctx, undated) if undated else []
    if not any(r in DATED for r in wanted):
        return found
    line = timeline(repo, ctx, ctx.horizon, wanted)
    return [*found, *line.today, *line.reported]


__all__ = ["DATED", "Timeline", "check", "dates", "events", "timeline"]
