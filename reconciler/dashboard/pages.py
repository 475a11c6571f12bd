"""The dashboard's page model (pure): documents + ledger snapshot + today → the index, one
page per site and per occupier, and the plan page. No I/O and no HTML here: `render` writes
what these records say."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Generic, TypeVar

from reconciler.catalogue import Status, contract_status, decommissioned
from reconciler.dashboard import charts
from reconciler.dashboard.occupier import OccupierPage, occupier_pages, phase_of, provisioned
from reconciler.dashboard.snapshot import Snapshot
from reconciler.ledger.model import Kind, State
from reconciler.model.kinds import Site
from reconciler.model.repo import Repo
from reconciler.plan.pools import POOL_WARNING, PoolUse, pool_usage
from reconciler.report import ServiceRow, services

PAGE_SIZE = 200  # rows of a big table per page: the page stays small at 10,000 occupiers
LIVE = ("Active", "Updating", "Failed")  # provisioned now, so charged now
NO_HISTORY = "no history yet"


def site_href(site: str) -> str:
    return f"sites/{site}.html"


def page_file(stem: str, number: int) -> str:
    """`stem.html`, then `stem.2.html`…: a dot cannot clash with a DNS-1123 name."""
    return f"{stem}.html" if number == 1 else f"{stem}.{number}.html"


@dataclass(frozen=True)
class PoolBar:
    """A pool's utilization on a site page, with its trend."""

    pool: str
    used: int
    size: int
    percent: float
    warning: bool  # ≥ 90 %
    trend: charts.Trend | None
    full_by: date | None
    history: str  # where the trend comes from, or "no history yet"


@dataclass(frozen=True)
class DeviceRow:
    """A device on a site page: the last apply's result and drift."""

    name: str
    role: str  # switch, router, telephony, Wi-Fi
    platform: str
    host: str
    result: str  # applied, failed, not applied yet
    detail: str
    drift: str
    drifted: bool


@dataclass(frozen=True)
class OccupierRow:
    """An occupier on a site page."""

    name: str
    display_name: str
    href: str
    contract_status: str
    phase: str
    services: int
    monthly: Decimal
    infrastructure: tuple[str, ...]  # X/Y, in catalogue.Infra order
    over: bool  # some X > Y (S7 broken, e.g. a service removed under an active number)


@dataclass(frozen=True)
class CoolingNumber:
    """A number in cooling-off, and until when."""

    number: str
    until: date | None


@dataclass(frozen=True)
class FailedService:
    """A service whose provisioning failed, and why."""

    service: str
    occupier: str
    href: str
    reason: str


@dataclass(frozen=True)
class SitePage:
    """Everything a site page shows."""

    name: str
    display_name: str
    href: str
    spaces_let: int
    spaces_total: int
    pools: tuple[PoolBar, ...]
    devices: tuple[DeviceRow, ...]
    occupiers: tuple[OccupierRow, ...]
    cooling_off: tuple[CoolingNumber, ...]
    failed: tuple[FailedService, ...]

    @property
    def occupancy(self) -> float:
        return self.spaces_let / self.spaces_total * 100 if self.spaces_total else 0.0

    @property
    def drifted(self) -> int:
        return sum(1 for d in self.devices if d.drifted)

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.pools if p.warning)


@dataclass(frozen=True)
class PlanLine:
    """A line of the plan page: added (+), removed (-) or changed (~)."""

    sign: str  # + - ~
    text: str


@dataclass(frozen=True)
class PlanPage:
    """A pull request's plan, as the plan page shows it."""

    base: str
    summary: str
    changes: bool
    notes: tuple[str, ...]  # decommissions in words
    findings: tuple[str, ...]
    sites: tuple[tuple[str, tuple[tuple[str, tuple[PlanLine, ...]], ...]], ...]
    pools: tuple[PoolUse, ...]


@dataclass(frozen=True)
class Dashboard:
    """Every page of the dashboard, before rendering."""

    today: date
    recorded: bool  # a ledger was read
    sites: tuple[SitePage, ...]
    occupiers: tuple[OccupierPage, ...]
    plan: PlanPage | None = None
    drift_checked: bool = False

    @property
    def failed(self) -> int:
        return sum(len(s.failed) for s in self.sites)


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a long table: its rows, its number and how many pages there are."""

    rows: tuple[T, ...]
    number: int
    count: int
    first: int  # 1-based index of the first row


def paginate(rows: Sequence[T], size: int = PAGE_SIZE) -> list[Page[T]]:
    count = max((len(rows) + size - 1) // size, 1)
    return [
        Page(tuple(rows[i * size : (i + 1) * size]), i + 1, count, i * size + 1)
        for i in range(count)
    ]


@dataclass
class _Facts:
    """What several pages read, computed once for the whole dashboard."""

    by_occupier: defaultdict[str, list[ServiceRow]]
    usage: dict[tuple[str, str], PoolUse]
    derived: dict[tuple[str, str], list[tuple[date, int]]]
    occupiers_at: defaultdict[str, list[str]]
    failed_at: defaultdict[str, list[FailedService]]


def build(repo: Repo, snapshot: Snapshot, today: date, plan: PlanPage | None = None) -> Dashboard:
    """Every page of the dashboard, as of `today`."""
    recorded = {n: (r.status, r.reason) for n, r in snapshot.services.items()}
    facts = _Facts(
        defaultdict(list),
        {(u.site, u.pool): u for u in pool_usage(repo, snapshot.holdings)},
        _derived_history(repo, snapshot, today),
        defaultdict(list),
        defaultdict(list),
    )
    rows = services(
        repo, today, snapshot.holdings, recorded, True, snapshot.activated, snapshot.recorded
    )
    for row in rows:  # the same statuses as `tenantry report services` (S9)
        facts.by_occupier[row.occupier].append(row)
    for occupier, site in sorted(repo.contracts_at):
        facts.occupiers_at[site].append(occupier)
    for service, record in sorted(snapshot.services.items()):
        doc = repo.services.get(service)
        if record.status == "Failed" and doc is not None:
            href = f"occupiers/{doc.spec.occupier}.html"
            failure = FailedService(service, doc.spec.occupier, href, record.reason)
            facts.failed_at[doc.spec.site].append(failure)
    sites = tuple(
        _site_page(repo, site, snapshot, today, facts)
        for site in sorted(repo.sites.values(), key=lambda s: s.name)
    )
    return Dashboard(
        today,
        snapshot.recorded,
        sites,
        tuple(occupier_pages(repo, snapshot, today, facts.by_occupier)),
        plan,
        snapshot.drift is not None,
    )


def _site_page(repo: Repo, site: Site, snapshot: Snapshot, today: date, facts: _Facts) -> SitePage:
    name = site.name
    occupiers = facts.occupiers_at.get(name, [])
    let = {
        space
        for o in occupiers
        if not decommissioned(repo.occupiers.get(o), today)
        for c in repo.contracts_at[o, name]
        if contract_status(c, today) is Status.ACTIVE
        for space in c.spec.spaces
    }
    failed = tuple(facts.failed_at.get(name, ()))
    numbers = [
        a
        for a in snapshot.holdings.at.get(name, ())
        if a.kind is Kind.NUMBER and a.state is State.COOLING_OFF
    ]
    cooling = tuple(
        CoolingNumber(a.value, a.until)
        for a in sorted(numbers, key=lambda a: (a.until or today, a.value))
    )
    rows = facts.by_occupier
    return SitePage(
        name,
        site.spec.display_name,
        site_href(name),
        len(let),
        len({s.name for s in site.spec.spaces}),
        tuple(
            _pool_bar(u, snapshot, facts.derived) for (s, _), u in facts.usage.items() if s == name
        ),
        tuple(_devices(site, snapshot, failed)),
        tuple(_occupier_row(repo, name, o, snapshot, today, rows) for o in occupiers),
        cooling,
        failed,
    )


def _pool_bar(
    use: PoolUse, snapshot: Snapshot, derived: Mapping[tuple[str, str], list[tuple[date, int]]]
) -> PoolBar:
    """A pool's bar; with history, its trend and the day it fills if the growth goes on."""
    key = (use.site, use.pool)
    if snapshot.pool_history is not None and key in snapshot.pool_history:
        series, source = list(snapshot.pool_history[key]), "recorded in the ledger"
    elif key in derived:
        series, source = derived[key], "from the day each occupier's first service went Active"
    else:
        series, source = [], NO_HISTORY
    title = f"{use.pool} in use over time at {use.site}"
    line = charts.trend(series, use.size, title)
    return PoolBar(
        use.pool,
        use.used,
        use.size,
        round(use.ratio * 100, 1),
        bool(use.size) and use.ratio >= POOL_WARNING,
        line,
        charts.full_by(series, use.size) if line else None,
        source if line else NO_HISTORY,
    )


def _derived_history(
    repo: Repo, snapshot: Snapshot, today: date
) -> dict[tuple[str, str], list[tuple[date, int]]]:
    """What the ledger records today gives one history: each occupier holding a VLAN (and a
    prefix) at a site got it when its first service there went Active. The running count of
    those days, up to today, is the VLAN and prefix trend (occupiers who left are not in it)."""
    first: dict[tuple[str, str], date] = {}
    for service, day in snapshot.activated.items():
        doc = repo.services.get(service)
        if doc is None:
            continue
        key = (doc.spec.site, doc.spec.occupier)
        if key not in first or day < first[key]:
            first[key] = day
    starts: defaultdict[str, list[date]] = defaultdict(list)
    for (site, occupier), day in first.items():
        if snapshot.holdings.held_by(site, occupier, Kind.VLAN):
            starts[site].append(day)
    out: dict[tuple[str, str], list[tuple[date, int]]] = {}
    for site, days in starts.items():
        series = running_count(days, today)
        for pool in ("VLANs", "prefixes"):
            out[site, pool] = series
    return out


def running_count(days: Iterable[date], today: date) -> list[tuple[date, int]]:
    """(day, how many events up to that day) at each distinct day, and at today."""
    series: list[tuple[date, int]] = []
    count = 0
    for day in sorted(days):
        count += 1
        if series and series[-1][0] == day:
            series[-1] = (day, count)
        else:
            series.append((day, count))
    if series and series[-1][0] < today:
        series.append((today, count))
    return series


def _devices(site: Site, snapshot: Snapshot, failed: Iterable[FailedService]) -> list[DeviceRow]:
    """Each device with its last apply result (from the ledger) and its last drift check."""
    spec = site.spec
    devices: list[tuple[str, str, str, str]] = [
        (s.name, "switch", s.platform, s.host) for s in spec.switches
    ]
    for role, device in (("router", spec.router), ("telephony", spec.telephony)):
        if device is not None:
            devices.append((device.name, role, device.platform, device.host))
    if spec.wifi is not None:
        devices.append((spec.wifi.name, "Wi-Fi", spec.wifi.platform, spec.wifi.host))
    named = {  # a ledger from before devices were recorded: the reason services carry
        f.reason.partition(": ")[0]: f.reason.partition(": ")[2] for f in failed if ": " in f.reason
    }
    rows = []
    for name, role, platform, host in devices:
        result, detail = _last_apply(name, snapshot, named)
        check = snapshot.drift.get(name) if snapshot.drift is not None else None
        if check is None:
            drift, drifted = "no drift check yet", False
        elif check.differences:
            drift, drifted = f"{check.differences} lines differ ({check.checked})", True
        else:
            drift, drifted = f"in sync ({check.checked})", False
        rows.append(DeviceRow(name, role, platform, host, result, detail, drift, drifted))
    return rows


def _last_apply(name: str, snapshot: Snapshot, named: Mapping[str, str]) -> tuple[str, str]:
    lines = len(snapshot.applied.get(name, {}))
    record = snapshot.devices.get(name)
    if record is not None and record.status == "Failed":
        return "failed", f"{record.reason} ({record.updated})"
    if record is not None:
        return "applied", f"{lines} managed lines ({record.updated})"
    if name in named:
        return "failed", named[name]
    if name in snapshot.applied:
        return "applied", f"{lines} managed lines"
    return "not applied yet", ""


def _occupier_row(
    repo: Repo,
    site: str,
    occupier: str,
    snapshot: Snapshot,
    today: date,
    by_occupier: Mapping[str, list[ServiceRow]],
) -> OccupierRow:
    doc = repo.occupiers.get(occupier)
    gone = decommissioned(doc, today)
    here = [r for r in by_occupier.get(occupier, ()) if r.site == site]
    order = [Status.ACTIVE, Status.SCHEDULED, Status.INACTIVE]
    best = min(
        (contract_status(c, today) for c in repo.contracts_at[occupier, site]), key=order.index
    )
    if gone:
        cells: tuple[str, ...] = ("",) * 5
        over = False
    else:
        infra = provisioned(repo, snapshot, occupier, site, today)
        cells = tuple(str(u) for u in infra.values())
        over = any(u.in_use > u.allocated for u in infra.values())
    return OccupierRow(
        occupier,
        doc.spec.display_name if doc else occupier,
        f"occupiers/{occupier}.html",
        str(Status.INACTIVE if gone else best),
        phase_of(doc, snapshot, today),
        sum(1 for r in here if r.status in LIVE or r.status == "Scheduled"),
        sum((r.total for r in here if r.status in LIVE), Decimal(0)),
        cells,
        over,
    )


def plan_page(
    base: str,
    summary: str,
    changes: bool,
    notes: Sequence[str],
    findings: Sequence[str],
    grouped: Mapping[str, Mapping[str, Sequence[str]]],
    pools: Sequence[PoolUse],
) -> PlanPage:
    """The plan of a pull request as a page: the same lines as `tenantry plan`, by site."""
    touched = set(grouped)
    return PlanPage(
        base,
        summary,
        changes,
        tuple(notes),
        tuple(findings),
        tuple(
            (
                site,
                tuple(
                    (who, tuple(PlanLine(line[:1], line[2:]) for line in lines))
                    for who, lines in groups.items()
                ),
            )
            for site, groups in grouped.items()
        ),
        tuple(p for p in pools if p.site in touched and p.size),
    )
