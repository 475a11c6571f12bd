"""Issue 19 on PostgreSQL: the same billing cases as tests/test_billing.py, each on a fresh
database of a real PostgreSQL 15 started by the test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests import billing_cases as cases
from tests.billing_cases import Desk
from tests.test_billing import CASES


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_s3_charges_from_the_billing_history_on_postgres(
    case: Callable[[Desk], None], database: str, tmp_path: Path
) -> None:
    case(Desk(tmp_path, database))


def test_s3_stopped_billing_on_postgres(database: str, tmp_path: Path) -> None:
    cases.stopped_is_not_charged_unless_the_catalogue_says(Desk(tmp_path, database), False)


def test_s3_a_ledger_from_before_the_billing_history_migrates_on_postgres(
    database: str, tmp_path: Path
) -> None:
    import psycopg

    def drop() -> None:
        with psycopg.connect(database, autocommit=True) as conn:
            conn.execute("DROP TABLE billing_event")
            conn.execute("DROP TABLE billing_close")
            conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")

    cases.old_ledger_migrates(Desk(tmp_path, database), drop)
