"""A month's charges from the billing history (pure): events + month → rows.

Each row is one line over one day-range of one calendar month in one set of terms:
price × chargeable units × (100 − discount) % × days / days in that month, rounded once per
row, ROUND_HALF_UP to the cent. Chargeable units are those beyond the definition's included
threshold, counted over all of an occupier's lines of that definition at the site on each day
(EngageIP "threshold"; the included units go to the lines in name order).

Pay periods (Splynx): a quarterly or yearly line is invoiced in advance — the days of a
calendar quarter or year appear in the month it starts, or the month the line's terms last
changed when that is later. A closed month is frozen (its rows as they were at `billing
close`); whatever the history now says differently about it shows up in the first open month
after it as `reversal` rows (what was invoiced, negated) and `correction` rows (what it should
have been): that is also how a change within a period already invoiced is prorated.
"""

from __future__ import annotations

import calendar
import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from operator import attrgetter
from typing import Any, Protocol

from reconciler.billing.history import HUNDRED, Event, Terms, Timeline, event_of, fold

CENT = Decimal("0.01")
FAR = date(9999, 12, 31)
CHARGE, CORRECTION, REVERSAL, TOTAL = "charge", "correction", "reversal", "total"


@dataclass(slots=True)  # not frozen: a frozen __init__ costs a setattr call per field
class ChargeRow:
    """One line of a month's charges: a service's share of the month, prorated by day."""

    occupier: str
    site: str
    contract: str
    service: str
    definition: str
    start: date | None
    end: date | None
    days: int
    days_in_month: int
    quantity: int
    included: int
    chargeable: int
    price: Decimal
    discount: Decimal
    period: str
    amount: Decimal
    kind: str = CHARGE
    adjusts: str = ""  # the closed month a correction or reversal is about

    def record(self) -> dict[str, object]:
        """The exported shape: `from`/`to` as an accounting import names them."""
        return {key: getattr(self, name) for key, name in _EXPORTED}

    @classmethod
    def of_record(cls, record: Mapping[str, Any]) -> ChargeRow:
        values = dict(record)
        values["start"] = _day(values.pop("from"))
        values["end"] = _day(values.pop("to"))
        for name in ("price", "discount", "amount"):
            values[name] = Decimal(values[name])
        return cls(**values)

    def key(self) -> tuple[object, ...]:
        return (
            self.occupier,
            self.site,
            self.service,
            self.start,
            self.end,
            self.chargeable,
            self.quantity,
            self.price,
            self.discount,
            self.amount,
            self.definition,
            self.contract,
            self.included,
            self.period,
        )


_EXPORTED = [
    ({"start": "from", "end": "to"}.get(f.name, f.name), f.name) for f in fields(ChargeRow)
]


def _day(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


class Closed:
    """A month closed by `tenantry billing close`: its rows then (as kept in the ledger, read
    only when needed), and the history's last recording stamp then."""

    def __init__(self, month: str, stamp: int, text: str) -> None:
        self.month = month
        self.stamp = stamp
        self.text = text
        self._rows: tuple[ChargeRow, ...] | None = None

    @property
    def rows(self) -> tuple[ChargeRow, ...]:
        if self._rows is None:
            self._rows = tuple(ChargeRow.of_record(r) for r in json.loads(self.text))
        return self._rows


@dataclass(slots=True)
class _Piece:
    """A stretch of days a charge line ran on the same terms."""

    line: str
    start: date
    end: date
    terms: Terms


def month_key(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def _shift(key: str, months: int) -> str:
    year, month = int(key[:4]), int(key[5:])
    index = year * 12 + month - 1 + months
    return month_key(index // 12, index % 12 + 1)


def _block_start(day: date, period: str) -> date:
    if period == "yearly":
        return date(day.year, 1, 1)
    if period == "quarterly":
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return date(day.year, day.month, 1)


@cache
def _days_in(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _month_end(day: date) -> date:
    return date(day.year, day.month, _days_in(day.year, day.month))


def _pieces(timelines: Mapping[str, Timeline], first: date) -> list[_Piece]:
    """The billable days invoiced in the month starting `first`, cut at month ends."""
    horizon = date(first.year, 12, 31)  # in advance: at most the rest of the year
    month_last = _month_end(first)
    day_one = timedelta(days=1)
    out: list[_Piece] = []
    append = out.append
    for line, timeline in timelines.items():
        count = len(timeline)
        for index, (start, terms) in enumerate(timeline):
            if start > horizon or not terms.billable:
                continue
            end = timeline[index + 1][0] - day_one if index + 1 < count else FAR
            if end < first:
                continue
            if terms.period == "monthly":  # the common case: only this month's days
                if start <= month_last:
                    append(
                        _Piece(line, first if start < first else start, min(end, month_last), terms)
                    )
                continue
            changed = _block_start(start, "monthly")  # terms last changed in this month
            day = max(start, first)
            while day <= min(end, horizon):
                last = min(end, _month_end(day))
                if max(_block_start(day, terms.period), changed) == first:
                    append(_Piece(line, day, last, terms))
                day = last + day_one
    return out


def _row(piece: _Piece, start: date, end: date, included: int) -> ChargeRow:
    t = piece.terms
    days = (end - start).days + 1
    in_month = _days_in(start.year, start.month)
    units = t.quantity - included
    amount = t.price * units * days
    amount = (
        amount * (HUNDRED - t.discount) / (HUNDRED * in_month) if t.discount else amount / in_month
    )
    return ChargeRow(
        t.occupier,
        t.site,
        t.contract,
        piece.line,
        t.definition,
        start,
        end,
        days,
        in_month,
        t.quantity,
        included,
        units,
        t.price,
        t.discount,
        t.period,
        amount.quantize(CENT, ROUND_HALF_UP),
    )


def _threshold(group: list[_Piece]) -> list[ChargeRow]:
    """S3 over all of an occupier's lines of a definition at a site, day-range by day-range."""
    line = group[0].line
    if all(p.line == line for p in group):
        return [_row(p, p.start, p.end, min(p.terms.included, p.terms.quantity)) for p in group]
    cuts = sorted({p.start for p in group} | {p.end + timedelta(days=1) for p in group})
    shares: dict[tuple[int, date], int] = {}
    ordered = sorted(range(len(group)), key=lambda i: (group[i].line, group[i].start))
    for cut in cuts:
        covering = [i for i in ordered if group[i].start <= cut <= group[i].end]
        left = max((group[i].terms.included for i in covering), default=0)
        for i in covering:
            share = min(left, group[i].terms.quantity)
            shares[i, cut] = share
            left -= share
    rows = []
    for i, piece in enumerate(group):
        inside = [c for c in cuts if piece.start <= c <= piece.end]
        run_start = inside[0]
        for position, cut in enumerate(inside):
            following = inside[position + 1] if position + 1 < len(inside) else None
            if following is None or shares[i, following] != shares[i, cut]:
                end = following - timedelta(days=1) if following else piece.end
                rows.append(_row(piece, run_start, end, shares[i, run_start]))
                run_start = following if following else run_start
    return rows


def invoiced(timelines: Mapping[str, Timeline], year: int, month: int) -> list[ChargeRow]:
    """The rows a month invoices by itself, before any correction of a closed month."""
    groups: dict[tuple[str, str, str], list[_Piece]] = defaultdict(list)
    for piece in _pieces(timelines, date(year, month, 1)):
        groups[piece.terms.occupier, piece.terms.site, piece.terms.definition].append(piece)
    rows = [row for group in groups.values() for row in _threshold(group)]
    return sorted(rows, key=lambda r: (r.occupier, r.site, r.service, r.start or FAR))


def _outstanding(
    now: list[ChargeRow], closed: Closed, later: Iterable[Closed], month: str
) -> list[ChargeRow]:
    """What the history now says differently about a closed month, net of the corrections
    later closed months already carried."""
    count: dict[tuple[object, ...], int] = defaultdict(int)
    sample: dict[tuple[object, ...], ChargeRow] = {}
    for row in now:
        count[row.key()] += 1
        sample[row.key()] = row
    for row in closed.rows:
        if row.kind == CHARGE:
            count[row.key()] -= 1
    for other in later:
        for row in other.rows:
            if row.adjusts == closed.month and row.kind in (CORRECTION, REVERSAL):
                original = row if row.kind == CORRECTION else replace(row, amount=-row.amount)
                key = replace(original, kind=CHARGE, adjusts="").key()
                count[key] -= 1 if row.kind == CORRECTION else -1
                sample.setdefault(key, replace(original, kind=CHARGE, adjusts=""))
    for row in closed.rows:
        if row.kind == CHARGE:
            sample.setdefault(row.key(), row)
    out = []
    for key, n in count.items():
        row = sample[key]
        if n > 0:
            out += [replace(row, kind=CORRECTION, adjusts=closed.month)] * n
        elif n < 0:
            out += [replace(row, kind=REVERSAL, adjusts=closed.month, amount=-row.amount)] * -n
    return sorted(out, key=lambda r: (r.occupier, r.site, r.service, r.start or FAR, r.kind))


def totals(rows: list[ChargeRow]) -> list[ChargeRow]:
    """The rows, each occupier's followed by its total."""
    out: list[ChargeRow] = []
    by_occupier: dict[str, list[ChargeRow]] = defaultdict(list)
    for row in rows:
        by_occupier[row.occupier].append(row)
    for occupier in sorted(by_occupier):
        mine = by_occupier[occupier]
        out += mine
        total = sum((r.amount for r in mine), Decimal(0))
        out.append(
            ChargeRow(
                occupier,
                "",
                "",
                "",
                "",
                None,
                None,
                0,
                0,
                0,
                0,
                0,
                Decimal(0),
                Decimal(0),
                "",
                total,
                TOTAL,
            )
        )
    return out


def charges(
    events: Iterable[Event], year: int, month: int, closes: Mapping[str, Closed]
) -> list[ChargeRow]:
    """The month's export: a closed month exactly as closed; an open one, its own rows plus
    the corrections of the closed months just before it; each occupier's total after its
    rows."""
    if month_key(year, month) in closes:
        return list(closes[month_key(year, month)].rows)
    events = list(events)
    return _open_month(events, fold(events), year, month, closes)


def monthly_totals(
    events: Iterable[Event], months: Iterable[tuple[int, int]], closes: Mapping[str, Closed]
) -> dict[str, dict[str, tuple[Decimal, bool]]]:
    """occupier → month → (its total as `charges` gives it, closed?) over several months,
    folding the history once (the dashboard's charges per month)."""
    events = list(events)
    timelines: dict[str, Timeline] | None = None
    out: dict[str, dict[str, tuple[Decimal, bool]]] = defaultdict(dict)
    for year, month in months:
        key = month_key(year, month)
        if key in closes:
            rows = list(closes[key].rows)
        else:
            timelines = fold(events) if timelines is None else timelines
            rows = _open_month(events, timelines, year, month, closes)
        for row in rows:
            if row.kind == TOTAL:
                out[row.occupier][key] = (row.amount, key in closes)
    return dict(out)


def _open_month(
    events: list[Event],
    timelines: Mapping[str, Timeline],
    year: int,
    month: int,
    closes: Mapping[str, Closed],
) -> list[ChargeRow]:
    key = month_key(year, month)
    rows = invoiced(timelines, year, month)
    previous = _shift(key, -1)
    while previous in closes:
        closed = closes[previous]
        horizon = date(int(previous[:4]), 12, 31)
        if any(e.stamp > closed.stamp and e.since <= horizon for e in events):
            pyear, pmonth = int(previous[:4]), int(previous[5:])
            later = [c for m, c in closes.items() if m > previous]
            rows += _outstanding(invoiced(timelines, pyear, pmonth), closed, later, previous)
        previous = _shift(previous, -1)
    return totals(rows)


def frozen(rows: Iterable[ChargeRow]) -> str:
    """A closed month's rows as the ledger keeps them (JSON; money and dates as text)."""
    plain = [
        {
            k: (v.isoformat() if isinstance(v, date) else str(v) if isinstance(v, Decimal) else v)
            for k, v in row.record().items()
        }
        for row in rows
    ]
    return json.dumps(plain, separators=(",", ":"))


def thawed(month: str, stamp: int, text: str) -> Closed:
    return Closed(month, stamp, text)


class BillingRecords(Protocol):
    """What a ledger keeps of billing: the history's rows and the closed months."""

    def billing_rows(self) -> list[tuple[Any, ...]]: ...

    def billing_closes(self) -> list[tuple[str, str, int, str]]: ...


def recorded(ledger: BillingRecords) -> tuple[list[Event], dict[str, Closed]]:
    """The billing history and the closed months as the ledger keeps them: what `report
    charges`, `billing close` and the dashboard all compute from."""
    events = [event_of(row) for row in ledger.billing_rows()]
    closes = {m: thawed(m, stamp, rows) for m, _, stamp, rows in ledger.billing_closes()}
    return events, closes


def lifetime(
    timelines: Mapping[str, Timeline], today: date
) -> dict[str, tuple[date | None, date | None, Decimal]]:
    """D4 for `report --history`: each line's first and last charged day and what it was
    charged in all, month by month up to its end (or today's month)."""
    spans: dict[str, tuple[date, date | None]] = {}
    for line, timeline in timelines.items():
        billable = [
            (start, timeline[i + 1][0] - timedelta(days=1) if i + 1 < len(timeline) else None)
            for i, (start, terms) in enumerate(timeline)
            if terms.billable
        ]
        if billable:
            spans[line] = (billable[0][0], billable[-1][1])
    total: dict[str, Decimal] = defaultdict(Decimal)
    if spans:
        day = min(first for first, _ in spans.values()).replace(day=1)
        stop = max(last or today for _, last in spans.values())
        while day <= stop:
            for row in invoiced(timelines, day.year, day.month):
                total[row.service] += row.amount
            day = _month_end(day) + timedelta(days=1)
    return {
        line: (*spans.get(line, (None, None)), total.get(line, Decimal(0))) for line in timelines
    }


def csv_text(rows: Iterable[ChargeRow]) -> str:
    """The CSV export (the same text `report --format csv` writes for any table, faster)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([key for key, _ in _EXPORTED])
    # str() of a date is its ISO form and of a Decimal its digits, None is an empty field:
    # the csv module formats each value itself, in C
    writer.writerows(map(attrgetter(*(name for _, name in _EXPORTED)), rows))
    return buffer.getvalue().rstrip("\n")
