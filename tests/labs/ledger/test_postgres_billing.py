"""Issue 19 on PostgreSQL: the same billing cases as tests/test_billing.py, each on a fresh
database of a real PostgreSQL 15 started by the test."""

from __future__ import annotations

import time
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


def _row(line: str, site: str, stamp: int) -> tuple[object, ...]:
    return (line, stamp, "2026-11-01", "2026-11-01", "2026-11-01", "activation", "acme", site,
            "acme-2026", "office", 1, "300.00", 0, "0", "monthly", "active", "", 0, "")  # fmt: skip


def test_s3_billing_stamps_are_unique_across_sites_on_postgres(database: str) -> None:
    """Two applies at different sites hold different site locks and run side by side on
    PostgreSQL. Their recordings still get different stamps, in commit order: the second
    waits for the first to commit before it numbers its own (a close tells what came after
    it by these numbers; two recordings under one number would be one recording to it)."""
    import threading

    from reconciler.ledger import open_ledger

    ledger = open_ledger(database)
    assert ledger is not None
    numbered, waiting = threading.Event(), threading.Event()
    stamps: dict[str, int] = {}

    def first() -> None:
        with ledger.transaction(["site-a"]) as tx:
            stamps["a"] = tx.next_billing_stamp()
            numbered.set()
            assert waiting.wait(10)
            time.sleep(0.5)  # the second is asking for its stamp meanwhile
            tx.add_billing_rows([_row("a-office", "site-a", stamps["a"])])

    def second() -> None:
        assert numbered.wait(10)
        waiting.set()
        with ledger.transaction(["site-b"]) as tx:
            stamps["b"] = tx.next_billing_stamp()
            tx.add_billing_rows([_row("b-office", "site-b", stamps["b"])])

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert stamps == {"a": 1, "b": 2}
    recorded = sorted((row[1], row[0]) for row in ledger.billing_rows())
    assert recorded == [(1, "a-office"), (2, "b-office")]
