"""G2 on SQLite: eight applies of different desired states at once, ten rounds; every end
state equals the sequential order the apply log recorded (tests/g2_checks.py). The same on
PostgreSQL is in tests/labs/ledger/test_g2_concurrent_applies_postgres.py."""

from __future__ import annotations

import itertools
from pathlib import Path

from reconciler.load import load
from tests import g2_checks

ROUNDS = 10


def test_g2_concurrent_applies_end_in_a_sequential_order_on_sqlite(tmp_path: Path) -> None:
    paths = g2_checks.write_variants(tmp_path / "variants")
    repos = {p: load(p).repo for p in paths}
    counter = itertools.count()
    orders = set()
    for round_ in range(ROUNDS):
        folder = tmp_path / f"round-{round_}"
        folder.mkdir()
        order = g2_checks.round_of_applies(
            paths, repos, lambda at=folder: str(at / f"ledger-{next(counter)}.db"), folder
        )
        orders.add(tuple(order))
    assert len(orders) > 1, "the applies always ran in one order: they did not race"
