"""Reports as plain rows (pure): services with X/Y per occupier and site (charges: billing/)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from reconciler.catalogue import (
    Status,
    contract_of,
    contract_status,
    decommissioned,
    infrastructure,
    statuses,
    terms_on,
)
from reconciler.ledger.model import Holdings, Kind, State
from reconciler.model.kinds import LineStatus, Service
from reconciler.model.repo import Repo

CENT = Decimal("0.01")


@dataclass(frozen=True)
class ServiceRow:
    """One line of seed 000's Manage services screen."""

    occupier: str
    site: str
    contract: str
    contract_status: str
    service: str
    definition: str
    description: str
    start: date | None  # the contract's start: the service's, and cannot be overridden (S2)
    quantity: int
    included: int  # units the definition includes free (EngageIP threshold)
    price: Decimal
    cost: Decimal
    rrp: Decimal
    total: Decimal  # price × the units beyond the included ones, per month
    status: str
    reason: str
    activated: date | None  # the bill date: charged from here (S2)
    next_change: str  # the next scheduled change, "2027-01-01: quantity 5"
    infrastructure: str  # "switch ports 0/3, telephony 0/0, ..."


def chargeable(quantity: int, included: int) -> int:
    """S3 / EngageIP threshold: units beyond the included ones are charged."""
    return max(0, quantity - included)


def next_change(service: Service, today: date) -> str:
    """The first scheduled change after today, as people read it (S10)."""
    for change in sorted(service.spec.changes, key=lambda c: c.on):
        if change.on > today:
            parts = [
                f"{name} {value}"
                for name, value in (
                    ("definition", change.definition),
                    ("quantity", change.quantity),
                    ("price", change.price),
                )
                if value is not None
            ]
            return f"{change.on}: {', '.join(parts)}"
    return ""


def shown_status(
    on_date: Status, recorded: tuple[str, str] | None, ledger: bool
) -> tuple[str, str]:
    """S9: the date decides Scheduled and Inactive; a line Active by date is Active only once an
    apply provisioned it (the ledger says so), Failed or Updating while it does, and retired
    when an upgrade replaced it (S8). A stale recorded status never wins over the date."""
    if on_date is not Status.ACTIVE or not ledger:
        return str(on_date), ""
    if recorded is None:
        return str(Status.UPDATING), "not yet provisioned"
    status, reason = recorded
    if status in (Status.ACTIVE, Status.FAILED, Status.UPDATING):
        return status, reason
    if status == Status.INACTIVE and reason.startswith("replaced by"):
        return status, reason
    return str(Status.UPDATING), f"recorded {status}; provisioned at the next apply"


def services(
    repo: Repo,
    today: date,
    holdings: Holdings,
    recorded: Mapping[str, tuple[str, str]],
    history: bool = False,
    activated: Mapping[str, date] | None = None,
    ledger: bool = False,
) -> list[ServiceRow]:
    """One row per service line, with the occupier's provisioned infrastructure at the site.
    Decommissioned occupiers appear only with `history` (D4): their contracts, services and
    prices are kept; their network, numbers, users and devices are not shown. `ledger`: the
    statuses come from a ledger (without one, only the dates speak)."""
    status_now = statuses(repo, today)
    rows = []
    usage: dict[tuple[str, str], str] = {}
    for name in sorted(
        repo.services, key=lambda n: (repo.services[n].spec.occupier, repo.services[n].spec.site, n)
    ):
        service = repo.services[name]
        occupier, site = service.spec.occupier, service.spec.site
        gone = decommissioned(repo.occupiers.get(occupier), today)
        if gone and not history:
            continue
        contract = contract_of(repo, service)
        definition, quantity, price = terms_on(repo, service, today)
        unit = price if price is not None else Decimal(0)
        included = definition.spec.quantity.included if definition else 0
        status, reason = shown_status(status_now[name], recorded.get(name), ledger)
        if status == "Active" and _stopped(repo, service):
            status, reason = "Stopped", "suspended: ports shut, numbers and Wi-Fi disabled"
        key = (occupier, site)
        if gone:
            usage[key] = ""
        if key not in usage:
            usage[key] = infrastructure_cell(repo, holdings, occupier, site, today)
        started = (activated or {}).get(name)
        rows.append(
            ServiceRow(
                occupier,
                site,
                contract.name if contract else "",
                "Inactive" if gone else str(contract_status(contract, today)) if contract else "",
                name,
                definition.name if definition else service.spec.definition,
                definition.spec.description if definition else "",
                contract.spec.start if contract else None,
                quantity,
                included,
                unit,
                definition.spec.cost if definition else Decimal(0),
                definition.spec.rrp if definition else Decimal(0),
                (unit * chargeable(quantity, included)).quantize(CENT),
                status,
                reason,
                max(started, contract.spec.start) if started and contract else started,
                next_change(service, today),
                usage[key],
            )
        )
    return rows


def infrastructure_cell(
    repo: Repo, holdings: Holdings, occupier: str, site: str, today: date
) -> str:
    """S6's X/Y as one cell; X counts the public addresses held and the numbers the ledger
    holds active (the first voice service activates them, T1)."""
    public = sum(  # a /29 block gives 5 usable addresses, as the definition counts them
        1 if a.value.endswith("/32") else 2 ** (32 - int(a.value.rpartition("/")[2])) - 3
        for a in holdings.held_by(site, occupier, Kind.PUBLIC)
    )
    numbers = sum(
        1 for a in holdings.held_by(site, occupier, Kind.NUMBER) if a.state is State.ACTIVE
    )
    found = infrastructure(repo, occupier, site, today, public, numbers)
    return ", ".join(f"{kind} {use}" for kind, use in found.items())


def plan_usage(
    repo: Repo, after: Holdings, pairs: Iterable[tuple[str, str]], today: date
) -> dict[tuple[str, str], str]:
    """(site, occupier) → X/Y once the plan is carried out, for the occupiers it changes."""
    return {
        (site, who): infrastructure_cell(repo, after, who, site, today)
        for site, who in sorted(set(pairs))
        if who and who in repo.occupiers
    }


def case_notes(repo: Repo, provisioned: Iterable[str], active: Iterable[str]) -> list[str]:
    """Seed 000: an IVR or a conference bridge also needs a case raised with the provider; say
    so for each such line this plan provisions for the first time."""
    before = set(active)
    notes = []
    for name in sorted(set(provisioned) - before):
        service = repo.services.get(name)
        definition = repo.definitions.get(service.spec.definition) if service else None
        if definition is not None and definition.spec.raise_case:
            notes.append(f"service {name} ({definition.name}): {definition.spec.raise_case}")
    return notes


CONTRACT_FILTERS = ("Active", "Scheduled", "Active and Scheduled", "Inactive", "All")
SERVICE_FILTERS = ("Active", "Scheduled", "Inactive", "Updating", "Failed", "All")


def keep_row(
    row: ServiceRow,
    contract_filter: str = "All",
    service_filter: str = "All",
    names: Mapping[str, str | None] | None = None,
) -> bool:
    """Seed 000's drop-downs: Scheduled covers a future start and a future change; "Active and
    Scheduled" either. `names`: occupier, site or contract names the row must have."""
    scheduled_contract = row.contract_status == "Scheduled" or bool(row.next_change)
    by_contract = {
        "All": True,
        "Active": row.contract_status == "Active",
        "Scheduled": scheduled_contract,
        "Active and Scheduled": row.contract_status == "Active" or scheduled_contract,
        "Inactive": row.contract_status == "Inactive",
    }[contract_filter]
    by_service = service_filter in ("All", row.status) or (
        service_filter == "Scheduled" and bool(row.next_change)
    )
    wanted = {k: v for k, v in (names or {}).items() if v is not None}
    return by_contract and by_service and all(getattr(row, k) == v for k, v in wanted.items())


def _stopped(repo: Repo, service: Service) -> bool:
    """Splynx Stopped, on the line or on its occupier (issue 19)."""
    occupier = repo.occupiers.get(service.spec.occupier)
    return service.spec.status is LineStatus.STOPPED or (
        occupier is not None and occupier.spec.status is LineStatus.STOPPED
    )
