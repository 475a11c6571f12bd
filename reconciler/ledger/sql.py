"""The ledger on SQL: SQLite by default (a file), PostgreSQL when several reconcilers share it.

The database, not Python, makes each allocation unique: (site, kind, value) is the primary
key, and one VLAN and one prefix per occupier and site are unique indexes. Writers are
serialized per site (SQLite: BEGIN IMMEDIATE; PostgreSQL: one advisory lock per site, taken in
name order), and whatever slips through still hits the constraints and is retried.
"""

from __future__ import annotations

import sqlite3
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from reconciler.ledger.model import (
    Allocation,
    Change,
    Holdings,
    Kind,
    Release,
    State,
    StatusRecord,
)

SCHEMA_VERSION = 1

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS allocation (
        site TEXT NOT NULL,
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        holder TEXT NOT NULL,
        state TEXT NOT NULL,
        role TEXT NOT NULL DEFAULT '',
        until TEXT,
        updated TEXT NOT NULL,
        PRIMARY KEY (site, kind, value))""",
    """CREATE UNIQUE INDEX IF NOT EXISTS one_network_per_occupier
        ON allocation (site, kind, holder) WHERE kind IN ('vlan', 'prefix')""",
    "CREATE INDEX IF NOT EXISTS allocation_holder ON allocation (holder)",
    """CREATE TABLE IF NOT EXISTS status (
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        updated TEXT NOT NULL,
        PRIMARY KEY (kind, name))""",
    """CREATE TABLE IF NOT EXISTS applied (
        device TEXT NOT NULL,
        item TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (device, item))""",
    # Billing history (issue 19): each apply's recording of a line's terms from `since` on,
    # one row per breakpoint; money as text (Decimal, never float).
    """CREATE TABLE IF NOT EXISTS billing_event (
        line TEXT NOT NULL,
        stamp INTEGER NOT NULL,
        effective TEXT NOT NULL,
        recorded TEXT NOT NULL,
        since TEXT NOT NULL,
        kind TEXT NOT NULL,
        occupier TEXT NOT NULL,
        site TEXT NOT NULL,
        contract TEXT NOT NULL,
        definition TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        price TEXT NOT NULL,
        included INTEGER NOT NULL,
        discount TEXT NOT NULL,
        period TEXT NOT NULL,
        state TEXT NOT NULL,
        reason TEXT NOT NULL,
        charge_stopped INTEGER NOT NULL,
        dated TEXT NOT NULL,
        PRIMARY KEY (line, stamp, effective))""",
    """CREATE TABLE IF NOT EXISTS billing_close (
        month TEXT PRIMARY KEY,
        closed TEXT NOT NULL,
        stamp INTEGER NOT NULL,
        rows TEXT NOT NULL)""",
]

BILLING_COLUMNS = (
    "line, stamp, effective, recorded, since, kind, occupier, site, contract, definition, "
    "quantity, price, included, discount, period, state, reason, charge_stopped, dated"
)


class LedgerError(Exception):
    """A ledger problem; `temporary` says whether retrying may help."""

    temporary = False


class LedgerBusy(LedgerError):
    temporary = True

    def __init__(self, detail: str = "") -> None:
        super().__init__(f"ledger busy, retry{': ' + detail if detail else ''}")


class LedgerConflict(LedgerError):
    """Another reconciler took a value first; re-plan and try again."""

    temporary = True


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


_KINDS = {k.value: k for k in Kind}
_STATES = {s.value: s for s in State}


def _row(values: Sequence[Any]) -> Allocation:
    site, kind, value, holder, state, role, until = values
    return Allocation(
        site,
        _KINDS[kind],  # a dict lookup: Enum(value) costs a microsecond per row
        value,
        holder,
        _STATES[state],
        role,
        date.fromisoformat(until) if until else None,
    )


class Transaction:
    """The write side of one exclusive ledger transaction."""

    def __init__(self, ledger: SqlLedger, cursor: Any) -> None:
        self.ledger = ledger
        self.cursor = cursor

    def holdings(self) -> Holdings:
        self.cursor.execute(
            self.ledger.q("SELECT site, kind, value, holder, state, role, until FROM allocation")
        )
        return Holdings.of_rows(_row(r) for r in self.cursor.fetchall())

    def apply(self, changes: Iterable[Change], existing: Holdings) -> int:
        """Write allocations and releases. A new value is INSERTed, so a second holder is
        refused by the primary key; a value already held (or cooling off) is updated only
        if it is still the holder's (or still cooling off)."""
        q = self.ledger.q
        now = _now()
        count = 0
        inserts, updates, deletes, cooling = [], [], [], []
        for change in changes:
            count += 1
            if isinstance(change, Release):
                a = change.allocation
                if a.kind is Kind.NUMBER and change.until is not None:
                    cooling.append((change.until.isoformat(), now, a.site, a.kind.value, a.value))
                else:
                    deletes.append((a.site, a.kind.value, a.value, a.holder))
                continue
            until = change.until.isoformat() if change.until else None
            if change.key in existing.by_key:
                updates.append(
                    (
                        change.holder,
                        change.state.value,
                        change.role,
                        until,
                        now,
                        change.site,
                        change.kind.value,
                        change.value,
                        change.holder,
                    )
                )
            else:
                inserts.append(
                    (
                        change.site,
                        change.kind.value,
                        change.value,
                        change.holder,
                        change.state.value,
                        change.role,
                        until,
                        now,
                    )
                )
        try:
            self.cursor.executemany(
                q("DELETE FROM allocation WHERE site=? AND kind=? AND value=? AND holder=?"),
                deletes,
            )
            self.cursor.executemany(
                q(
                    "UPDATE allocation SET holder='', state='cooling-off', role='', until=?, "
                    "updated=? WHERE site=? AND kind=? AND value=?"
                ),
                cooling,
            )
            for row in updates:
                self.cursor.execute(
                    q(
                        "UPDATE allocation SET holder=?, state=?, role=?, until=?, updated=? "
                        "WHERE site=? AND kind=? AND value=? AND (holder=? OR state='cooling-off')"
                    ),
                    row,
                )
                if self.cursor.rowcount != 1:
                    raise LedgerConflict(f"{row[6]} {row[7]} at {row[5]} is held by someone else")
            self.cursor.executemany(
                q(
                    "INSERT INTO allocation (site, kind, value, holder, state, role, until, "
                    "updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                ),
                inserts,
            )
        except self.ledger.integrity_errors as exc:
            raise LedgerConflict(f"allocation already held: {exc}") from exc
        return count

    def set_status(self, kind: str, name: str, status: str, reason: str = "") -> None:
        self.ledger.set_status_in(self.cursor, kind, name, status, reason)

    def billing_rows(self) -> list[tuple[Any, ...]]:
        """The billing history as it stands inside this transaction."""
        self.cursor.execute(f"SELECT {BILLING_COLUMNS} FROM billing_event")
        return list(self.cursor.fetchall())

    def next_billing_stamp(self) -> int:
        self.cursor.execute("SELECT COALESCE(MAX(stamp), 0) FROM billing_event")
        found = self.cursor.fetchone()
        return int(found[0]) + 1

    def add_billing_rows(self, rows: Sequence[tuple[Any, ...]]) -> None:
        marks = ", ".join(["?"] * len(BILLING_COLUMNS.split(",")))
        self.cursor.executemany(
            self.ledger.q(f"INSERT INTO billing_event ({BILLING_COLUMNS}) VALUES ({marks})"), rows
        )


class SqlLedger:
    """Shared by the SQLite and PostgreSQL ledgers; they differ in connection and locking."""

    paramstyle = "?"
    integrity_errors: tuple[type[BaseException], ...] = (sqlite3.IntegrityError,)

    def __init__(self, url: str) -> None:
        self.url = url

    # --------------------------------------------------------------- backend specifics
    def connect(self) -> Any:
        raise NotImplementedError

    @contextmanager
    def _exclusive(self, sites: Sequence[str]) -> Iterator[Any]:
        raise NotImplementedError
        yield  # pragma: no cover

    def q(self, sql: str) -> str:
        return sql if self.paramstyle == "?" else sql.replace("?", "%s")

    # --------------------------------------------------------------- reading
    def migrate(self) -> None:
        with self._exclusive(()) as cursor:
            for statement in SCHEMA:
                cursor.execute(statement)
            cursor.execute(self.q("SELECT value FROM meta WHERE key='schema'"))
            found = cursor.fetchone()
            if found is None:
                cursor.execute(
                    self.q("INSERT INTO meta (key, value) VALUES ('schema', ?)"),
                    (str(SCHEMA_VERSION),),
                )
            elif int(found[0]) > SCHEMA_VERSION:
                raise LedgerError(
                    f"ledger schema {found[0]} is newer than this tenantry "
                    f"({SCHEMA_VERSION}); upgrade tenantry"
                )

    def holdings(self) -> Holdings:
        with self.reading() as cursor:
            cursor.execute("SELECT site, kind, value, holder, state, role, until FROM allocation")
            return Holdings.of_rows(_row(r) for r in cursor.fetchall())

    def statuses(self, kind: str) -> dict[str, StatusRecord]:
        with self.reading() as cursor:
            cursor.execute(
                self.q("SELECT name, status, reason, updated FROM status WHERE kind=?"), (kind,)
            )
            return {
                name: StatusRecord(status, reason, updated)
                for name, status, reason, updated in cursor.fetchall()
            }

    def applied(self) -> dict[str, dict[str, str]]:
        with self.reading() as cursor:
            cursor.execute("SELECT device, item, value FROM applied")
            out: dict[str, dict[str, str]] = {}
            for device, item, value in cursor.fetchall():
                out.setdefault(device, {})[item] = value
            return out

    def billing_rows(self) -> list[tuple[Any, ...]]:
        """The billing history; empty for a ledger no apply has migrated yet."""
        return self._billing_read(f"SELECT {BILLING_COLUMNS} FROM billing_event")

    def billing_closes(self) -> list[tuple[str, str, int, str]]:
        """(month, closed on, last stamp then, frozen rows as JSON) per closed month."""
        rows = self._billing_read("SELECT month, closed, stamp, rows FROM billing_close")
        return sorted((m, c, int(s), r) for m, c, s, r in rows)

    def _billing_read(self, sql: str) -> list[tuple[Any, ...]]:
        with self.reading() as cursor:
            cursor.execute(
                "SELECT count(*) FROM "
                + (
                    "sqlite_master WHERE name='billing_close'"
                    if self.paramstyle == "?"
                    else "information_schema.tables WHERE table_name='billing_close'"
                )
            )
            found = cursor.fetchone()
            if not found or not found[0]:
                return []
            cursor.execute(sql)
            return list(cursor.fetchall())

    def close_billing(self, month: str, closed: str, stamp: int, rows: str) -> bool:
        """Freeze a month's rows; False if it was already closed (a close never changes)."""
        with self._exclusive(()) as cursor:
            cursor.execute(self.q("SELECT 1 FROM billing_close WHERE month=?"), (month,))
            if cursor.fetchone() is not None:
                return False
            cursor.execute(
                self.q(
                    "INSERT INTO billing_close (month, closed, stamp, rows) VALUES (?, ?, ?, ?)"
                ),
                (month, closed, stamp, rows),
            )
            return True

    @contextmanager
    def reading(self) -> Iterator[Any]:
        conn = self.connect()
        try:
            yield conn.cursor()
        finally:
            conn.close()

    # --------------------------------------------------------------- writing
    @contextmanager
    def transaction(self, sites: Iterable[str] = ()) -> Iterator[Transaction]:
        """One exclusive transaction over the given sites: read holdings, plan, write."""
        with self._exclusive(sorted(set(sites))) as cursor:
            yield Transaction(self, cursor)

    def set_status(self, kind: str, name: str, status: str, reason: str = "") -> None:
        with self._exclusive(()) as cursor:
            self.set_status_in(cursor, kind, name, status, reason)

    def set_statuses(self, records: Iterable[tuple[str, str, str, str]]) -> None:
        with self._exclusive(()) as cursor:
            for kind, name, status, reason in records:
                self.set_status_in(cursor, kind, name, status, reason)

    def set_status_in(self, cursor: Any, kind: str, name: str, status: str, reason: str) -> None:
        cursor.execute(
            self.q(
                "INSERT INTO status (kind, name, status, reason, updated) "
                "VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (kind, name) DO UPDATE SET status=excluded.status, "
                "reason=excluded.reason, updated=excluded.updated"
            ),
            (kind, name, status, reason, _now()),
        )

    def record_applied(self, device: str, items: dict[str, str]) -> None:
        """Remember what a device was last successfully configured with (for `plan`)."""
        with self._exclusive(()) as cursor:
            cursor.execute(self.q("DELETE FROM applied WHERE device=?"), (device,))
            cursor.executemany(
                self.q("INSERT INTO applied (device, item, value) VALUES (?, ?, ?)"),
                [(device, k, v) for k, v in sorted(items.items())],
            )


class SqliteLedger(SqlLedger):
    def __init__(self, path: str, busy_timeout_s: float = 10.0) -> None:
        super().__init__(path)
        self.path = path
        self.busy_timeout_s = busy_timeout_s
        Path(path).parent.mkdir(parents=True, exist_ok=True)

    def connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None)
        # Switching a new file to WAL takes a lock that the busy timeout does not cover: two
        # reconcilers creating the ledger at the same moment retry here instead of failing.
        deadline = time.monotonic() + self.busy_timeout_s
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    conn.close()
                    raise LedgerBusy(str(exc)) from exc
                time.sleep(0.02)
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    @contextmanager
    def _exclusive(self, sites: Sequence[str]) -> Iterator[sqlite3.Cursor]:
        conn = self.connect()
        cursor = conn.cursor()
        try:
            try:
                cursor.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise LedgerBusy(str(exc)) from exc
            try:
                yield cursor
            except BaseException:
                conn.rollback()
                raise
            try:
                conn.commit()
            except sqlite3.OperationalError as exc:
                raise LedgerBusy(str(exc)) from exc
        finally:
            conn.close()


class PostgresLedger(SqlLedger):
    paramstyle = "%s"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        import psycopg  # the [postgres] extra

        self._psycopg = psycopg
        self.integrity_errors = (psycopg.errors.IntegrityError,)

    def connect(self) -> Any:
        try:
            return self._psycopg.connect(self.url, autocommit=False)
        except self._psycopg.OperationalError as exc:
            raise LedgerBusy(f"cannot reach PostgreSQL: {exc}".strip()) from exc

    @contextmanager
    def reading(self) -> Iterator[Any]:
        conn = self.connect()
        try:
            with conn.transaction():
                yield conn.cursor()
        finally:
            conn.close()

    def initialized(self) -> bool:
        """Whether the schema exists; a plan against an empty database writes nothing."""
        with self.reading() as cursor:
            cursor.execute("SELECT to_regclass('meta') IS NOT NULL")
            found = cursor.fetchone()
        return bool(found and found[0])

    @contextmanager
    def _exclusive(self, sites: Sequence[str]) -> Iterator[Any]:
        conn = self.connect()
        try:
            with conn.transaction():
                cursor = conn.cursor()
                # One lock per site (pool), in name order so two writers never deadlock;
                # a global one guards the schema and status writes.
                keys = [zlib.crc32(f"tenantry:{s}".encode()) for s in sites] or [0]
                for key in keys:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
                yield cursor
        except self._psycopg.errors.SerializationFailure as exc:
            raise LedgerBusy(str(exc)) from exc
        except self._psycopg.errors.DeadlockDetected as exc:
            raise LedgerBusy(str(exc)) from exc
        finally:
            conn.close()


def open_ledger(location: str, create: bool = True) -> SqlLedger | None:
    """`postgresql://…` → PostgreSQL; anything else is a SQLite file path. With
    `create=False` (plan, report) a SQLite ledger that does not exist yet is None: nothing is
    written, not even the schema."""
    ledger: SqlLedger
    if location.startswith(("postgresql://", "postgres://")):
        ledger = PostgresLedger(location)
        if not create and not ledger.initialized():
            return None
    else:
        path = location.removeprefix("sqlite:///")
        if not create and not Path(path).exists():
            return None
        ledger = SqliteLedger(path)
    if create:
        ledger.migrate()
    return ledger
