"""Service rules S1–S10 (seeds 000, 003, 004)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta

from reconciler.catalogue import (
    Infra,
    Status,
    allocations,
    charges,
    quantity_of,
    statuses,
    terms_on,
    usage,
)
from reconciler.findings import Finding, error, warning
from reconciler.model.kinds import AnyOf, AtEnd, Occupier, Service, ServiceDefinition
from reconciler.model.repo import Repo
from reconciler.rules.context import Context


def s1_contract(repo: Repo, ctx: Context) -> Iterator[Finding]:
    """A service is charged against a contract of the same occupier at the same site; with
    exactly one contract there it is chosen automatically."""
    for service in repo.services.values():
        spec = service.spec
        if spec.contract is not None:
            contract = repo.contracts.get(spec.contract)
            if contract is None:
                yield error(
                    "S1",
                    repo.source(service),
                    ("spec", "contract"),
                    f"service {service.name}: contract '{spec.contract}' does not exist",
                )
            elif (contract.spec.occupier, contract.spec.site) != (spec.occupier, spec.site):
                yield error(
                    "S1",
                    repo.source(service),
                    ("spec", "contract"),
                    f"service {service.name} is for {spec.occupier} at {spec.site}, but contract "
                    f"{contract.name} is {contract.spec.occupier}'s at {contract.spec.site}",
                    "charge the service against a contract of the same occupier and site",
                )
            continue
        candidates = repo.contracts_at.get((spec.occupier, spec.site), [])
        if not candidates:
            yield error(
                "S1",
                repo.source(service),
                ("spec", "occupier"),
                f"service {service.name}: occupier {spec.occupier} has no contract at "
                f"site {spec.site}",
                "add a Contract first",
            )
        elif len(candidates) > 1:
            names = ", ".join(sorted(c.name for c in candidates))
            yield error(
                "S1",
                repo.source(service),
                ("spec",),
                f"service {service.name}: {spec.occupier} has {len(candidates)} contracts "
                f"at {spec.site} ({names}); say which one it is charged against",
                "set spec.contract",
            )


def s2_start_date(repo: Repo, ctx: Context) -> Iterator[Finding]:
    """The start date comes from the contract and cannot be overridden."""
    charged = charges(repo)
    for name, service in repo.services.items():
        start = service.spec.start
        if start is None:
            continue
        contract = charged[name]
        if contract is not None and start != contract.spec.start:
            yield error(
                "S2",
                repo.source(service),
                ("spec", "start"),
                f"service {service.name} starts {start}, but its start date comes from contract "
                f"{contract.name} ({contract.spec.start}) and cannot be overridden",
                "remove spec.start",
            )


def s3_price(repo: Repo, ctx: Context) -> Iterator[Finding]:
    """Price defaults to rrp; a price under cost is allowed but warned about. A discount
    (Splynx seed 004: percentage, start and end) that ends before it starts would never apply:
    whoever wrote it meant other dates, so it is refused rather than silently charged full."""
    definitions = repo.definitions
    for service in repo.services.values():
        line = service.spec
        price = line.price
        definition = definitions.get(line.definition) if price is not None else None
        if definition is not None and price is not None and price < definition.spec.cost:
            yield warning(
                "S3",
                repo.source(service),
                ("spec", "price"),
                f"service {service.name} is priced {price} per unit, under the cost of "
                f"{definition.name} ({definition.spec.cost})",
            )
        for index, discount in enumerate(line.discounts) if line.discounts else ():
            if discount.end is not None and discount.end < discount.start:
                yield error(
                    "S3",
                    repo.source(service),
                    ("spec", "discounts", index, "end"),
                    f"service {service.name}: the {discount.percent}% discount ends "
                    f"({discount.end}) before it starts ({discount.start}); it would never apply",
                    "set an end on or after the start, or remove the end",
                )


def _quantity_problem(definition: ServiceDefinition, quantity: int) -> str | None:
    rule = definition.spec.quantity
    if quantity < rule.min:
        return f"at least {rule.min}"
    if rule.max and quantity > rule.max:
        return f"at most {rule.max}"
    return None


def s4_quantity(repo: Repo, ctx: Context) -> Iterator[Finding]:
    """Quantity within min..max (0 = no max); the default applies when omitted; an inactive
    definition cannot be newly assigned, while existing lines stay."""
    for definition in repo.definitions.values():
        rule = definition.spec.quantity
        if rule.max and rule.min > rule.max:
            yield error(
                "S4",
                repo.source(definition),
                ("spec", "quantity"),
                f"{definition.name}: quantity min {rule.min} is above max {rule.max}",
            )
        if rule.default is not None and _quantity_problem(definition, rule.default):
            yield error(
                "S4",
                repo.source(definition),
                ("spec", "quantity", "default"),
                f"{definition.name}: default quantity {rule.default} is outside "
                f"{rule.min}..{rule.max or 'no max'}",
            )
    definitions = repo.definitions
    for service in repo.services.values():
        line = service.spec
        used = definitions.get(line.definition)
        if used is None:
            continue
        quantity = line.quantity if line.quantity is not None else quantity_of(service, used)
        problem = _quantity_problem(used, quantity)
        if problem:
            yield error(
                "S4",
                repo.source(service),
                ("spec", "quantity"),
                f"service {service.name}: quantity {quantity} of {used.name} must be {problem}",
            )
        if used.spec.inactive:
            yield from _inactive(repo, ctx, service, used, quantity)


def _inactive(
    repo: Repo, ctx: Context, service: Service, used: ServiceDefinition, quantity: int
) -> Iterator[Finding]:
    """EngageIP's inactive quantity component: no new line, no more units, no line re-pointed
    to it; the minimum and the default still hold, and removal is allowed."""
    recorded = ctx.recorded_terms.get(service.name)
    if recorded is not None and recorded[0] != used.name:
        yield error(
            "S4",
            repo.source(service),
            ("spec", "definition"),
            f"service {service.name}: {used.name} is inactive; the line cannot be changed "
            f"from {recorded[0]} to it",
            f"keep {recorded[0]}, or choose an active service definition",
        )
    elif recorded is not None and quantity > recorded[1]:
        yield error(
            "S4",
            repo.source(service),
            ("spec", "quantity"),
            f"service {service.name}: {used.name} is inactive; its quantity cannot be raised "
            f"from {recorded[1]} to {quantity}",
            "add an active service definition instead",
        )
    elif ctx.existing_services is not None and service.name not in ctx.existing_services:
        yield error(
            "S4",
            repo.source(service),
            ("spec", "definition"),
            f"service {service.name}: {used.name} is inactive and cannot be newly assigned",
            "choose an active service definition",
        )
    elif ctx.existing_services is None and recorded is None:
        yield warning(
            "S4",
            repo.source(service),
            ("spec", "definition"),
            f"service {service.name} uses inactive definition "
            f"{used.name}; only existing lines may keep it",
        )


def _live_services(repo: Repo, ctx: Context) -> dict[tuple[str, str], list[Service]]:
    """The lines in service on the day: a Scheduled one is judged from its start date, on
    the timeline (S10), and does not cover for a missing one today."""
    out: dict[tuple[str, str], list[Service]] = {}
    status = statuses(repo, ctx.today)
    active = Status.ACTIVE
    for key, services in repo.services_at.items():
        kept = [s for s in services if status[s.metadata.name] is active]
        if kept:
            out[key] = kept
    return out


def _replacement_pair(a: Service, b: Service) -> bool:
    return a.spec.replaces == b.metadata.name or b.spec.replaces == a.metadata.name


def _together(repo: Repo, a: Service, b: Service) -> bool:
    """Whether two services can be live on the same day: a service runs from its contract's
    start, until the contract's end only when the contract deprovisions at its end."""
    periods = []
    charged = charges(repo)
    for service in (a, b):
        contract = charged.get(service.metadata.name)
        if contract is None:
            periods.append((date.min, date.max))
            continue
        spec = contract.spec
        end = spec.end if spec.end is not None and spec.at_end is AtEnd.DEPROVISION else None
        periods.append((spec.start, end or date.max))
    (start_a, end_a), (start_b, end_b) = periods
    return start_a <= end_b and start_b <= end_a


def _definition_on(service: Service, day: date) -> str:
    """The definition a line has on `day`, its scheduled changes applied (S10)."""
    spec = service.spec
    name = spec.definition
    for change in spec.changes:
        if change.on <= day and change.definition is not None:
            name = change.definition
    return name


def _definition_path(service: Service, day: date) -> tuple[str | int, ...]:
    """Where that definition is written: the scheduled change that set it, or the line's own."""
    path: tuple[str | int, ...] = ("spec", "definition")
    for index, change in enumerate(service.spec.changes):
        if change.on <= day and change.definition is not None:
            path = ("spec", "changes", index, "definition")
    return path


def _requirement_names(entry: str | AnyOf) -> list[str]:
    return list(entry.any_of) if isinstance(entry, AnyOf) else [entry]


def s5_dependencies(repo: Repo, ctx: Context) -> Iterator[Finding]:
    """Dependent services (`requires`), mutually exclusive ones (`excludes`) and the limit per
    occupier (`maxPerOccupier`): an occupier's service set at a site that breaks one is
    rejected, naming both services."""
    rules = _Catalogue(repo)
    today = ctx.today
    for (occupier, site), services in _live_services(repo, ctx).items():
        named = [
            (s, _definition_on(s, today) if s.spec.changes else s.spec.definition) for s in services
        ]
        by_definition: dict[str, list[Service]] = defaultdict(list)
        for service, name in named:
            by_definition[name].append(service)
        for service, name in named:
            if name in rules.requires:
                yield from _requirements(
                    repo, service, name, rules.requires[name], by_definition, occupier, site, today
                )
        if rules.clash(by_definition):
            yield from _exclusions(repo, occupier, site, by_definition, today)
        for name, lines in by_definition.items():
            limit = rules.limits.get(name)
            # all the lines within the limit (the common case): so is any set of them
            if limit is not None and sum(terms_on(repo, o, today)[1] for o in lines) > limit:
                yield from _over_limit(repo, occupier, site, name, limit, lines, today)


class _Catalogue:
    """What S5 asks of each definition, read once per run rather than once per line: the
    names each `requires` entry accepts, the definitions that exclude others, the limits."""

    def __init__(self, repo: Repo) -> None:
        self.requires: dict[str, list[list[str]]] = {}
        self.excludes: dict[str, tuple[str, ...]] = {}
        self.limits: dict[str, int] = {}
        for name, definition in repo.definitions.items():
            spec = definition.spec
            if spec.requires:
                self.requires[name] = [_requirement_names(entry) for entry in spec.requires]
            if spec.excludes:
                self.excludes[name] = spec.excludes
            if spec.max_per_occupier is not None:
                self.limits[name] = spec.max_per_occupier

    def clash(self, present: dict[str, list[Service]]) -> bool:
        """Whether a definition present excludes another present (`_exclusions` says which)."""
        excludes = self.excludes
        return any(
            not present.keys().isdisjoint(excludes[name]) for name in present if name in excludes
        )


def _requirements(
    repo: Repo,
    service: Service,
    definition: str,
    required: list[list[str]],
    by_definition: dict[str, list[Service]],
    occupier: str,
    site: str,
    day: date,
) -> Iterator[Finding]:
    """A line whose definition requires another that none of the occupier's lines there has."""
    for names in required:
        if by_definition.keys().isdisjoint(names):
            wanted = " or ".join(names)
            yield error(
                "S5",
                repo.source(service),
                _definition_path(service, day),
                f"service {service.name} ({definition}) requires {wanted} for "
                f"{occupier} at {site}, and there is none",
                f"add a {names[0]} service, or remove {service.name}",
            )


def _over_limit(
    repo: Repo,
    occupier: str,
    site: str,
    name: str,
    limit: int,
    lines: list[Service],
    day: date,
) -> Iterator[Finding]:
    """More units of a definition than `maxPerOccupier` among lines live together (the
    caller has seen that all of them together are over)."""
    ordered = sorted(lines, key=lambda s: s.name)
    for index, service in enumerate(ordered):
        together = [o for o in ordered[: index + 1] if _together(repo, o, service)]
        total = sum(terms_on(repo, o, day)[1] for o in together)
        if total > limit and not any(_replacement_pair(service, o) for o in ordered):
            # every line of the group is flagged, so the pull request's new line is
            # annotated whatever its name, and each message names the others
            for line in together:
                others = ", ".join(o.name for o in together if o is not line)
                who = f"{line.name} and {others} exceed" if others else f"{line.name} exceeds"
                yield error(
                    "S5",
                    repo.source(line),
                    _definition_path(line, day),
                    f"{occupier} may have at most {limit} {name} at {site}: service {who} it",
                    "remove one of them",
                )
            break


def _exclusions(
    repo: Repo, occupier: str, site: str, by_definition: dict[str, list[Service]], day: date
) -> Iterator[Finding]:
    """Mutually exclusive definitions present together (either side may declare it)."""
    pairs: set[tuple[str, str]] = set()
    for name in by_definition:
        definition = repo.definitions.get(name)
        for other in definition.spec.excludes if definition else ():
            if other in by_definition and other != name:
                pairs.add((min(name, other), max(name, other)))
    for first, second in sorted(pairs):
        for a in by_definition[first]:
            for b in by_definition[second]:
                if _replacement_pair(a, b):
                    continue  # S8: the upgrade and the line it replaces coexist meanwhile
                if not _together(repo, a, b):
                    continue  # one ends (deprovisioned) before the other starts
                one, two = sorted((a, b), key=lambda s: s.name)
                yield error(
                    "S5",
                    repo.source(two),
                    _definition_path(two, day),
                    f"services {one.name} ({_definition_on(one, day)}) and {two.name} "
                    f"({_definition_on(two, day)}) are mutually exclusive for {occupier} at "
                    f"{site}",
                    "remove one of them, or mark the new one `replaces: <old>` to upgrade",
                )


_INFRA_HINT = {
    Infra.SWITCH_PORTS: "deactivate a floor port first (remove it from activations.floorPorts)",
    Infra.PHONE_NUMBERS: "deactivate the number first (remove it from activations.numbers)",
    Infra.WIFI_DEVICES: "delete a Wi-Fi device first",
    Infra.WIFI_USERS: "remove Wi-Fi from a user first",
}


def s7_infrastructure(repo: Repo, ctx: Context) -> Iterator[Finding]:
    """X ≤ Y: nothing can be activated beyond what the services allocate, and services cannot be
    removed or reduced below what is in use (today, or on the date of a scheduled change)."""
    automatic_at: defaultdict[str, set[str]] = defaultdict(set)  # numbers the ledger holds
    for who, site in ctx.active_numbers:
        automatic_at[who].add(site)
    allocated = allocations(repo, ctx.today)
    nothing: dict[str, int] = {}
    phones = Infra.PHONE_NUMBERS
    for name, occupier in repo.occupiers.items():
        if occupier.spec.decommission is not None:
            continue  # D3 deactivates everything; nothing to count
        used_at = usage(repo, occupier, ctx.today)  # a site with nothing in use is never over
        for site in automatic_at.get(name, ()):
            used_at.setdefault(site, {})
        for site in sorted(used_at) if len(used_at) > 1 else used_at:
            used = used_at[site]
            automatic: tuple[str, ...] = ()
            if not used.get(phones):
                automatic = ctx.active_numbers.get((name, site), ())
                used[phones] = len(automatic)
            alloc = allocated.get((name, site), nothing)
            if not [kind for kind, x in used.items() if x > alloc.get(kind, 0)]:
                continue  # the common case: nothing over
            found = _over_allocation(repo, name, site, used, alloc)
            yield from (_automatic(f, automatic) for f in found)


def _automatic(finding: Finding, numbers: tuple[str, ...]) -> Finding:
    """Numbers the first voice service activated (T1) are in no document: say which."""
    if not numbers or not finding.message.startswith(str(Infra.PHONE_NUMBERS)):
        return finding
    listed = ", ".join(numbers)
    return finding._replace(
        message=f"{finding.message}; {listed} activated automatically by the first voice "
        "service (T1)",
        hint=f"declare the numbers to keep active in activations.numbers (then deactivate "
        f"them there), or keep a voice service for {listed}",
    )


def _over_allocation(
    repo: Repo, occupier: str, site: str, used: dict[str, int], alloc: dict[str, int]
) -> Iterator[Finding]:
    """One finding per infrastructure type (and port role) used beyond its allocation."""
    doc = repo.occupiers[occupier]
    ports_over = used.get(Infra.SWITCH_PORTS, 0) > alloc.get(Infra.SWITCH_PORTS, 0)
    for kind in (Infra.SWITCH_PORTS, Infra.PHONE_NUMBERS, Infra.WIFI_DEVICES, Infra.WIFI_USERS):
        x, y = used.get(kind, 0), alloc.get(kind, 0)
        if x > y:
            path, what = _last_activation(doc, kind, site)
            yield error(
                "S7",
                repo.source(doc),
                path,
                f"{kind} {x}/{y} for {occupier} at {site}: {x} in use but the services "
                f"allocate {y}{what}",
                _INFRA_HINT[kind] + " or add a service",
            )
    for key, x in used.items():
        if key.startswith("port:") and x > alloc.get(key, 0) and not ports_over:
            role = key.removeprefix("port:")
            path, _ = _last_activation(doc, Infra.SWITCH_PORTS, site, role)
            yield error(
                "S7",
                repo.source(doc),
                path,
                f"{x} floor ports with role {role} are active for {occupier} at {site}, "
                f"but its services allocate {alloc.get(key, 0)} with that role",
                "add a service whose ports have that role, or change the activation's role",
            )


def _last_activation(
    doc: Occupier, kind: Infra, site: str, role: str | None = None
) -> tuple[tuple[str | int, ...], str]:
    spec = doc.spec
    if kind is Infra.PHONE_NUMBERS:
        idx = [i for i, n in enumerate(spec.activations.numbers) if n.site == site]
        if not idx:  # activated automatically (T1): in the ledger only
            return ("metadata", "name"), ""
        return ("spec", "activations", "numbers", idx[-1]), (
            f"; deactivate {spec.activations.numbers[idx[-1]].number} first"
        )
    if kind is Infra.SWITCH_PORTS:
        idx = [
            i
            for i, p in enumerate(spec.activations.floor_ports)
            if p.site == site and (role is None or p.role == role)
        ]
        return ("spec", "activations", "floorPorts", idx[-1]), (
            f"; deactivate floor port {spec.activations.floor_ports[idx[-1]].floor_port} first"
        )
    if kind is Infra.WIFI_DEVICES:
        idx = [i for i, d in enumerate(spec.wifi_devices) if d.site == site]
        return ("spec", "wifiDevices", idx[-1]), ""
    return ("spec", "users"), ""


def s8_replaces(repo: Repo, ctx: Context) -> Iterator[Finding]:
    """Upgrade is make-before-break: `replaces` names a service of the same occupier and site."""
    replaced_by: dict[str, str] = {}
    upgrades = {n: s for n, s in repo.services.items() if s.spec.replaces is not None}
    for service in (upgrades[name] for name in sorted(upgrades)):
        old_name = service.spec.replaces
        if old_name is None:
            continue
        old = repo.services.get(old_name)
        if old is None or old is service:
            yield error(
                "S8",
                repo.source(service),
                ("spec", "replaces"),
                f"service {service.name} replaces '{old_name}', which is not a service"
                + (" (it names itself)" if old is service else ""),
            )
        elif (old.spec.occupier, old.spec.site) != (service.spec.occupier, service.spec.site):
            yield error(
                "S8",
                repo.source(service),
                ("spec", "replaces"),
                f"service {service.name} replaces {old_name}, which belongs to "
                f"{old.spec.occupier} at {old.spec.site}, not {service.spec.occupier} at "
                f"{service.spec.site}",
            )
        elif old_name in replaced_by:
            yield error(
                "S8",
                repo.source(service),
                ("spec", "replaces"),
                f"services {replaced_by[old_name]} and {service.name} both replace "
                f"{old_name}; only one upgrade at a time",
            )
        else:
            replaced_by[old_name] = service.name
    yield from _replaces_cycles(repo)


def _replaces_cycles(repo: Repo) -> Iterator[Finding]:
    """a replaces b, b replaces a: each would wait for the other to be Active, both end
    Inactive and both are still charged. Reported once per cycle, on its first member."""
    seen: set[str] = set()
    # only lines that replace another can be in a cycle
    upgrades = (name for name, s in repo.services.items() if s.spec.replaces is not None)
    for name in sorted(upgrades):
        path: list[str] = []
        current: str | None = name
        while current is not None and current not in seen and current not in path:
            path.append(current)
            service = repo.services.get(current)
            current = service.spec.replaces if service is not None else None
        seen.update(path)
        if current is None or current not in path or current == path[-1]:
            continue  # no cycle, or one already reported, or a self-reference (above)
        cycle = path[path.index(current) :]
        first = min(cycle)
        yield error(
            "S8",
            repo.source(repo.services[first]),
            ("spec", "replaces"),
            f"services {' → '.join([*_rotate(cycle, first), first])} replace each other in a "
            "cycle; an upgrade replaces an older line, which must not replace it back",
            f"remove `replaces` from {first}",
        )


def _rotate(cycle: list[str], first: str) -> list[str]:
    at = cycle.index(first)
    return cycle[at:] + cycle[:at]


def s9_dates(repo: Repo, ctx: Context) -> Iterator[Finding]:
    """Contract status (Active / Scheduled / Inactive) needs a start before its end."""
    for contract in repo.contracts.values():
        end = contract.spec.end
        if end is not None and end < contract.spec.start:
            yield error(
                "S9",
                repo.source(contract),
                ("spec", "end"),
                f"contract {contract.name} ends ({end}) before it starts ({contract.spec.start})",
            )


def s10_scheduled_changes(repo: Repo, ctx: Context) -> Iterator[Finding]:
    """A scheduled change takes effect on its date: dates ordered and after the contract starts,
    the changed definition exists and is active, the changed quantity fits its rule."""
    for service in repo.services.values():
        changes = service.spec.changes
        if not changes:
            continue
        contract = charges(repo)[service.metadata.name]
        previous: date | None = None
        for index, change in enumerate(changes):
            path = ("spec", "changes", index)
            if previous is not None and change.on <= previous:
                yield error(
                    "S10",
                    repo.source(service),
                    (*path, "on"),
                    f"service {service.name}: change dates must increase ({change.on} "
                    f"after {previous})",
                )
            previous = change.on
            if contract is not None and change.on <= contract.spec.start:
                yield error(
                    "S10",
                    repo.source(service),
                    (*path, "on"),
                    f"service {service.name}: change on {change.on} is not after the "
                    f"contract start {contract.spec.start}",
                    "change the service itself",
                )
            if change.quantity is None and change.definition is None and change.price is None:
                yield error(
                    "S10",
                    repo.source(service),
                    path,
                    f"service {service.name}: change on {change.on} changes nothing",
                )
            if change.definition is not None:
                new = repo.definitions.get(change.definition)
                if new is None:
                    yield error(
                        "S10",
                        repo.source(service),
                        (*path, "definition"),
                        f"service {service.name}: change to unknown definition "
                        f"'{change.definition}'",
                    )
                    continue
                if new.spec.inactive:
                    yield error(
                        "S10",
                        repo.source(service),
                        (*path, "definition"),
                        f"service {service.name}: {new.name} is inactive and cannot be "
                        f"newly assigned",
                    )
            definition, quantity, _ = terms_on(repo, service, change.on)
            before = terms_on(repo, service, change.on - timedelta(days=1))
            if (
                definition is not None
                and definition.spec.inactive
                and before[0] is definition
                and quantity > before[1]
            ):
                yield error(
                    "S10",
                    repo.source(service),
                    (*path, "quantity"),
                    f"service {service.name}: {definition.name} is inactive; its quantity "
                    f"cannot be raised from {before[1]} to {quantity} on {change.on}",
                    "add an active service definition instead",
                )
            if definition is not None:
                problem = _quantity_problem(definition, quantity)
                if problem:
                    yield error(
                        "S10",
                        repo.source(service),
                        (*path, "quantity"),
                        f"service {service.name}: on {change.on} quantity {quantity} of "
                        f"{definition.name} must be {problem}",
                    )


__all__ = ["Status"]
