"""Issue 19 on the SQLite ledger: charges from the billing history `apply` records (the same
cases run on PostgreSQL in tests/labs/ledger/test_postgres_billing.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import billing_cases as cases
from tests.billing_cases import Desk

CASES: list[Callable[[Desk], None]] = [
    cases.decommission_mid_month_stops_billing_and_drops_scheduled_change,
    cases.removal_mid_month_is_prorated,
    cases.price_edit_after_close_leaves_the_closed_month,
    cases.correction_after_close_is_an_adjustment,
    cases.s8_retired_line_stops_when_the_upgrade_is_active,
    cases.failed_push_is_charged_from_provisioning,
    cases.threshold_counts_split_lines_together,
    cases.end_date_stops_billing_and_provisioning,
    cases.discount_applies_between_its_dates,
    cases.quarterly_is_invoiced_in_advance_and_prorated_on_change,
    cases.history_shows_a_decommissioned_occupier,
    cases.csv_export_has_one_row_per_line_and_range_plus_totals,
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_s3_charges_from_the_billing_history(case: Callable[[Desk], None], tmp_path: Path) -> None:
    case(Desk(tmp_path, str(tmp_path / "state.db")))


@pytest.mark.parametrize("charged", [False, True])
def test_s3_stopped_billing_follows_the_catalogue(charged: bool, tmp_path: Path) -> None:
    desk = Desk(tmp_path, str(tmp_path / "state.db"), stopped_charged=charged)
    cases.stopped_is_not_charged_unless_the_catalogue_says(desk, charged)


def test_s3_a_ledger_from_before_the_billing_history_migrates(tmp_path: Path) -> None:
    path = tmp_path / "state.db"

    def drop() -> None:
        with sqlite3.connect(path) as conn:
            conn.execute("DROP TABLE billing_event")
            conn.execute("DROP TABLE billing_close")
            conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")

    cases.old_ledger_migrates(Desk(tmp_path, str(path)), drop)


def test_s3_report_charges_reads_the_ledger_alone(tmp_path: Path) -> None:
    """`report charges` (10,000 occupiers in under 2 s, bench/charges.py) imports neither the
    models, the YAML loader nor the planner: it reads the billing history and nothing else."""
    from tests.test_cli_lazy import loads, modules_after

    desk = Desk(tmp_path, str(tmp_path / "state.db"))
    desk.line("office-1")
    desk.apply("2026-10-01")
    assert desk.amounts("2026-11")["office-1"] == [("2026-11-01", "2026-11-30", "300.00", "charge")]
    modules = modules_after("report", "charges", "--month", "2026-11", "--state", desk.ledger)
    assert "reconciler.billing.charges" in modules and "reconciler.ledger.sql" in modules
    for package in ("reconciler.model", "pydantic", "yaml", "reconciler.load", "reconciler.plan",
                    "reconciler.app", "reconciler.billing.recording"):  # fmt: skip
        assert not loads(modules, package), package
