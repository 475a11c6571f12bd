"""The billing history of each service line (pure): what `apply` records, and how it reads back.

A line's history is a timeline: from each breakpoint date on, the line is in one state with
one set of terms (S3, seed 003's bill date, seed 004's service terms). `apply` on a business
date `today` records a *recording*: the line's timeline from `since` on, projected from the
documents (scheduled changes, end date, discounts, decommission, contract dates included).
`since` is `today`, so an edit never reprices a day before it was applied; only a dated item
that is new in the documents (a scheduled change, end date, discount or decommission date in
the past) reaches back to its date — that is an explicit correction.
Reading folds the recordings in order: each replaces the timeline from its `since` on.

This module is the history as data (no documents, no models: `report charges` imports it
alone); what `apply` records from the documents is in recording.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from itertools import groupby
from operator import attrgetter
from typing import Any

PENDING, ACTIVE, STOPPED, ENDED = "pending", "active", "stopped", "ended"
HUNDRED = Decimal(100)


@dataclass(slots=True)  # not frozen: built once per event read, a frozen __init__ is slower
class Terms:
    """A line's state and terms from one breakpoint on."""

    occupier: str
    site: str
    contract: str
    definition: str
    quantity: int
    price: Decimal
    included: int
    discount: Decimal  # percent off
    period: str  # PayPeriod value
    state: str  # pending | active | stopped | ended
    reason: str = ""  # why ended: removal, retirement, decommission, end, contract-end
    charge_stopped: bool = False

    @property
    def billable(self) -> bool:
        return self.state == ACTIVE or (self.state == STOPPED and self.charge_stopped)


@dataclass(slots=True)
class Event:
    """One row of the ledger's billing history: the line's terms from `effective` on, as
    recorded by the apply of business date `recorded` (recording number `stamp`)."""

    line: str
    stamp: int
    recorded: date
    since: date
    effective: date
    kind: str  # activation, change, suspend, resume, scheduled, or why it ended
    terms: Terms
    dated: str = ""  # the dated items the documents had (to spot new backdated ones)


Timeline = list[tuple[date, Terms]]


def fold(events: Iterable[Event]) -> dict[str, Timeline]:
    """Every line's timeline: recordings applied in stamp order, each replacing the timeline
    from its `since` on."""
    ordered = sorted(events, key=attrgetter("line", "stamp", "effective"))
    out: dict[str, Timeline] = {}
    for line, group in groupby(ordered, key=attrgetter("line")):
        items = list(group)
        if items[0].stamp == items[-1].stamp:  # one recording: the common case
            out[line] = [(e.effective, e.terms) for e in items]
            continue
        timeline: Timeline = []
        stamp = None
        for event in items:
            if event.stamp != stamp:
                stamp = event.stamp
                timeline = [bp for bp in timeline if bp[0] < event.since]
            timeline.append((event.effective, event.terms))
        out[line] = timeline
    return out


def state_on(timeline: Timeline, day: date) -> Terms | None:
    found = None
    for start, terms in timeline:
        if start > day:
            break
        found = terms
    return found


def event_row(e: Event) -> tuple[object, ...]:
    """The ledger's row for an event (money as text)."""
    t = e.terms
    return (
        e.line,
        e.stamp,
        e.effective.isoformat(),
        e.recorded.isoformat(),
        e.since.isoformat(),
        e.kind,
        t.occupier,
        t.site,
        t.contract,
        t.definition,
        t.quantity,
        str(t.price),
        t.included,
        str(t.discount),
        t.period,
        t.state,
        t.reason,
        int(t.charge_stopped),
        e.dated,
    )


@lru_cache(maxsize=8192)
def _day(text: str) -> date:
    return date.fromisoformat(text)


@lru_cache(maxsize=8192)
def _money(text: str) -> Decimal:
    return Decimal(text)  # immutable: lines with the same price share one


def event_of(row: Sequence[Any]) -> Event:
    """An event from its ledger row. A history has few distinct dates and prices and tens of
    thousands of rows: each text is parsed once."""
    (
        line,
        stamp,
        effective,
        recorded,
        since,
        kind,
        occupier,
        site,
        contract,
        definition,
        quantity,
        price,
        included,
        discount,
        period,
        state,
        reason,
        charge_stopped,
        dated,
    ) = row
    terms = Terms(
        occupier,
        site,
        contract,
        definition,
        int(quantity),
        _money(price),
        int(included),
        _money(discount),
        period,
        state,
        reason,
        bool(charge_stopped),
    )
    return Event(
        line,
        int(stamp),
        _day(recorded),
        _day(since),
        _day(effective),
        kind,
        terms,
        dated,
    )
