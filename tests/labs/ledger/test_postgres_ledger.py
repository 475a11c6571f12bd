"""The PostgreSQL ledger (several reconcilers sharing one), on a real PostgreSQL 15 started by
the test in a temporary directory."""

from __future__ import annotations

from pathlib import Path

from tests import ledger_checks

ROOT = Path(__file__).resolve().parents[3]


def test_p1_postgres_records_the_applied_desired_state(database: str) -> None:
    ledger_checks.desired_state(database)


def test_n4_postgres_refuses_a_second_holder(database: str) -> None:
    ledger_checks.uniqueness(database)


def test_n4_two_postgres_writers_never_double_allocate(database: str) -> None:
    ledger_checks.two_writers(database)


def test_n4_two_applies_at_once_on_postgres(database: str, tmp_path: Path) -> None:
    ledger_checks.two_applies(database, ROOT / "desired-state", tmp_path)


def test_a_plan_made_ahead_is_used_only_on_the_ledger_it_was_made_from_postgres(
    database: str, tmp_path: Path
) -> None:
    ledger_checks.plan_made_ahead(database, ROOT / "desired-state", tmp_path)
