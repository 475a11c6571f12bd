"""Reports as plain rows (pure): services with X/Y per occupier and site, pools, charges."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

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
from reconciler.model.kinds import AtEnd
from reconciler.model.repo import Repo

CENT = Decimal("0.01")


@dataclass(frozen=True)
class ServiceRow:
    occupier: str
    site: str
    contract: str
    contract_status: str
    service: str
    definition: str
    quantity: int
    price: Decimal
    total: Decimal
    status: str
    reason: str
    infrastructure: str  # "switch ports 0/3, telephony 0/0, ..."


def chargeable(quantity: int, included: int) -> int:
    """S3 / EngageIP threshold: units beyond the included ones are charged."""
    return max(0, quantity - included)


def services(
    repo: Repo,
    today: date,
    holdings: Holdings,
    recorded: Mapping[str, tuple[str, str]],
    history: bool = False,
) -> list[ServiceRow]:
    """One row per service line, with the occupier's provisioned infrastructure at the site.
    Decommissioned occupiers appear only with `history` (D4): their contracts, services and
    prices are kept; their network, numbers, users and devices are not shown."""
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
        status, reason = recorded.get(name, (str(status_now[name]), ""))
        if status_now[name] is not Status.ACTIVE:
            status, reason = str(status_now[name]), ""
        key = (occupier, site)
        if gone:
            usage[key] = ""
        if key not in usage:
            public = len(holdings.held_by(site, occupier, Kind.PUBLIC))
            numbers = sum(
                1 for a in holdings.held_by(site, occupier, Kind.NUMBER) if a.state is State.ACTIVE
            )
            usage[key] = ", ".join(
                f"{kind} {use}"
                for kind, use in infrastructure(
                    repo, occupier, site, today, public, numbers
                ).items()
            )
        rows.append(
            ServiceRow(
                occupier,
                site,
                contract.name if contract else "",
                "Inactive" if gone else str(contract_status(contract, today)) if contract else "",
                name,
                definition.name if definition else service.spec.definition,
                quantity,
                unit,
                (unit * chargeable(quantity, included)).quantize(CENT),
                status,
                reason,
                usage[key],
            )
        )
    return rows


@dataclass(frozen=True)
class ChargeRow:
    occupier: str
    site: str
    service: str
    definition: str
    start: date
    end: date
    days: int
    days_in_month: int
    quantity: int
    included: int
    chargeable: int
    price: Decimal
    amount: Decimal


def charges(repo: Repo, year: int, month: int, activated: Mapping[str, date]) -> list[ChargeRow]:
    """S2/S3/S10 for one month: each service is charged from its contract start when that is
    in the future of its activation, else from activation; until the contract ends (when it
    deprovisions) or the occupier is decommissioned; price × chargeable quantity, prorated by
    day, split where a scheduled change takes effect."""
    first = date(year, month, 1)
    days_in_month = calendar.monthrange(year, month)[1]
    last = date(year, month, days_in_month)
    rows = []
    for name in sorted(repo.services):
        service = repo.services[name]
        contract = contract_of(repo, service)
        started = activated.get(name)
        if contract is None or started is None:
            continue  # never provisioned: nothing to charge
        begin = max(contract.spec.start, started, first)
        end = last
        if contract.spec.end is not None and contract.spec.at_end is AtEnd.DEPROVISION:
            end = min(end, contract.spec.end)
        occupier = repo.occupiers.get(service.spec.occupier)
        request = occupier.spec.decommission if occupier else None
        if request is not None and request.at is not None:
            end = min(end, request.at - timedelta(days=1))
        if begin > end:
            continue
        boundaries = sorted({begin, *(c.on for c in service.spec.changes if begin < c.on <= end)})
        for index, segment_start in enumerate(boundaries):
            segment_end = (
                boundaries[index + 1] - timedelta(days=1) if index + 1 < len(boundaries) else end
            )
            definition, quantity, price = terms_on(repo, service, segment_start)
            included = definition.spec.quantity.included if definition else 0
            unit = price if price is not None else Decimal(0)
            days = (segment_end - segment_start).days + 1
            units = chargeable(quantity, included)
            amount = (unit * units * days / days_in_month).quantize(CENT, ROUND_HALF_UP)
            rows.append(
                ChargeRow(
                    service.spec.occupier,
                    service.spec.site,
                    name,
                    definition.name if definition else service.spec.definition,
                    segment_start,
                    segment_end,
                    days,
                    days_in_month,
                    quantity,
                    included,
                    units,
                    unit,
                    amount,
                )
            )
    return rows
