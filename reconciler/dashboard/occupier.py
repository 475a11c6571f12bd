"""The occupier page's model (pure): seed 000's Manage services table per site with its
Provisioned infrastructure row, users, Wi-Fi devices, numbers, charges per month, and the
decommission status with its history (D4: a decommissioned occupier keeps its contracts,
services and charges; its users, devices, numbers and network are not shown)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from reconciler import decommission
from reconciler.catalogue import (
    Infra,
    Usage,
    contract_status,
    decommissioned,
    infrastructure,
    wifi_sites,
)
from reconciler.dashboard import charts
from reconciler.dashboard.snapshot import Snapshot
from reconciler.ledger.model import Kind
from reconciler.model.kinds import Occupier
from reconciler.model.repo import Repo
from reconciler.report import ServiceRow

HISTORY_MONTHS = 12


@dataclass(frozen=True)
class ContractLine:
    """A contract on an occupier's page."""

    name: str
    start: date
    end: date | None
    spaces: str
    status: str
    at_end: str


@dataclass(frozen=True)
class ServiceLine:
    """A service on an occupier's page, as seed 000's Manage services shows it."""

    service: str
    description: str
    contract: str
    contract_status: str
    start: date | None
    cost: Decimal | None
    rrp: Decimal | None
    price: Decimal
    quantity: int
    total: Decimal
    status: str
    reason: str


@dataclass(frozen=True)
class SiteSection:
    """An occupier's contracts, services and infrastructure at one site."""

    site: str
    display_name: str
    href: str
    contracts: tuple[ContractLine, ...]
    services: tuple[ServiceLine, ...]
    infrastructure: tuple[tuple[str, str, bool], ...]  # type, X/Y, X > Y

    @property
    def monthly(self) -> Decimal:
        return sum((s.total for s in self.services if s.status == "Active"), Decimal(0))


@dataclass(frozen=True)
class NumberLine:
    """A phone number of an occupier and who uses it."""

    site: str
    number: str
    state: str
    main: bool
    handset: str
    logged_in: bool
    assignee: str


@dataclass(frozen=True)
class Event:
    """A line of an occupier's history."""

    day: str  # an ISO date, or a timestamp
    text: str


@dataclass(frozen=True)
class OccupierPage:
    """Everything an occupier's page shows."""

    name: str
    display_name: str
    href: str
    phase: str
    decommissioned: bool
    decommission_at: date | None
    tasks: tuple[tuple[str, str], ...]  # site → pending / done / the reason it failed
    sections: tuple[SiteSection, ...]
    users: tuple[tuple[str, str, str, str], ...]  # name, email, Wi-Fi sites, number
    wifi_devices: tuple[tuple[str, str, str], ...]  # name, MAC, site
    numbers: tuple[NumberLine, ...]
    charges: charts.BarChart | None
    charge_rows: tuple[tuple[str, Decimal, str], ...]  # month, total, closed or open
    charges_source: str  # where the figures come from, or why there are none
    events: tuple[Event, ...]

    @property
    def statuses(self) -> tuple[str, ...]:
        return tuple(sorted({s.status for sec in self.sections for s in sec.services}))


def provisioned(
    repo: Repo, snapshot: Snapshot, occupier: str, site: str, today: date
) -> dict[Infra, Usage]:
    """S6 X/Y of an occupier at a site (public IPs in use from the ledger), computed once for
    the site page and the occupier page."""
    key = ("dashboard-infrastructure", occupier, site, today)
    if key not in repo.memo:
        public = len(snapshot.holdings.held_by(site, occupier, Kind.PUBLIC))
        repo.memo[key] = infrastructure(repo, occupier, site, today, public)
    return repo.memo[key]  # type: ignore[return-value]


def phase_of(doc: Occupier | None, snapshot: Snapshot, today: date) -> str:
    """D5: the phase the ledger recorded; a request not applied yet says so."""
    if doc is None:
        return decommission.ACTIVE
    record = snapshot.occupiers.get(doc.name)
    if record is not None and record.phase != decommission.ACTIVE:
        return record.phase
    request = doc.spec.decommission
    if request is None:
        return decommission.ACTIVE
    if request.at is not None and request.at > today:
        return decommission.SCHEDULED
    return "Decommission requested (not applied yet)"


def occupier_pages(
    repo: Repo, snapshot: Snapshot, today: date, rows: Mapping[str, Sequence[ServiceRow]]
) -> Iterator[OccupierPage]:
    for name in sorted(repo.occupiers):
        yield _occupier_page(repo, repo.occupiers[name], snapshot, today, rows)


def _occupier_page(
    repo: Repo,
    doc: Occupier,
    snapshot: Snapshot,
    today: date,
    rows: Mapping[str, Sequence[ServiceRow]],
) -> OccupierPage:
    name, spec = doc.name, doc.spec
    gone = decommissioned(doc, today)
    record = snapshot.occupiers.get(name)
    sections = tuple(
        _section(repo, doc, site, snapshot, today, rows.get(name, ()), gone)
        for site in repo.sites_of(name)
    )
    users: tuple[tuple[str, str, str, str], ...] = ()
    devices: tuple[tuple[str, str, str], ...] = ()
    numbers: tuple[NumberLine, ...] = ()
    if not gone:  # D4: not kept
        users = tuple(
            (u.name, u.email, ", ".join(wifi_sites(repo, doc, u.wifi, today)), u.number or "")
            for u in spec.users
        )
        devices = tuple((d.name, d.mac, d.site) for d in spec.wifi_devices)
        numbers = tuple(_numbers(repo, doc, snapshot))
    chart, charge_rows, source = _charges(name, snapshot)
    return OccupierPage(
        name,
        spec.display_name,
        f"occupiers/{name}.html",
        phase_of(doc, snapshot, today),
        gone,
        spec.decommission.at if spec.decommission else None,
        tuple(sorted(record.tasks.items())) if record else (),
        sections,
        users,
        devices,
        numbers,
        chart,
        charge_rows,
        source,
        tuple(_events(repo, doc, snapshot, today)),
    )


def _section(
    repo: Repo,
    doc: Occupier,
    site: str,
    snapshot: Snapshot,
    today: date,
    rows: Sequence[ServiceRow],
    gone: bool,
) -> SiteSection:
    contracts = tuple(
        ContractLine(
            c.name,
            c.spec.start,
            c.spec.end,
            ", ".join(c.spec.spaces),
            "Inactive" if gone else str(contract_status(c, today)),
            str(c.spec.at_end),
        )
        for c in sorted(repo.contracts_at.get((doc.name, site), ()), key=lambda c: c.spec.start)
    )
    lines = []
    for row in rows:
        if row.site != site:
            continue
        service = repo.services[row.service]
        definition = repo.definitions.get(row.definition)
        contract = repo.contracts.get(row.contract)
        lines.append(
            ServiceLine(
                row.service,
                definition.spec.description if definition else row.definition,
                row.contract,
                row.contract_status,
                contract.spec.start if contract else service.spec.start,
                definition.spec.cost if definition else None,
                definition.spec.rrp if definition else None,
                row.price,
                row.quantity,
                row.total,
                row.status,
                row.reason,
            )
        )
    infra: tuple[tuple[str, str, bool], ...] = ()
    if not gone:
        infra = tuple(
            (str(kind), str(u), u.in_use > u.allocated)
            for kind, u in provisioned(repo, snapshot, doc.name, site, today).items()
        )
    display = repo.sites[site].spec.display_name if site in repo.sites else site
    return SiteSection(site, display, f"sites/{site}.html", contracts, tuple(lines), infra)


def _numbers(repo: Repo, doc: Occupier, snapshot: Snapshot) -> Iterator[NumberLine]:
    """The numbers the ledger gives the occupier, with how each is used (handset, user)."""
    spec = doc.spec
    activations = {(a.site, a.number): a for a in spec.activations.numbers}
    assignees = {u.number: u.name for u in spec.users if u.number}
    for site in repo.sites_of(doc.name):
        for row in sorted(
            snapshot.holdings.held_by(site, doc.name, Kind.NUMBER), key=lambda a: a.value
        ):
            active = activations.get((site, row.value))
            yield NumberLine(
                site,
                row.value,
                str(row.state),
                row.role == "main",
                str(active.handset) if active else "",
                bool(active and active.logged_in),
                assignees.get(row.value, "main" if row.role == "main" else ""),
            )


def last_months(today: date, count: int = HISTORY_MONTHS) -> list[tuple[int, int]]:
    """The last `count` months up to today's, oldest first."""
    out = []
    year, month = today.year, today.month
    for _ in range(count):
        out.append((year, month))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out[::-1]


def _charges(
    name: str, snapshot: Snapshot
) -> tuple[charts.BarChart | None, tuple[tuple[str, Decimal, str], ...], str]:
    """The months of the ledger's billing history, as `tenantry report charges` shows them."""
    if snapshot.billed is None:
        return None, (), "no history yet"
    rows = tuple(
        (m.month, m.amount, "closed" if m.closed else "open") for m in snapshot.billed.get(name, ())
    )
    if not rows:
        return None, (), "nothing charged yet"
    source = (
        "from the ledger's billing history, as tenantry report charges gives them "
        "(a closed month as billed, an open one so far)"
    )
    chart = charts.bar_chart(
        [(month[2:], float(amount), f"{amount:.2f}") for month, amount, _ in rows],
        f"Charges per month for {name}",
    )
    return chart, rows, source


def _events(repo: Repo, doc: Occupier, snapshot: Snapshot, today: date) -> Iterator[Event]:
    """History, newest first: contracts starting and ending, services going Active, what the
    ledger last recorded for each service (failures, retirements), the decommission."""
    events: list[Event] = []
    for contract in repo.contracts_of.get(doc.name, ()):
        events.append(Event(contract.spec.start.isoformat(), f"contract {contract.name} starts"))
        if contract.spec.end is not None and contract.spec.end <= today:
            events.append(Event(contract.spec.end.isoformat(), f"contract {contract.name} ended"))
    mine = sorted(
        s.name
        for site in repo.sites_of(doc.name)
        for s in repo.services_at.get((doc.name, site), ())
    )
    for service in mine:
        day = snapshot.activated.get(service)
        if day is not None:
            events.append(Event(day.isoformat(), f"service {service} first Active"))
        status = snapshot.services.get(service)
        if status is not None and status.status in ("Failed", "Inactive") and status.updated:
            why = f": {status.reason}" if status.reason else ""
            events.append(Event(status.updated[:10], f"service {service} {status.status}{why}"))
    request = doc.spec.decommission
    if request is not None:
        when = request.at.isoformat() if request.at else today.isoformat()
        events.append(Event(when, f"decommission requested ({phase_of(doc, snapshot, today)})"))
    events.sort(key=lambda e: (e.day, e.text), reverse=True)
    yield from (e for e in events if e.day <= today.isoformat())
