"""Allocation at one site: a `SiteState` of the values taken there, and each occupier's request
answered by the pure allocators of reconciler.allocate (pool + held → next free), lowest free
value first, so the same repo and ledger give the same plan (N4). Pure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from reconciler import allocate
from reconciler.catalogue import decommissioned, holds, terms_on
from reconciler.findings import error
from reconciler.ledger.model import Allocation, Holdings, Kind, Release, State
from reconciler.model.kinds import Occupier, Service, Site
from reconciler.model.repo import Repo
from reconciler.plan.needs import Need
from reconciler.plan.result import Plan


@dataclass
class SiteState:
    """The values taken at one site while its occupiers are planned in name order: what one
    occupier takes is taken before the next one asks."""

    site: Site
    today: date
    taken: defaultdict[Kind, set[str]]
    cooling: dict[str, date]  # number → the end of its cooling-off
    # VLANs (with the reserved ones), prefixes and public addresses as integer ranges, for the
    # allocators; built on first use
    ranges: dict[Kind, allocate.Taken] = field(default_factory=dict)
    # value → the occupier whose activations name it: taken before anything is handed out
    named: defaultdict[Kind, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))
    usable: dict[str, list[str]] = field(default_factory=dict)  # occupier → its floor ports
    public: list[allocate.PublicRange] | None = None  # the site's public pools, as ranges
    spaces: dict[str, list[int]] | None = None  # space name → its places in the site's order

    @classmethod
    def of(
        cls,
        site: Site,
        holdings: Holdings,
        cooling: dict[str, date],
        freed: Collection[str],
        today: date,
    ) -> SiteState:
        """`freed`: numbers whose cooling-off ends in this run, free for it already (T2)."""
        taken: defaultdict[Kind, set[str]] = defaultdict(set)
        for row in holdings.at.get(site.name, ()):
            if row.kind is not Kind.NUMBER or row.value not in freed:
                taken[row.kind].add(row.value)
        return cls(site, today, taken, cooling)

    def ranges_of(self, kind: Kind) -> allocate.Taken:
        """What is taken of a VLAN, prefix or public pool, as the allocators read it."""
        found = self.ranges.get(kind)
        if found is None:
            values = self.taken.get(kind, ())
            if kind is Kind.VLAN:
                vlans = (*map(int, values), *self.site.spec.vlans.reserved)
                found = allocate.Taken((v, v + 1) for v in vlans)
            else:
                found = allocate.Taken(map(allocate.span_of, values))
            self.ranges[kind] = found
        return found

    def public_pools(self) -> list[allocate.PublicRange]:
        if self.public is None:
            self.public = allocate.public_ranges(self.site.spec.public_pools)
        return self.public

    def reserve(self, repo: Repo, occupiers: Iterable[str]) -> None:
        """N4, T2, N3: the numbers and floor ports that documents name in their activations are
        set aside for them first, so no automatic request hands them out; a value the ledger
        holds already stays with its holder, one named twice with the first by name order.
        `occupiers`: those with needs at the site (a decommissioned one names nothing)."""
        site = self.site.name
        for name in occupiers:
            doc = repo.occupiers.get(name)
            if doc is None:
                continue
            numbers, ports = doc.spec.activations.numbers, doc.spec.activations.floor_ports
            if not (numbers or ports) or decommissioned(doc, self.today):
                continue
            for n in numbers:
                if n.site == site:
                    self._set_aside(Kind.NUMBER, n.number, name)
            usable = self.usable_ports(repo, name) if ports else ()
            for fp in ports:
                if fp.site == site and fp.floor_port in usable:
                    self._set_aside(Kind.PORT, fp.floor_port, name)

    def usable_ports(self, repo: Repo, occupier: str) -> list[str]:
        """N3, S2: only the floor ports of the spaces of the occupier's contracts at the site
        that have started and still hold (a space move moves them; a future contract's ports
        wait for its start), in the site's order; once per plan."""
        found = self.usable.get(occupier)
        if found is None:
            if self.spaces is None:
                self.spaces = defaultdict(list)
                for i, space in enumerate(self.site.spec.spaces):
                    self.spaces[space.name].append(i)
            places = sorted(
                {
                    i
                    for c in repo.contracts_at.get((occupier, self.site.name), ())
                    if c.spec.start <= self.today and holds(c, self.today)
                    for s in c.spec.spaces
                    for i in self.spaces.get(s, ())
                }
            )
            spaces = self.site.spec.spaces
            found = self.usable[occupier] = [fp for i in places for fp in spaces[i].floor_ports]
        return found

    def _set_aside(self, kind: Kind, value: str, occupier: str) -> None:
        if value not in self.taken[kind]:
            self.taken[kind].add(value)
            self.named[kind][value] = occupier

    def elsewhere(self, kind: Kind, value: str, occupier: str) -> bool:
        """Whether `value` is taken by someone other than `occupier` (its named values are
        taken for it)."""
        return value in self.taken.get(kind, ()) and self.named[kind].get(value) != occupier

    def mark(self, kind: Kind, value: str, span: tuple[int, int] | None = None) -> None:
        self.taken[kind].add(value)
        ranges = self.ranges.get(kind)
        if ranges is not None and span is not None:
            ranges.add(*span)
        elif ranges is not None:
            ranges.add(
                *((int(value), int(value) + 1) if kind is Kind.VLAN else allocate.span_of(value))
            )


@dataclass(frozen=True)
class Request:
    """One occupier at one site: what it needs today and what it already holds there."""

    occupier: str
    doc: Occupier | None
    need: Need
    held: list[Allocation]


def allocate_site(plan: Plan, repo: Repo, state: SiteState, request: Request) -> None:
    """N1 network, N2 public addresses, T1/T2 numbers, N3 floor ports, in that order."""
    _Allocation(plan, repo, state, request).run()


class _Allocation:
    """Keeps, takes and releases the values of one occupier at one site."""

    def __init__(self, plan: Plan, repo: Repo, state: SiteState, request: Request) -> None:
        self.plan, self.repo, self.state = plan, repo, state
        self.site, self.today = state.site, state.today
        self.site_name = state.site.name
        self.occupier, self.doc, self.need = request.occupier, request.doc, request.need
        self.held: dict[Kind, list[Allocation]] = defaultdict(list)
        for row in request.held:
            self.held[row.kind].append(row)

    def run(self) -> None:
        self.network()
        self.public()
        self.numbers()
        self.ports()

    # -- helpers
    def take(
        self,
        kind: Kind,
        value: str,
        state: State = State.HELD,
        role: str = "",
        span: tuple[int, int] | None = None,
    ) -> None:
        """`span`: the integers the value covers, as the allocator found them."""
        self.state.mark(kind, value, span)
        self.plan.allocations.append(
            Allocation(self.site_name, kind, value, self.occupier, state, role)
        )

    def keep(self, row: Allocation, state: State, role: str = "") -> None:
        if (row.state, row.role) != (state, role):
            self.plan.allocations.append(
                Allocation(row.site, row.kind, row.value, row.holder, state, role)
            )

    def release(self, row: Allocation) -> None:
        until = (
            self.today + timedelta(days=self.site.spec.cooling_off_days)
            if row.kind is Kind.NUMBER
            else None
        )
        self.plan.releases.append(Release(row, until))

    def exhausted(self, what: str, needs: str = "") -> None:
        """N4 at the quantity line of the service that asks for the most of `needs` (an
        infrastructure field), or at the occupier when any service would (VLAN, prefix)."""
        source = self.repo.source(self.doc) if self.doc else None
        path: tuple[str, ...] = ()
        culprit = self._largest(needs) if needs else None
        if culprit is not None:
            source, path = self.repo.source(culprit), ("spec", "quantity")
        self.plan.findings.append(
            error(
                "N4",
                source,
                path,
                f"site {self.site.name} has no free {what} left for {self.occupier}",
                "extend the site's pool"
                + (f" or lower {culprit.name}'s quantity" if culprit else ""),
            )
        )

    def _largest(self, needs: str) -> Service | None:
        best: tuple[int, str] | None = None
        for name in self.need.services:
            service = self.repo.services[name]
            definition, quantity, _ = terms_on(self.repo, service, self.today)
            infra = definition.spec.infrastructure if definition else None
            if infra is not None and getattr(infra, needs) and (best is None or quantity > best[0]):
                best = (quantity, name)
        return self.repo.services[best[1]] if best else None

    # -- N1
    def network(self) -> None:
        vlans = self.held[Kind.VLAN]
        if vlans:
            for extra in vlans[1:]:
                self.release(extra)
        else:
            first, last = self.site.spec.vlans.bounds
            vlan = allocate.lowest_free(first, last + 1, 1, (self.state.ranges_of(Kind.VLAN),))
            if vlan is None:
                self.exhausted("VLAN")
            else:
                self.take(Kind.VLAN, str(vlan), span=(vlan, vlan + 1))
        prefixes = self.held[Kind.PREFIX]
        if prefixes:
            for extra in prefixes[1:]:
                self.release(extra)
            return
        supernet = self.site.spec.private_supernet
        first, end = allocate.range_of(supernet.cidr)
        length = supernet.prefix_length
        size = 1 << (32 - length)
        prefix = allocate.lowest_free(first, end, size, (self.state.ranges_of(Kind.PREFIX),))
        if prefix is None:
            self.exhausted("private prefix")
        else:
            value = f"{allocate.dotted(prefix)}/{length}"
            self.take(Kind.PREFIX, value, span=(prefix, prefix + size))

    # -- N2
    def public(self) -> None:
        want = [32] * self.need.public_ips + sorted(self.need.public_blocks)
        have = sorted(self.held[Kind.PUBLIC], key=lambda a: allocate.address_key(a.value))
        remaining = list(want)
        for row in have:
            length = allocate.prefix_length(row.value)
            if length in remaining:
                remaining.remove(length)
            else:
                self.release(row)
        if not remaining:
            return
        # all or nothing, as for numbers: what is found is pending (so the next request skips
        # it) until every request is met; a size with none left is one N4
        pending = allocate.Taken()
        taken = (self.state.ranges_of(Kind.PUBLIC), pending)
        pools = self.state.public_pools()
        found: list[tuple[str, tuple[int, int]]] = []
        short: set[int] = set()
        for length in remaining:
            if length in short:
                continue
            start = allocate.lowest_public(pools, length, taken)
            if start is None:
                short.add(length)
                self.exhausted(
                    f"public /{length}", "public_ips" if length == 32 else "public_prefix_length"
                )
            else:
                span = (start, start + (1 << (32 - length)))
                pending.add(*span)
                found.append((f"{allocate.dotted(start)}/{length}", span))
        for value, span in found if not short else ():
            self.take(Kind.PUBLIC, value, span=span)

    # -- T1, T2
    def numbers(self) -> None:
        declared = (
            {n.number: n for n in self.doc.spec.activations.numbers if n.site == self.site_name}
            if self.doc
            else {}
        )
        mains = (
            {m.number for m in self.doc.spec.main_numbers if m.site == self.site_name}
            if self.doc
            else set()
        )
        held = {row.value: row for row in self.held[Kind.NUMBER]}
        total = max(self.need.numbers, len(declared))
        chosen: list[str] = []
        for number in sorted(declared):
            if number not in held and self.state.elsewhere(Kind.NUMBER, number, self.occupier):
                until = self.state.cooling.get(number)
                why = f"in cooling-off until {until}" if until else "held by another occupier"
                at = _activation_index(self.doc, "numbers").get((self.site_name, number), ())
                self.plan.findings.append(
                    error(
                        "T2",
                        self.repo.source(self.doc) if self.doc else None,
                        ("spec", "activations", "numbers", *at),
                        f"{number} cannot be activated for {self.occupier}: it is {why}",
                    )
                )
                continue
            chosen.append(number)
        for number in sorted(held):
            if len(chosen) >= total:
                break
            if number not in chosen:
                chosen.append(number)
        missing = total - len(chosen)
        if missing > 0:
            fresh = allocate.next_numbers(
                self.site.spec.number_blocks,
                self.state.taken.get(Kind.NUMBER, set()),
                self.state.cooling,
                self.today,
                missing,
            )
            if len(fresh) < missing:  # all or nothing: what it cannot have, nobody loses
                self.exhausted("phone numbers", "phone_numbers")
                fresh = []
            chosen.extend(fresh)
        # T1: with no number declared active, the first voice service activates them all.
        auto = not declared
        main = min(mains) if mains else None
        if main is None and chosen:
            actives = sorted(chosen if auto else declared)
            # N4: an implicit main number stays put when a lower number joins
            kept = [n for n in actives if n in held and held[n].role == "main"]
            main = kept[0] if kept else actives[0] if actives else None
        for number in chosen:
            state = State.ACTIVE if auto or number in declared else State.RESERVED
            role = "main" if number == main else ""
            if number in held:
                self.keep(held[number], state, role)
            else:
                self.take(Kind.NUMBER, number, state, role)
        for number, row in sorted(held.items()):
            if number not in chosen:
                self.release(row)

    # -- N3
    def ports(self) -> None:
        activations = (
            [a for a in self.doc.spec.activations.floor_ports if a.site == self.site_name]
            if self.doc
            else []
        )
        held = {row.value: row for row in self.held[Kind.PORT]}
        chosen: dict[str, tuple[State, str]] = {}
        usable = self.state.usable_ports(self.repo, self.occupier)
        for activation in activations:
            if activation.floor_port not in usable:
                continue  # not yet (validate reports a port outside every contract's spaces)
            port = activation.floor_port
            if port not in held and self.state.elsewhere(Kind.PORT, port, self.occupier):
                at = _activation_index(self.doc, "floor_ports").get((self.site_name, port), ())
                self.plan.findings.append(
                    error(
                        "N3",
                        self.repo.source(self.doc) if self.doc else None,
                        ("spec", "activations", "floorPorts", *at),
                        f"floor port {activation.floor_port} at {self.site_name} is held by "
                        f"another occupier; it cannot be activated for {self.occupier}",
                    )
                )
                continue
            chosen[activation.floor_port] = (State.ACTIVE, str(activation.role))
        active_roles: dict[str, int] = {}
        for _, role in chosen.values():
            active_roles[role] = active_roles.get(role, 0) + 1
        need = self.need.ports
        missing = {role: need[role] - active_roles.get(role, 0) for role in sorted(need)}
        # N4: a held port stays with its role; then a held port no longer needed for its own
        # role takes a new one (released and taken in one plan: it is free for this change)
        spare = [fp for fp in sorted(held) if fp in usable and fp not in chosen]
        for same_role in (True, False) if spare else ():
            for role in sorted(missing):
                for fp in list(spare):
                    if missing[role] > 0 and (held[fp].role == role or not same_role):
                        chosen[fp] = (State.RESERVED, role)
                        spare.remove(fp)
                        missing[role] -= 1
        for role in sorted(missing):
            if missing[role] > 0:
                free = [fp for fp in usable if fp not in chosen]
                fresh = allocate.next_ports(free, self.state.taken[Kind.PORT], missing[role])
                if len(fresh) < missing[role]:  # all or nothing, as for numbers
                    self.exhausted(f"floor ports for role {role}", "switch_ports")
                    fresh = []
                for fp in fresh:
                    chosen[fp] = (State.RESERVED, role)
        for fp, (state, role) in chosen.items():
            if fp in held:
                self.keep(held[fp], state, role)
            else:
                self.take(Kind.PORT, fp, state, role)
        for fp, row in sorted(held.items()):
            if fp not in chosen:
                self.release(row)


def _activation_index(doc: Occupier | None, field: str) -> dict[tuple[str, str], tuple[int, str]]:
    """(site, number or floor port) → its place in the occupier's activations, so a finding
    points at that line; read only when there is a finding."""
    out: dict[tuple[str, str], tuple[int, str]] = {}
    for i, activation in enumerate(getattr(doc.spec.activations, field) if doc else ()):
        value = activation.number if field == "numbers" else activation.floor_port
        out[activation.site, value] = (i, "number" if field == "numbers" else "floorPort")
    return out
