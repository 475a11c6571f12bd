"""Reports as plain rows (pure): services with X/Y per occupier and site (charges: billing/)."""

from __future__ import annotations

from collections.abc import Mapping
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
from reconciler.ledger.model import Holdings, Kind
from reconciler.model.kinds import LineStatus, Service
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
        elif status == "Active" and _stopped(repo, service):
            status, reason = "Stopped", "suspended: ports shut, numbers and Wi-Fi disabled"
        key = (occupier, site)
        if gone:
            usage[key] = ""
        if key not in usage:
            public = sum(1 for a in holdings.held_by(site, occupier, Kind.PUBLIC))
            usage[key] = ", ".join(
                f"{kind} {use}"
                for kind, use in infrastructure(repo, occupier, site, today, public).items()
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


def _stopped(repo: Repo, service: Service) -> bool:
    """Splynx Stopped, on the line or on its occupier (issue 19)."""
    occupier = repo.occupiers.get(service.spec.occupier)
    return service.spec.status is LineStatus.STOPPED or (
        occupier is not None and occupier.spec.status is LineStatus.STOPPED
    )
