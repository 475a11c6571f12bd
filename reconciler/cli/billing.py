"""`tenantry billing close`, and the charges `tenantry report charges` (and --history) read:
all from the billing history in the ledger, never from today's documents."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import click

from reconciler import output
from reconciler.cli.common import EXIT_FAILED, EXIT_OK, day_of
from reconciler.cli.options import ledger_option, today_option

if TYPE_CHECKING:
    from reconciler.billing.charges import Closed
    from reconciler.billing.history import Event
    from reconciler.ledger.protocol import Ledger


def charges_report(month: str, fmt: str, state: str) -> int:
    """`report charges`: one row per occupier, line and day-range, then each occupier's
    total (Decimal; rounded once per row, ROUND_HALF_UP to the cent)."""
    from reconciler.billing import charges
    from reconciler.ledger import LedgerError, open_ledger
    from reconciler.memory import gc_paused

    year, mon = _month(month)
    with gc_paused():  # tens of thousands of small acyclic records: nothing to collect
        try:
            events, closes = _billing_state(open_ledger(state, create=False))
        except LedgerError as exc:
            click.echo(f"error: {exc}", err=True)
            return EXIT_FAILED
        rows = charges.charges(events, year, mon, closes)
        if fmt == "csv" and rows:
            click.echo(charges.csv_text(rows))
        else:
            click.echo(output.table([r.record() for r in rows], fmt))
    return EXIT_OK


def _billing_state(ledger: Ledger | None) -> tuple[list[Event], dict[str, Closed]]:
    """The billing history and the closed months, read from the ledger."""
    from reconciler.billing import charges

    return charges.recorded(ledger) if ledger is not None else ([], {})


def add_lifetime(rows: list[dict[str, object]], ledger: Ledger | None, today: date) -> None:
    """D4: with --history each line shows its charged days and what it was charged in all."""
    from reconciler.billing import charges, history

    events, _ = _billing_state(ledger)
    spans = charges.lifetime(history.fold(events), today)
    for row in rows:
        first, last, total = spans.get(str(row["service"]), (None, None, None))
        row["billed_from"], row["billed_to"], row["charged"] = first or "", last or "", total or ""


@click.group("billing")
def billing_group() -> None:
    """Billing: close a month so that its charges never change again."""


@billing_group.command("close")
@click.argument("month", metavar="YYYY-MM")
@ledger_option
@today_option
def billing_close(month: str, state: str, today: str | None) -> int:
    """Freeze MONTH's charges as `report charges` shows them now. Later corrections to it
    appear in the next open month as reversal and correction rows."""
    from reconciler.billing import charges
    from reconciler.ledger import LedgerError, open_ledger

    year, mon = _month(month)
    day = day_of(today)
    if date(year, mon, 1) > day.replace(day=1) or (year, mon) == (day.year, day.month):
        click.echo(
            f"error: {month} has not ended on {day}; close it from the 1st of the next month"
        )
        return EXIT_FAILED
    try:
        ledger = open_ledger(state)
        assert ledger is not None
        events, closes = _billing_state(ledger)
        rows = charges.charges(events, year, mon, closes)
        stamp = max((e.stamp for e in events), default=0)
        done = ledger.close_billing(month, day.isoformat(), stamp, charges.frozen(rows))
    except LedgerError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_FAILED
    if not done:
        click.echo(f"error: {month} is already closed; a closed month never changes")
        return EXIT_FAILED
    total = sum((r.amount for r in rows if r.kind == charges.TOTAL), Decimal(0))
    occupiers = sum(1 for r in rows if r.kind == charges.TOTAL)
    click.echo(f"closed {month}: {occupiers} occupiers, total {total}")
    return EXIT_OK


def _month(value: str) -> tuple[int, int]:
    try:
        year, mon = (int(x) for x in value.split("-"))
        date(year, mon, 1)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not YYYY-MM", param_hint="MONTH") from None
    return year, mon
