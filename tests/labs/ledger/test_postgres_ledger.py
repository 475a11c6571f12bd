"""The PostgreSQL ledger (several reconcilers sharing one), on a real PostgreSQL 15 started by
the test in a temporary directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import ledger_checks
from tests.labs.conftest import missing
from tests.support import postgres

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    if not postgres.available():
        missing("PostgreSQL not installed")
    with postgres.throwaway_postgres() as url:
        yield url


@pytest.fixture
def database(server: str) -> str:
    """A fresh database per test on the shared server."""
    import uuid

    import psycopg

    name = f"t{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.rsplit("/", 1)[0] + f"/{name}"


def test_p1_postgres_records_the_applied_desired_state(database: str) -> None:
    ledger_checks.desired_state(database)


def test_n4_postgres_refuses_a_second_holder(database: str) -> None:
    ledger_checks.uniqueness(database)


def test_n4_two_postgres_writers_never_double_allocate(database: str) -> None:
    rate = ledger_checks.two_writers(database)
    assert rate > 50


def test_n4_two_applies_at_once_on_postgres(database: str, tmp_path: Path) -> None:
    ledger_checks.two_applies(database, ROOT / "desired-state", tmp_path)
