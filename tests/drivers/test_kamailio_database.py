"""The Kamailio driver on a real SQLite number database as deployments created it before the
`assignee` column (and before `suspended`): drift reads it without writing, apply widens it in
place in the push's transaction, rows kept. Kamailio's JSON-RPC is faked at the driver's
transport seam; the real server's view of it is the voice lab's."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from drivers.base import Endpoint, NumberIntent, TelephonyIntent
from drivers.kamailio import KamailioDriver, create_schema

N1, N2 = "+442079460001", "+442079460002"

# The number table as deployments created it before numbers carried their assignee.
BEFORE_ASSIGNEE = """
CREATE TABLE numbers (
    number     TEXT PRIMARY KEY NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('active', 'cooling-off')),
    occupier   TEXT NOT NULL DEFAULT '',
    until      TEXT,
    updated_at TEXT NOT NULL DEFAULT (datetime('now'))
)
"""


class LiveTable:
    """Kamailio's htable as its JSON-RPC answers it: dump, sets, delete; no handset registered."""

    def __init__(self, entries: Mapping[str, str]) -> None:
        self.entries = dict(entries)

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> bytes:
        request = json.loads(body)
        method, params = request["method"], request["params"]
        answer: dict[str, Any] = {"jsonrpc": "2.0", "id": request["id"]}
        if method == "htable.dump":
            slots = [{"name": n, "value": v} for n, v in sorted(self.entries.items())]
            answer["result"] = [{"entry": 0, "slot": slots}]
        elif method == "htable.sets":
            self.entries[params[1]] = params[2]
            answer["result"] = {}
        elif method == "htable.delete":
            self.entries.pop(params[1], None)
            answer["result"] = {}
        else:
            answer["error"] = {"code": 404, "message": "Not Found"}
        return json.dumps(answer).encode()


def old_database(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute(BEFORE_ASSIGNEE)
        db.execute(
            "INSERT INTO numbers (number, state, occupier) VALUES (?, 'active', 'acme')", (N1,)
        )
        db.execute(
            "INSERT INTO numbers (number, state, occupier, until) VALUES (?, 'cooling-off', '', "
            "'2027-02-21')",
            (N2,),
        )


def schema(path: Path) -> tuple[list[str], list[tuple[Any, ...]]]:
    with sqlite3.connect(path) as db:
        cols = [row[1] for row in db.execute("PRAGMA table_info(numbers)")]
        rows = db.execute("SELECT * FROM numbers ORDER BY number").fetchall()
    return cols, rows


def intent(*numbers: NumberIntent) -> TelephonyIntent:
    return TelephonyIntent(Endpoint("lb-sip1", "kamailio", "127.0.0.1"), numbers)


WANTED = intent(
    NumberIntent(N1, "active", "acme", assignee="main"),
    NumberIntent(N2, "cooling-off", "", "2027-02-21"),
)


def test_drift_reads_a_database_from_before_assignee_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "numbers.db"
    old_database(path)
    before = schema(path)
    live = LiveTable({N1: "active,acme,main", N2: "cooling-off,,"})
    driver = KamailioDriver(path, rpc_url="http://127.0.0.1:9/RPC", transport=live)
    drift = driver.drift(WANTED)
    assert [(c.resource, c.running, c.intended) for c in drift.changes] == [
        (
            f"number {N1}",
            "active, occupier acme (live table: active, occupier acme, assignee main)",
            "active, occupier acme, assignee main",
        )
    ]
    assert schema(path) == before, "drift only reads"


def test_apply_widens_a_database_from_before_assignee_in_place(tmp_path: Path) -> None:
    path = tmp_path / "numbers.db"
    old_database(path)
    live = LiveTable({N1: "active,acme,", N2: "cooling-off,,"})
    driver = KamailioDriver(path, rpc_url="http://127.0.0.1:9/RPC", transport=live)
    t = driver.apply(WANTED)
    assert t.commands[0] == "db: widen numbers (state may be 'suspended', adds assignee)"
    cols, rows = schema(path)
    assert cols == ["number", "state", "occupier", "assignee", "until", "updated_at"]
    assert [r[:5] for r in rows] == [
        (N1, "active", "acme", "main", None),
        (N2, "cooling-off", "", "", "2027-02-21"),  # kept as it was
    ]
    assert live.entries[N1] == "active,acme,main"
    suspended = intent(NumberIntent(N1, "suspended", "acme", assignee="main"), WANTED.numbers[1])
    assert driver.apply(suspended).commands[0].startswith("db: suspend")  # the CHECK took it
    assert driver.apply(suspended).commands == [], "converged: nothing widened again"


def test_create_schema_adds_the_assignee_column_rows_kept(tmp_path: Path) -> None:
    path = tmp_path / "numbers.db"
    old_database(path)
    create_schema(path)
    cols, rows = schema(path)
    assert "assignee" in cols
    assert [(r[0], r[1], r[2]) for r in rows] == [(N1, "active", "acme"), (N2, "cooling-off", "")]
