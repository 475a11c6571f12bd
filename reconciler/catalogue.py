"""Pure facts derived from the documents that several rules, the planner and reports share:
which contract a service is charged against, its status and quantity on a date, and the
provisioned infrastructure X/Y of an occupier at a site (S6)."""

# Annotations are objects (no `from __future__ import annotations`): `reconciler.refs` says why.
from collections import Counter
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from reconciler.model.kinds import (
    AtEnd,
    Contract,
    LineStatus,
    Occupier,
    Service,
    ServiceDefinition,
)
from reconciler.model.repo import Repo


class Status(StrEnum):
    ACTIVE = "Active"
    SCHEDULED = "Scheduled"
    INACTIVE = "Inactive"
    UPDATING = "Updating"
    FAILED = "Failed"


class Infra(StrEnum):
    """The five provisioned-infrastructure types of seed 000, in the seed's order."""

    SWITCH_PORTS = "switch ports"
    PHONE_NUMBERS = "telephony"
    PUBLIC_IPS = "public IPs"
    WIFI_DEVICES = "Wi-Fi devices"
    WIFI_USERS = "Wi-Fi users"


class Usage(NamedTuple):
    """An infrastructure count X/Y: in use, and what the services allocate."""

    in_use: int
    allocated: int

    def __str__(self) -> str:
        return f"{self.in_use}/{self.allocated}"


def contract_of(repo: Repo, service: Service) -> Contract | None:
    """S1: the named contract, or the only contract of the occupier at the site."""
    spec = service.spec
    if spec.contract is not None:
        return repo.contracts.get(spec.contract)
    candidates = repo.contracts_at.get((spec.occupier, spec.site), [])
    return candidates[0] if len(candidates) == 1 else None


def contract_status(contract: Contract, today: date) -> Status:
    if contract.spec.start > today:
        return Status.SCHEDULED
    if contract.spec.end is not None and contract.spec.end < today:
        return Status.INACTIVE
    return Status.ACTIVE


def holds(contract: Contract, day: date) -> bool:
    """Whether the contract still carries its occupier at the site on `day`: until it starts
    and while it runs, and after its end unless it says to deprovision (seed 000: occupiers
    continue to receive services despite their contracts being inactive)."""
    spec = contract.spec
    return spec.at_end is AtEnd.KEEP or spec.end is None or spec.end >= day


def decommissioned(occupier: Occupier | None, today: date) -> bool:
    request = occupier.spec.decommission if occupier else None
    return request is not None and (request.at is None or request.at <= today)


def service_status(repo: Repo, service: Service, today: date) -> Status:
    """S2/S9: Scheduled until the contract starts; Inactive once the contract has ended with
    `atEnd: deprovision` or the occupier is decommissioned; otherwise Active (occupiers keep
    their services after a contract ends unless it says to deprovision)."""
    return statuses(repo, today)[service.metadata.name]


def statuses(repo: Repo, today: date) -> dict[str, Status]:
    """The status of every service on `today`, computed in one pass and remembered."""
    key = ("statuses", today)
    known = repo.memo.get(key)
    if known is not None:
        return known  # type: ignore[return-value]
    gone = {name for name, occupier in repo.occupiers.items() if decommissioned(occupier, today)}
    by_contract = {name: line_status(c, None, False, today) for name, c in repo.contracts.items()}
    charged = charges(repo)
    inactive = Status.INACTIVE
    result: dict[str, Status] = {}
    for name, service in repo.services.items():
        contract = charged[name]
        spec = service.spec
        end = spec.end
        if contract is None or (end is not None and end < today):
            result[name] = inactive  # Splynx end date: provisioning stops after it
        elif gone and spec.occupier in gone:
            result[name] = inactive
        else:
            result[name] = by_contract[contract.metadata.name]
    repo.memo[key] = result
    return result


def charges(repo: Repo) -> dict[str, Contract | None]:
    """S1 for every service at once (`contract_of`), remembered: the statuses of every date
    read it."""
    key = ("charges",)
    known = repo.memo.get(key)
    if known is None:
        contracts = repo.contracts
        only = {at: found[0] for at, found in repo.contracts_at.items() if len(found) == 1}
        charged: dict[str, Contract | None] = {}
        for name, service in repo.services.items():
            spec = service.spec
            named = spec.contract
            charged[name] = (
                contracts.get(named) if named is not None else only.get((spec.occupier, spec.site))
            )
        known = repo.memo[key] = charged
    return known  # type: ignore[return-value]


def line_status(
    contract: Contract | None, service: Service | None, gone: bool, day: date
) -> Status:
    """One service's status on `day` (`statuses`), given the contract it is charged against
    (`charges`) and whether its occupier is decommissioned by then (no service: what the
    contract gives its lines)."""
    if contract is None or gone:
        return Status.INACTIVE
    end = service.spec.end if service is not None else None
    if end is not None and end < day:
        return Status.INACTIVE  # Splynx end date: provisioning stops after it
    spec = contract.spec
    if spec.start > day:
        return Status.SCHEDULED
    if spec.end is not None and spec.end < day and spec.at_end is not AtEnd.KEEP:
        return Status.INACTIVE
    return Status.ACTIVE


def site_facts(repo: Repo) -> dict[tuple[str, str], object]:
    """What is derived from one site's document alone, by (what, site name), remembered: the
    repos the timeline cuts from this one share it, for they hold the same sites."""
    known = repo.memo.get(("site facts",))
    if known is None:
        known = repo.memo["site facts",] = {}
    return known  # type: ignore[return-value]


def live(status: Status) -> bool:
    return status in (Status.ACTIVE, Status.SCHEDULED, Status.UPDATING, Status.FAILED)


def terms_on(
    repo: Repo, service: Service, day: date
) -> tuple[ServiceDefinition | None, int, Decimal | None]:
    """Definition, quantity and price of a service on a date, scheduled changes applied (S10)."""
    definition = repo.definitions.get(service.spec.definition)
    if not service.spec.changes:  # the common case, on every service of every run
        price = service.spec.price
        if price is None and definition is not None:
            price = definition.spec.rrp
        return definition, quantity_of(service, definition), price
    quantity = quantity_of(service, definition)
    price = service.spec.price
    for change in sorted(service.spec.changes, key=lambda c: c.on):
        if change.on > day:
            break
        if change.definition is not None:
            definition = repo.definitions.get(change.definition)
        if change.quantity is not None:
            quantity = change.quantity
        if change.price is not None:
            price = change.price
    if price is None and definition is not None:
        price = definition.spec.rrp
    return definition, quantity, price


def quantity_of(service: Service, definition: ServiceDefinition | None) -> int:
    """S4: the declared quantity, else the definition's default, else its minimum (at least 1)."""
    if service.spec.quantity is not None:
        return service.spec.quantity
    if definition is None:
        return 1
    rule = definition.spec.quantity
    return rule.default if rule.default is not None else max(rule.min, 1)


def per_unit(definition: ServiceDefinition) -> dict[str, int]:
    """What one unit of a definition allocates, keyed like `allocated`."""
    infra = definition.spec.infrastructure
    unit: dict[str, int] = {}
    if infra.switch_ports is not None:
        unit[Infra.SWITCH_PORTS] = infra.switch_ports.count
        unit[f"port:{infra.switch_ports.role}"] = infra.switch_ports.count
    public = infra.public_ips or (
        2 ** (32 - infra.public_prefix_length) - 3 if infra.public_prefix_length else 0
    )
    for kind, count in (
        (Infra.PHONE_NUMBERS, infra.phone_numbers),
        (Infra.PUBLIC_IPS, public),
        (Infra.WIFI_DEVICES, infra.wifi_devices),
        (Infra.WIFI_USERS, infra.wifi_users),
    ):
        if count:
            unit[kind] = count
    return unit


def allocated(repo: Repo, occupier: str, site: str, day: date, today: date) -> Counter[str]:
    """Y of S6: what the occupier's live services at the site allocate on `day`. Keys are the
    Infra values, plus `port:<role>` per switch-port role."""
    services = repo.services_at.get((occupier, site), ())
    return Counter(allocation(repo, services, statuses(repo, today), day))


def allocation(
    repo: Repo, services: Iterable[Service], status: dict[str, Status], day: date
) -> dict[str, int]:
    """`allocated` of these services, given their statuses (S7 asks for every occupier): a
    plain dict, whose `get` costs no call into Python as a Counter's missing key does."""
    total: dict[str, int] = {}
    units = _units(repo)
    inactive = Status.INACTIVE
    for service in services:
        if status[service.metadata.name] is inactive:  # not live
            continue
        spec = service.spec
        if spec.changes:
            definition, quantity, _ = terms_on(repo, service, day)
            unit = units.get(definition.metadata.name) if definition is not None else None
        else:
            unit = units.get(spec.definition)
            quantity = spec.quantity if spec.quantity is not None else quantity_of(
                service, repo.definitions.get(spec.definition)
            )
        for kind, count in unit.items() if unit is not None else ():
            total[kind] = total.get(kind, 0) + count * quantity
    return total


def allocations(repo: Repo, today: date) -> dict[tuple[str, str], dict[str, int]]:
    """`allocated` on `today` of every occupier at every site, remembered (S7 asks for all of
    them). Read only: the dicts are shared."""
    key = ("allocations", today)
    known = repo.memo.get(key)
    if known is None:
        status = statuses(repo, today)
        known = repo.memo[key] = {
            at: allocation(repo, services, status, today)
            for at, services in repo.services_at.items()
        }
    return known  # type: ignore[return-value]


def _units(repo: Repo) -> dict[str, dict[str, int]]:
    """`per_unit` of every definition, remembered."""
    known = repo.memo.get(("units",))
    if known is None:
        known = repo.memo["units",] = {n: per_unit(d) for n, d in repo.definitions.items()}
    return known  # type: ignore[return-value]


def current_sites(repo: Repo, occupier: str, today: date) -> list[str]:
    """Sites where the occupier is now: a contract that has not ended, or ended with `keep`."""
    key = ("current_sites", occupier, today)
    if key not in repo.memo:
        sites = {c.spec.site for c in repo.contracts_of.get(occupier, ()) if holds(c, today)}
        repo.memo[key] = sorted(sites)
    return repo.memo[key]  # type: ignore[return-value]


def wifi_sites(
    repo: Repo, occupier: Occupier, wifi: bool | tuple[str, ...], today: date
) -> list[str]:
    """Sites where a user has Wi-Fi Secure: `true` means every site where the occupier is."""
    if wifi is True:
        return current_sites(repo, occupier.name, today)
    return list(wifi) if isinstance(wifi, tuple) else []


def in_use(repo: Repo, occupier: Occupier, site: str, today: date) -> Counter[str]:
    """X of S6: what the occupier has declared in use at the site."""
    return Counter(usage(repo, occupier, today).get(site, {}))


def usage(repo: Repo, occupier: Occupier, today: date) -> dict[str, dict[str, int]]:
    """X of S6 at every site where the occupier has something in use, keyed like
    `allocated` (a type with nothing in use is left out), from one pass over its
    declarations: S7 asks for every occupier and every site of each."""
    spec = occupier.spec
    activations = spec.activations
    out: dict[str, dict[str, int]] = {}
    ports, phones, devices = Infra.SWITCH_PORTS, Infra.PHONE_NUMBERS, Infra.WIFI_DEVICES
    for port in activations.floor_ports:
        used = out.setdefault(port.site, {})
        role = "port:" + port.role  # as `per_unit` keys it (an f-string formats in Python)
        used[ports] = used.get(ports, 0) + 1
        used[role] = used.get(role, 0) + 1
    for number in activations.numbers:
        used = out.setdefault(number.site, {})
        used[phones] = used.get(phones, 0) + 1
    for device in spec.wifi_devices:
        used = out.setdefault(device.site, {})
        used[devices] = used.get(devices, 0) + 1
    if spec.users:
        _wifi_users(repo, occupier, today, out)
    return out


def _wifi_users(
    repo: Repo, occupier: Occupier, today: date, out: dict[str, dict[str, int]]
) -> None:
    """Add the Wi-Fi users of `usage`: in RADIUS from a contract's start at the site only;
    `wifi: true` means at every site where the occupier is today."""
    contracts = repo.contracts_of.get(occupier.metadata.name, ())
    started = {c.spec.site for c in contracts if c.spec.start <= today}
    if not started:
        return
    here: set[str] | None = None  # `current_sites` that have started
    users = Infra.WIFI_USERS
    for user in occupier.spec.users:
        wifi = user.wifi
        if wifi is True:
            if here is None:
                here = started.intersection(current_sites(repo, occupier.metadata.name, today))
            sites = here
        elif isinstance(wifi, tuple):
            sites = started.intersection(wifi)
        else:
            continue
        for site in sites:
            used = out.setdefault(site, {})
            used[users] = used.get(users, 0) + 1


def infrastructure(
    repo: Repo,
    occupier: str,
    site: str,
    today: date,
    public_in_use: int = 0,
    numbers_active: int = 0,
) -> dict[Infra, Usage]:
    """The Provisioned infrastructure row of seed 000: X/Y for the five types.
    `numbers_active`: the numbers the ledger holds active, counted when none is declared (the
    first voice service activated them, T1)."""
    doc = repo.occupiers.get(occupier)
    used = in_use(repo, doc, site, today) if doc is not None else Counter[str]()
    used[Infra.PUBLIC_IPS] = public_in_use
    if not used[Infra.PHONE_NUMBERS]:
        used[Infra.PHONE_NUMBERS] = numbers_active
    alloc = allocated(repo, occupier, site, today, today)
    return {kind: Usage(used[kind], alloc[kind]) for kind in Infra}


ALL = "all"


def suspended(repo: Repo, occupier: str, site: str, today: date) -> frozenset[str]:
    """Splynx `Stopped` (a temporary disable): what of an occupier's provisioning at a site is
    suspended — ALL when the occupier is Stopped; else each port role (`port:<role>`),
    `numbers` and `wifi` that only Stopped lines provide. Nothing is released."""
    key = ("suspended", occupier, site, today)
    known = repo.memo.get(key)
    if known is not None:
        return known  # type: ignore[return-value]
    doc = repo.occupiers.get(occupier)
    found: frozenset[str] = frozenset()  # nothing Stopped there: nothing suspended
    if doc is not None and doc.spec.status is LineStatus.STOPPED:
        found = frozenset({ALL})
    elif (occupier, site) in _stopped_lines(repo):
        status = statuses(repo, today)
        stopped: set[str] = set()
        running: set[str] = set()
        for service in repo.services_at.get((occupier, site), ()):
            if status[service.metadata.name] is not Status.ACTIVE:
                continue
            definition, _, _ = terms_on(repo, service, today)
            provides = _provides(definition)
            (stopped if service.spec.status is LineStatus.STOPPED else running).update(provides)
        found = frozenset(stopped - running)
    repo.memo[key] = found
    return found


def _stopped_lines(repo: Repo) -> set[tuple[str, str]]:
    """(occupier, site) of every Stopped service, remembered: most have none, and then
    nothing of theirs is suspended without reading their services."""
    known = repo.memo.get(("stopped lines",))
    if known is None:
        known = repo.memo["stopped lines",] = {
            (s.spec.occupier, s.spec.site)
            for s in repo.services.values()
            if s.spec.status is LineStatus.STOPPED
        }
    return known  # type: ignore[return-value]


def _provides(definition: ServiceDefinition | None) -> set[str]:
    if definition is None:
        return set()
    infra = definition.spec.infrastructure
    out = {f"port:{infra.switch_ports.role}"} if infra.switch_ports is not None else set()
    if infra.phone_numbers:
        out.add("numbers")
    if infra.wifi_users or infra.wifi_devices:
        out.add("wifi")
    return out
