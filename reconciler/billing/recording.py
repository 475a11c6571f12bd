"""What `apply` records in the billing history (pure): each line's timeline projected from the
documents on a business date, compared with what the history already says (history.py)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from reconciler.billing.history import (
    ACTIVE,
    ENDED,
    HUNDRED,
    PENDING,
    STOPPED,
    Event,
    Terms,
    Timeline,
    state_on,
)
from reconciler.catalogue import Status as LineState
from reconciler.catalogue import contract_of, contract_status, decommissioned, terms_on
from reconciler.model.kinds import AtEnd, Contract, LineStatus, Service
from reconciler.model.repo import Repo

NO_DISCOUNT = min(HUNDRED, Decimal(0))  # what the sum of no discount comes to


def _status_on(
    repo: Repo, service: Service, day: date, contract: Contract | None
) -> tuple[str, str]:
    """(state, reason) of a line on a day from the documents alone (S2, S9, D3); `contract`
    is the line's (contract_of)."""
    spec = service.spec
    occupier = repo.occupiers.get(spec.occupier)
    if decommissioned(occupier, day):
        return ENDED, "decommission"
    if spec.end is not None and day > spec.end:
        return ENDED, "end"
    if contract is None:
        return PENDING, ""
    status = contract_status(contract, day)
    if status is LineState.SCHEDULED:
        return PENDING, ""
    if status is LineState.INACTIVE and contract.spec.at_end is AtEnd.DEPROVISION:
        return ENDED, "contract-end"
    stopped = spec.status is LineStatus.STOPPED or (
        occupier is not None and occupier.spec.status is LineStatus.STOPPED
    )
    return (STOPPED, "") if stopped else (ACTIVE, "")


def dated_items(repo: Repo, service: Service, contract: Contract | None) -> dict[str, date]:
    """The dates in the documents where a line's terms change, by what they are; `contract`
    is the line's (contract_of)."""
    spec = service.spec
    items: dict[str, date] = {}
    if contract is not None:
        items[f"start:{contract.spec.start}"] = contract.spec.start
        if contract.spec.end is not None and contract.spec.at_end is AtEnd.DEPROVISION:
            items[f"contract-end:{contract.spec.end}"] = contract.spec.end + timedelta(days=1)
    occupier = repo.occupiers.get(spec.occupier)
    request = occupier.spec.decommission if occupier else None
    if request is not None and request.at is not None:
        items[f"decommission:{request.at}"] = request.at
    for change in spec.changes:
        what = (change.quantity, change.definition, change.price)
        items[f"change:{change.on}:{what}"] = change.on
    if spec.end is not None:
        items[f"end:{spec.end}"] = spec.end + timedelta(days=1)
    for discount in spec.discounts:
        items[f"discount:{discount.start}:{discount.end}:{discount.percent}"] = discount.start
        if discount.end is not None:
            items[f"discount-end:{discount.start}:{discount.end}"] = discount.end + timedelta(
                days=1
            )
    return items


def terms_of(
    repo: Repo,
    service: Service,
    day: date,
    retired: bool,
    contract: Contract | None,
) -> Terms:
    """The line's terms on a day, from the documents; `contract` is the line's."""
    spec = service.spec
    definition, quantity, price = terms_on(repo, service, day)
    state, reason = _status_on(repo, service, day, contract)
    if retired and state != ENDED:
        state, reason = ENDED, "retirement"
    discount = (
        min(
            HUNDRED,
            sum(
                (
                    d.percent
                    for d in spec.discounts
                    if d.start <= day and (d.end is None or day <= d.end)
                ),
                Decimal(0),
            ),
        )
        if spec.discounts
        else NO_DISCOUNT
    )
    return Terms(
        spec.occupier,
        spec.site,
        contract.name if contract else "",
        definition.name if definition else spec.definition,
        quantity,
        price if price is not None else Decimal(0),
        definition.spec.quantity.included if definition else 0,
        discount,
        str(spec.pay_period),
        state,
        reason,
        bool(definition and definition.spec.charge_while_stopped),
    )


def projection(
    repo: Repo,
    service: Service,
    since: date,
    retired: bool,
    items: dict[str, date],
    contract: Contract | None,
) -> Timeline:
    """The line's timeline from `since` on, as the documents say today; `items` are its
    dated items, `contract` its contract."""
    dates = sorted({since, *(d for d in items.values() if d > since)})
    timeline: Timeline = []
    for day in dates:
        terms = terms_of(repo, service, day, retired, contract)
        if not timeline or not _same(timeline[-1][1], terms):
            timeline.append((day, terms))
    return timeline


def _same(before: Terms, after: Terms) -> bool:
    """No breakpoint: equal terms, or still not charged for the same reason (a price change
    after a decommission is no event)."""
    if before == after:
        return True
    return not (before.billable or after.billable) and (before.state, before.reason) == (
        after.state,
        after.reason,
    )


def _from(timeline: Timeline, since: date) -> Timeline:
    """The recorded timeline from `since` on, in the same shape as a projection."""
    current = state_on(timeline, since)
    head: Timeline = [(since, current)] if current is not None else []
    return head + [bp for bp in timeline if bp[0] > since]


def kind_of(before: Terms | None, after: Terms) -> str:
    """A readable name for a breakpoint (seed 003: the first active day is the bill date)."""
    if after.state == ENDED:
        return after.reason or "removal"
    if after.state == PENDING:
        return "scheduled"
    if after.state == STOPPED:
        return "change" if before is not None and before.state == STOPPED else "suspend"
    if before is None or before.state in (PENDING, ENDED):
        return "activation"
    return "resume" if before.state == STOPPED else "change"


def _recording(
    line: str,
    stamp: int,
    today: date,
    since: date,
    timeline: Timeline,
    projected: Timeline,
    dated: str,
) -> list[Event]:
    events = []
    before = state_on(timeline, since - timedelta(days=1))
    for effective, terms in projected:
        events.append(
            Event(line, stamp, today, since, effective, kind_of(before, terms), terms, dated)
        )
        before = terms
    return events


def recordings(
    repo: Repo,
    history: Mapping[str, Timeline],
    dated: Mapping[str, str],
    today: date,
    retired: Collection[str],
    stamp: int,
    activated: Mapping[str, date] | None = None,
    unprovisioned: Collection[str] = (),
) -> list[Event]:
    """What `apply` on `today` adds to the billing history: for each line whose timeline from
    `since` on differs from the documents' projection, one recording. `dated` is each line's
    dated items at its last recording; `retired` the lines an Active upgrade replaces (S8);
    `activated` the activation dates a ledger from before the billing history kept (its
    first recording starts there); `unprovisioned` the lines this apply tried to provision
    and could not (a device failed): nothing is recorded for them, so a line is charged from
    the apply that made it Active (seed 003's bill date), not from the one that allocated it."""
    out: list[Event] = []
    for name in sorted(repo.services):
        if name in unprovisioned:
            continue
        service = repo.services[name]
        timeline = history.get(name, [])
        contract = contract_of(repo, service)
        items = dated_items(repo, service, contract)
        signature = ";".join(sorted(items))
        since = min(today, (activated or {}).get(name, today))
        if timeline:
            known = set(dated.get(name, "").split(";"))
            backdated = [d for key, d in items.items() if key not in known and d < today]
            since = max(timeline[0][0], min([today, *backdated]))
        projected = projection(repo, service, since, name in retired, items, contract)
        if not timeline and all(t.state == ENDED for _, t in projected):
            continue  # over before it was ever recorded: nothing to bill, ever
        if projected == _from(timeline, since):
            continue
        out.extend(_recording(name, stamp, today, since, timeline, projected, signature))
    for name in sorted(set(history) - set(repo.services)):
        timeline = history[name]
        tail = _from(timeline, today)
        if tail and tail[0][0] == today and all(t.state == ENDED for _, t in tail):
            continue
        template = state_on(timeline, today) or timeline[0][1]
        ended = [(today, replace(template, state=ENDED, reason="removal"))]
        out.extend(_recording(name, stamp, today, today, timeline, ended, dated.get(name, "")))
    return out
