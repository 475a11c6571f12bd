"""The SQLite ledger: uniqueness by the database, concurrent writers, concurrent applies."""

from __future__ import annotations

from pathlib import Path

from tests import ledger_checks

ROOT = Path(__file__).resolve().parent.parent


def test_p1_sqlite_records_the_applied_desired_state(tmp_path: Path) -> None:
    ledger_checks.desired_state(str(tmp_path / "state.db"))


def test_n4_sqlite_refuses_a_second_holder(tmp_path: Path) -> None:
    ledger_checks.uniqueness(str(tmp_path / "state.db"))


def test_n4_two_sqlite_writers_never_double_allocate(tmp_path: Path) -> None:
    ledger_checks.two_writers(str(tmp_path / "state.db"))


def test_n4_two_applies_at_once_on_sqlite(tmp_path: Path) -> None:
    ledger_checks.two_applies(str(tmp_path / "state.db"), ROOT / "desired-state", tmp_path)


def test_a_plan_made_ahead_is_used_only_on_the_ledger_it_was_made_from(tmp_path: Path) -> None:
    ledger_checks.plan_made_ahead(str(tmp_path / "state.db"), ROOT / "desired-state", tmp_path)
