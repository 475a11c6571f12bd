"""G2 on PostgreSQL: eight applies of different desired states at once, ten rounds; every end
state equals the sequential order the apply log recorded (tests/g2_checks.py)."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg

from reconciler.load import load
from tests import g2_checks

ROUNDS = 10


def test_g2_concurrent_applies_end_in_a_sequential_order_on_postgres(
    server: str, tmp_path: Path
) -> None:
    paths = g2_checks.write_variants(tmp_path / "variants")
    repos = {p: load(p).repo for p in paths}

    def fresh_ledger() -> str:
        """A schema per ledger (CREATE DATABASE costs seconds; a schema, milliseconds)."""
        name = f"g{uuid.uuid4().hex[:12]}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        return f"{server}?options=-csearch_path%3D{name}"

    orders = set()
    for round_ in range(ROUNDS):
        folder = tmp_path / f"round-{round_}"
        folder.mkdir()
        orders.add(tuple(g2_checks.round_of_applies(paths, repos, fresh_ledger, folder)))
    assert len(orders) > 1, "the applies always ran in one order: they did not race"
