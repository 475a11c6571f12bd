"""One throwaway PostgreSQL server for the ledger labs, a fresh database per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.labs.conftest import missing
from tests.support import postgres


@pytest.fixture(scope="package")
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
