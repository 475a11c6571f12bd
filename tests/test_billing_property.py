"""Issue 19's property: for random sequences of edits and applies on a real ledger, every
charged row is what the documents said on each of its days (an oracle built from the edits,
not from the ledger), each occupier's total is the sum of its rows, and a closed month's
export never changes, byte for byte."""

from __future__ import annotations

import calendar
import json
import tempfile
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.billing_cases import Desk

RRP = {"office": Decimal("300.00"), "wifi-user": Decimal("3.00")}
INCLUDED = {"office": 0, "wifi-user": 2}
LINES = {"line-a": "office", "line-b": "wifi-user", "line-c": "wifi-user"}
START = date(2026, 10, 25)
PRICES = ["7.00", "250.50"]

edit = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(sorted(LINES))),
    st.tuples(st.just("remove"), st.sampled_from(sorted(LINES))),
    st.tuples(st.just("quantity"), st.sampled_from(sorted(LINES)), st.integers(1, 4)),
    st.tuples(st.just("price"), st.sampled_from(sorted(LINES)), st.sampled_from(PRICES)),
    st.tuples(st.just("stop"), st.booleans()),
)
step = st.tuples(st.integers(1, 12), st.lists(edit, max_size=3))


def _state(desk: Desk) -> dict[str, Any]:
    return json.loads(json.dumps({"services": desk.services, "occupier": desk.occupier}))


def _daily(state: dict[str, Any], day: date) -> dict[str, Decimal]:
    """The oracle: what each line costs on one day, from the documents then."""
    out: dict[str, Decimal] = {}
    if state["occupier"].get("status") == "Stopped":
        return out
    days = Decimal(calendar.monthrange(day.year, day.month)[1])
    left = dict(INCLUDED)
    for name, spec in sorted(state["services"].items()):
        kind = spec["definition"]
        quantity = spec.get("quantity", 1)
        included = min(left[kind], quantity)
        left[kind] -= included
        price = Decimal(spec.get("price", RRP[kind]))
        out[name] = price * (quantity - included) / days
    return out


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(step, min_size=1, max_size=5))
@example([(8, [("stop", True)]), (1, [("stop", False)])])  # first recorded while Stopped
def test_s3_charges_agree_with_the_documents_day_by_day(steps: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        desk = Desk(Path(folder), str(Path(folder) / "state.db"))
        desk.line("line-a")
        applied: list[tuple[date, dict[str, Any]]] = []
        day = START
        closed = None
        for gap, edits in steps:
            for e in edits:
                _edit(desk, e)
            desk.apply(day.isoformat())
            applied.append((day, _state(desk)))
            if closed is None and day >= date(2026, 12, 1):
                assert desk.close("2026-11", day.isoformat())[0] == 0
                closed = desk.report("2026-11", "csv")
            day += timedelta(days=gap)
        for month, first in (("2026-11", date(2026, 11, 1)), ("2026-12", date(2026, 12, 1))):
            _check_month(desk, month, first, applied)
        if closed is not None:
            assert desk.report("2026-11", "csv") == closed


def _edit(desk: Desk, e: tuple[Any, ...]) -> None:
    if e[0] == "add" and e[1] not in desk.services:
        desk.line(e[1], LINES[e[1]])
    elif e[0] == "remove":
        desk.services.pop(e[1], None)
    elif e[0] in ("quantity", "price") and e[1] in desk.services:
        desk.services[e[1]][e[0]] = e[2]
    elif e[0] == "stop":
        desk.occupier.pop("status", None)
        if e[1]:
            desk.occupier["status"] = "Stopped"


def _check_month(desk: Desk, month: str, first: date, applied: list[Any]) -> None:
    rows = desk.rows(month)
    days = calendar.monthrange(first.year, first.month)[1]
    expected: dict[str, Decimal] = {}
    for n in range(days):
        day = first + timedelta(days=n)
        then = [state for when, state in applied if when <= day]
        for line, amount in (_daily(then[-1], day) if then else {}).items():
            expected[line] = expected.get(line, Decimal(0)) + amount
    charged: dict[str, Decimal] = {}
    ranges: dict[str, int] = {}
    for r in rows:
        if r["kind"] == "charge":
            charged[r["service"]] = charged.get(r["service"], Decimal(0)) + Decimal(r["amount"])
            ranges[r["service"]] = ranges.get(r["service"], 0) + 1
    for line in set(expected) | set(charged):
        # rounded once per row: at most half a cent per row away from the exact sum
        exact = expected.get(line, Decimal(0))
        assert abs(charged.get(line, Decimal(0)) - exact) <= Decimal("0.005") * ranges.get(line, 1)
        assert charged.get(line, Decimal(0)) == exact.quantize(Decimal("0.01"), ROUND_HALF_UP) or (
            ranges.get(line, 0) > 1
        )
    totals = [Decimal(r["amount"]) for r in rows if r["kind"] == "total"]
    assert sum(totals, Decimal(0)) == sum(
        (Decimal(r["amount"]) for r in rows if r["kind"] != "total"), Decimal(0)
    )
