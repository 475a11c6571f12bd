"""The ledger on SQL: SQLite by default (a file), PostgreSQL when several reconcilers share it.

The database, not Python, makes each allocation unique: (site, kind, value) is the primary
key, and one VLAN and one prefix per occupier and site are unique indexes. Writers are
serialized per site (SQLite: BEGIN IMMEDIATE; PostgreSQL: one advisory lock per site, taken in
name order), and whatever slips through still hits the constraints and is retried.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from reconciler.extras import missing_extra
from reconciler.ledger.model import (
    Allocation,
    Change,
    Holdings,
    Kind,
    Release,
    State,
    StatusRecord,
)

MIGRATIONS: list[tuple[str, ...]] = [
    # 1: allocations, statuses, what each device was last given
    (
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
    ),
    # 2: one row per apply, numbered in the order the applies held the ledger (G2, audit)
    (
        """CREATE TABLE IF NOT EXISTS apply_log (
            seq INTEGER PRIMARY KEY,
            started TEXT NOT NULL,
            finished TEXT,
            source TEXT NOT NULL DEFAULT '',
            actor TEXT NOT NULL DEFAULT '',
            outcome TEXT NOT NULL DEFAULT 'running')""",
    ),
    # 3: the desired state the last apply carried out, one row per document (P1 judges the
    # next apply on what changed since); the commit it came from is meta 'desired_commit'
    (
        """CREATE TABLE IF NOT EXISTS desired (
            ref TEXT PRIMARY KEY,
            digest TEXT NOT NULL,
            sites TEXT NOT NULL DEFAULT '',
            admins TEXT NOT NULL DEFAULT '',
            file TEXT NOT NULL DEFAULT '')""",
    ),
    # 4: the billing history (issue 19): each apply's recording of a line's terms from `since`
    # on, one row per breakpoint, money as text (Decimal, never float); and closed months
    (
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
    ),
    # 5: drift (issue 15): each device's last applied intent in full, which `drift` reads the
    # device against and `apply --only-drift` puts back; and every repair of a resource found
    # changed by hand, with the apply (apply_log.seq) that made it
    (
        """CREATE TABLE IF NOT EXISTS device_intent (
            device TEXT PRIMARY KEY,
            site TEXT NOT NULL,
            intent TEXT NOT NULL,
            updated TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS repair (
            seq INTEGER NOT NULL,
            device TEXT NOT NULL,
            resource TEXT NOT NULL,
            found TEXT NOT NULL,
            restored TEXT NOT NULL,
            repaired TEXT NOT NULL,
            PRIMARY KEY (seq, device, resource))""",
    ),
]
"""The ledger's schema, as the steps that build it. Version N is MIGRATIONS[:N] applied.

To add a table (or a column, an index): append one step — a tuple of statements valid on both
SQLite and PostgreSQL — and never edit a step that has shipped. `migrate()` runs the missing
steps in one transaction under the schema lock and records the new version in `meta`, so a
ledger is either at the old version or the new one, never in between. A ledger whose version
is newer than this code is refused, as is one that lacks a table its version promises."""
SCHEMA_VERSION = len(MIGRATIONS)
_TABLE = re.compile(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)")


def tables_at(version: int) -> set[str]:
    """The tables a ledger of this schema version has."""
    return {
        found.group(1)
        for step in MIGRATIONS[:version]
        for statement in step
        if (found := _TABLE.search(statement))
    }

# One document of the recorded desired state: "Kind/name" → (digest, sites, admins, file),
# sites and admins comma-separated.
DesiredRow = tuple[str, str, str, str]

BILLING_COLUMNS = (
    "line, stamp, effective, recorded, since, kind, occupier, site, contract, definition, "
    "quantity, price, included, discount, period, state, reason, charge_stopped, dated"
)


UPSERT_STATUS = (
    "INSERT INTO status (kind, name, status, reason, updated) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (kind, name) DO UPDATE SET status=excluded.status, reason=excluded.reason, "
    "updated=excluded.updated"
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


class LedgerUnavailable(LedgerError):
    """The database cannot be reached (PostgreSQL down, a network fault): retry later."""

    temporary = True


def _reason(exc: BaseException) -> str:
    """The first line of a driver's message: one clear line, never a traceback."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


_KINDS = {k.value: k for k in Kind}
_STATES = {s.value: s for s in State}


def _row(values: Sequence[Any]) -> Allocation:
    site, kind, value, holder, state, role, until = values
    try:
        return Allocation(
            site,
            _KINDS[kind],  # a dict lookup: Enum(value) costs a microsecond per row
            value,
            holder,
            _STATES[state],
            role,
            date.fromisoformat(until) if until else None,
        )
    except (KeyError, ValueError, TypeError):
        # a row no tenantry wrote (edited by hand, another program): one line, not a traceback
        raise LedgerError(
            f"the ledger is damaged: allocation {kind} {value} at {site} ({holder}) has "
            f"kind {kind!r}, state {state!r}, until {until!r}, which tenantry never writes; "
            "restore the ledger from a backup (nothing was changed)"
        ) from None


ALLOCATIONS = "SELECT site, kind, value, holder, state, role, until FROM allocation"


def holdings_of(rows: list[tuple[Any, ...]], known: Holdings | None = None) -> Holdings:
    """The holdings of these rows; `known` when it was read from the same rows."""
    if known is not None and known.source is not None and known.source == rows:
        return known
    return Holdings.of_rows((_row(r) for r in rows), rows)


class Transaction:
    """The write side of one exclusive ledger transaction. Status rows are sent together
    (one statement for all of them) before the next read and at the commit: an apply
    records tens of thousands."""

    def __init__(self, ledger: SqlLedger, cursor: Any) -> None:
        self.ledger = ledger
        self.cursor = cursor
        self.now = _now()  # one transaction, one time
        self._statuses: list[tuple[str, str, str, str, str]] = []

    def flush(self) -> None:
        """Send the status rows set so far (in order: a later one for the same status
        replaces an earlier one)."""
        if self._statuses:
            self.cursor.executemany(self.ledger.q(UPSERT_STATUS), self._statuses)
            self._statuses = []

    def holdings(self, known: Holdings | None = None) -> Holdings:
        """Every allocation as it stands in this transaction; `known` itself when it was
        read from exactly these rows (nothing changed since)."""
        self.flush()
        self.cursor.execute(ALLOCATIONS)
        return holdings_of(list(self.cursor.fetchall()), known)

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
        self._statuses.append((kind, name, status, reason, self.now))

    def record_applied(self, device: str, items: dict[str, str]) -> None:
        """Remember what a device was last successfully configured with (for `plan`)."""
        self.cursor.execute(self.ledger.q("DELETE FROM applied WHERE device=?"), (device,))
        self.cursor.executemany(
            self.ledger.q("INSERT INTO applied (device, item, value) VALUES (?, ?, ?)"),
            [(device, k, v) for k, v in sorted(items.items())],
        )

    def record_intents(self, rows: Sequence[tuple[str, str, str]]) -> None:
        """Remember the whole intent each device was last successfully given (for
        `drift`): (device, site, intent as JSON)."""
        self.cursor.executemany(
            self.ledger.q(
                "INSERT INTO device_intent (device, site, intent, updated) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (device) DO UPDATE SET "
                "site=excluded.site, intent=excluded.intent, updated=excluded.updated"
            ),
            [(device, site, text, self.now) for device, site, text in rows],
        )

    def record_repairs(self, seq: int, device: str, rows: Sequence[tuple[str, str, str]]) -> None:
        """Record the drift apply number `seq` repaired on `device`: (resource, what the
        device had, what it was given)."""
        self.cursor.executemany(
            self.ledger.q(
                "INSERT INTO repair (seq, device, resource, found, restored, repaired) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (seq, device, resource) DO UPDATE "
                "SET found=excluded.found, restored=excluded.restored"
            ),
            [(seq, device, *row, self.now) for row in rows],
        )

    def record_desired(self, commit: str, rows: dict[str, DesiredRow]) -> None:
        """Replace the recorded desired state: the documents an apply carried out, from
        `commit` (P1 judges the next apply on what changed since)."""
        self.cursor.execute("DELETE FROM desired")
        self.cursor.executemany(
            self.ledger.q(
                "INSERT INTO desired (ref, digest, sites, admins, file) VALUES (?, ?, ?, ?, ?)"
            ),
            [(ref, *row) for ref, row in sorted(rows.items())],
        )
        self.cursor.execute(
            self.ledger.q(
                "INSERT INTO meta (key, value) VALUES ('desired_commit', ?) "
                "ON CONFLICT (key) DO UPDATE SET value=excluded.value"
            ),
            (commit,),
        )

    def billing_rows(self) -> list[tuple[Any, ...]]:
        """The billing history as it stands inside this transaction."""
        self.flush()
        self.cursor.execute(f"SELECT {BILLING_COLUMNS} FROM billing_event")
        return list(self.cursor.fetchall())

    def next_billing_stamp(self) -> int:
        """One number per recording, unique and in commit order across sites: the ledger's
        billing lock is held from here to the commit, so the next recording reads this one's
        stamp (a close compares stamps to tell what came after it)."""
        self.flush()
        self.ledger.lock_billing(self.cursor)
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
    def tables(self, cursor: Any) -> set[str]:
        raise NotImplementedError

    def version(self, cursor: Any) -> int:
        """The schema version of this ledger (0: empty), or LedgerError when the database is
        another application's, newer than this tenantry, or lacks a table it should have."""
        tables = self.tables(cursor)
        if "meta" not in tables:
            foreign = sorted(tables - tables_at(SCHEMA_VERSION))
            if foreign:
                raise LedgerError(
                    f"{self.display} is not a tenantry ledger (it has tables "
                    f"{', '.join(foreign[:5])}); give another --state"
                )
            return 0  # empty, or half-made by a tenantry before 0.x: rebuilt by migrate()
        cursor.execute("SELECT value FROM meta WHERE key='schema'")
        found = cursor.fetchone()
        version = int(found[0]) if found and str(found[0]).isdigit() else 0
        if version > SCHEMA_VERSION:
            raise LedgerError(
                f"{self.display} has schema version {version}, newer than this tenantry "
                f"({SCHEMA_VERSION}); upgrade tenantry"
            )
        missing = sorted(tables_at(version) - tables)
        if missing:
            raise LedgerError(
                f"{self.display} is damaged: table {', '.join(missing)} is missing; restore "
                "the ledger from a backup (nothing was changed)"
            )
        return version

    def migrate(self) -> None:
        """Bring the schema to SCHEMA_VERSION in one transaction (see MIGRATIONS)."""
        with self._exclusive(()) as cursor:
            version = self.version(cursor)
            if version == SCHEMA_VERSION:
                return
            for step in MIGRATIONS[version:]:
                for statement in step:
                    cursor.execute(statement)
            cursor.execute(
                self.q(
                    "INSERT INTO meta (key, value) VALUES ('schema', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value=excluded.value"
                ),
                (str(SCHEMA_VERSION),),
            )

    def initialized(self) -> bool:
        """Whether the schema exists; a plan against an empty ledger writes nothing."""
        with self.reading() as cursor:
            return self.version(cursor) > 0

    @property
    def display(self) -> str:
        """The ledger as shown in messages: never a password."""
        return re.sub(r"//([^:/@]*):[^@/]*@", r"//\1:***@", self.url)

    # --------------------------------------------------------------- one apply at a time (G2)
    @contextmanager
    def apply_lock(self, wait_s: float = 600.0, source: str = "", actor: str = "") -> Iterator[int]:
        """Hold the ledger for a whole apply (plan, allocate, devices, record): concurrent
        applies then end in the state of some sequential order. Released by the operating
        system or the database when the process dies. Yields the apply's number in the log."""
        with self._apply_lock(wait_s):
            with self._exclusive(()) as cursor:
                cursor.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM apply_log")
                seq = int(cursor.fetchone()[0])
                cursor.execute(
                    self.q(
                        "INSERT INTO apply_log (seq, started, source, actor) VALUES (?, ?, ?, ?)"
                    ),
                    (seq, _now(), source, actor),
                )
            outcome = "failed"
            try:
                yield seq
                outcome = "done"
            finally:
                with self._exclusive(()) as cursor:
                    cursor.execute(
                        self.q("UPDATE apply_log SET finished=?, outcome=? WHERE seq=?"),
                        (_now(), outcome, seq),
                    )

    @contextmanager
    def _apply_lock(self, wait_s: float) -> Iterator[None]:
        raise NotImplementedError
        yield  # pragma: no cover

    def apply_log(self) -> list[tuple[int, str, str, str]]:
        """(seq, source, actor, outcome) of every apply, in order."""
        with self.reading() as cursor:
            cursor.execute("SELECT seq, source, actor, outcome FROM apply_log ORDER BY seq")
            return [(int(a), b, c, d) for a, b, c, d in cursor.fetchall()]

    def holdings(self) -> Holdings:
        with self.reading() as cursor:
            cursor.execute(ALLOCATIONS)
            return holdings_of(list(cursor.fetchall()))

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

    def intents(self) -> dict[str, tuple[str, str]]:
        """Each device's last applied intent: device → (site, intent as JSON); empty for a
        ledger from before drift (no apply has recorded one yet)."""
        with self.reading() as cursor:
            if not self._has_table(cursor, "device_intent"):
                return {}
            cursor.execute("SELECT device, site, intent FROM device_intent")
            return {device: (site, text) for device, site, text in cursor.fetchall()}

    def repairs(self) -> list[tuple[int, str, str, str, str, str]]:
        """(apply seq, device, resource, found, restored, when) of every repair, in order."""
        with self.reading() as cursor:
            if not self._has_table(cursor, "repair"):
                return []
            cursor.execute(
                "SELECT seq, device, resource, found, restored, repaired FROM repair "
                "ORDER BY seq, device, resource"
            )
            return [(int(a), b, c, d, e, f) for a, b, c, d, e, f in cursor.fetchall()]

    def _has_table(self, cursor: Any, name: str) -> bool:
        return name in self.tables(cursor)

    def desired(self) -> tuple[str, dict[str, DesiredRow]] | None:
        """The commit and documents of the desired state the last apply carried out; None
        if no apply recorded one (a ledger older than this table included)."""
        try:
            with self.reading() as cursor:
                cursor.execute("SELECT value FROM meta WHERE key='desired_commit'")
                found = cursor.fetchone()
                if found is None:
                    return None
                cursor.execute("SELECT ref, digest, sites, admins, file FROM desired")
                rows = {
                    ref: (digest, sites, admins, file)
                    for ref, digest, sites, admins, file in cursor.fetchall()
                }
                return str(found[0]), rows
        except LedgerError:  # no such table yet (a ledger older than it, read only)
            return None

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

    def lock_billing(self, cursor: Any) -> None:
        """SQLite: BEGIN IMMEDIATE already serializes every writer."""

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
        with self.faults():
            conn = self.connect()
            try:
                yield conn.cursor()
            finally:
                conn.close()

    @contextmanager
    def faults(self) -> Iterator[None]:
        """Any database error inside becomes one LedgerError line (never a traceback)."""
        try:
            yield
        except LedgerError:
            raise
        except self.database_errors as exc:
            raise self.fault(exc) from exc

    database_errors: tuple[type[BaseException], ...] = (sqlite3.Error,)

    def fault(self, exc: BaseException) -> LedgerError:
        return LedgerError(f"ledger {self.display}: {_reason(exc)}")

    # --------------------------------------------------------------- writing
    @contextmanager
    def transaction(self, sites: Iterable[str] = ()) -> Iterator[Transaction]:
        """One exclusive transaction over the given sites: read holdings, plan, write."""
        with self._exclusive(sorted(set(sites))) as cursor:
            tx = Transaction(self, cursor)
            yield tx
            tx.flush()

    def set_status(self, kind: str, name: str, status: str, reason: str = "") -> None:
        with self._exclusive(()) as cursor:
            self.set_status_in(cursor, kind, name, status, reason)

    def set_statuses(self, records: Iterable[tuple[str, str, str, str]]) -> None:
        with self._exclusive(()) as cursor:
            for kind, name, status, reason in records:
                self.set_status_in(cursor, kind, name, status, reason)

    def set_status_in(self, cursor: Any, kind: str, name: str, status: str, reason: str) -> None:
        cursor.execute(self.q(UPSERT_STATUS), (kind, name, status, reason, _now()))


def _busy_timeout() -> float:
    """How long a SQLite writer waits for another (TENANTRY_LEDGER_TIMEOUT, default 10 s)."""
    try:
        return max(float(os.environ.get("TENANTRY_LEDGER_TIMEOUT", "10")), 0.0)
    except ValueError:
        return 10.0


class SqliteLedger(SqlLedger):
    def __init__(self, path: str, busy_timeout_s: float | None = None) -> None:
        super().__init__(path)
        self.path = path
        self.busy_timeout_s = busy_timeout_s if busy_timeout_s is not None else _busy_timeout()

    def create_directory(self) -> None:
        try:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LedgerError(
                f"cannot create the ledger's directory for {self.path}: {exc.strerror}"
            ) from None

    def fault(self, exc: BaseException) -> LedgerError:
        reason = _reason(exc)
        if "locked" in reason or "busy" in reason:
            return LedgerBusy(f"{self.path}: {reason}")
        if "not a database" in reason or "malformed" in reason:
            return LedgerError(
                f"{self.path} is not a tenantry ledger ({reason}); give another --state"
            )
        if "readonly" in reason or "read-only" in reason:
            return LedgerError(f"cannot write the ledger {self.path}: it is read-only")
        if "unable to open" in reason:
            what = "a directory" if os.path.isdir(self.path) else "not readable and writable"
            return LedgerError(f"cannot open the ledger {self.path}: {what}")
        return LedgerError(f"ledger {self.path}: {reason}")

    def connect(self) -> sqlite3.Connection:
        if os.path.isdir(self.path):
            raise LedgerError(f"cannot open the ledger {self.path}: it is a directory")
        with self.faults():
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None)
            conn.execute("PRAGMA synchronous=NORMAL")
            return conn

    def migrate(self) -> None:
        """Only a file that is empty or already ours is switched to WAL (a persistent mode of
        the file) and given the schema: another application's database is never touched."""
        with self.reading() as cursor:
            self.version(cursor)
        with self.faults():
            conn = self.connect()
            try:
                self._wal(conn)
            finally:
                conn.close()
        super().migrate()

    def _wal(self, conn: sqlite3.Connection) -> None:
        """Switching a new file to WAL takes a lock that the busy timeout does not cover: two
        reconcilers creating the ledger at the same moment retry here instead of failing."""
        deadline = time.monotonic() + self.busy_timeout_s
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def tables(self, cursor: Any) -> set[str]:
        cursor.execute("SELECT name FROM sqlite_master WHERE type='table'")
        return {name for (name,) in cursor.fetchall() if not name.startswith("sqlite_")}

    @contextmanager
    def _exclusive(self, sites: Sequence[str]) -> Iterator[sqlite3.Cursor]:
        conn = self.connect()
        try:
            with self.faults():
                cursor = conn.cursor()
                cursor.execute("BEGIN IMMEDIATE")
                try:
                    yield cursor
                except BaseException:
                    conn.rollback()
                    raise
                conn.commit()
        finally:
            conn.close()

    @contextmanager
    def _apply_lock(self, wait_s: float) -> Iterator[None]:
        """An flock on `<ledger>.lock`: the kernel drops it when the process dies."""
        import fcntl

        try:
            handle = open(f"{self.path}.lock", "a+b")  # noqa: SIM115 - held until the end
        except OSError as exc:
            raise LedgerError(f"cannot lock the ledger {self.path}: {exc.strerror}") from None
        try:
            deadline = time.monotonic() + wait_s
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise LedgerBusy(
                            f"another apply has held {self.path} for over {wait_s:.0f}s"
                        ) from None
                    time.sleep(0.01)
            # One connection held open for the whole apply: closing the last connection of a
            # WAL database checkpoints it and deletes the WAL file (an fsync each time), which
            # the apply's several short transactions would otherwise pay every time.
            keeper = self.connect()
            try:
                yield
            finally:
                keeper.close()
        finally:
            handle.close()


class PostgresLedger(SqlLedger):
    paramstyle = "%s"
    APPLY_LOCK = (20, 1)  # the two-key advisory space: never one of the per-site keys
    BILLING_LOCK = (20, 2)  # held by a transaction from its billing stamp to its commit

    def __init__(self, url: str) -> None:
        super().__init__(url)
        try:
            import psycopg  # the [postgres] extra
        except ModuleNotFoundError as exc:
            raise LedgerError(missing_extra(exc, "a PostgreSQL ledger") or str(exc)) from None

        self._psycopg = psycopg
        self._held: tuple[int, Any] | None = None  # (thread, connection) of a running apply
        self.integrity_errors = (psycopg.errors.IntegrityError,)
        self.database_errors = (psycopg.Error,)
        try:
            psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.Error as exc:
            raise LedgerError(
                f"--state {self.display} is not a PostgreSQL URL: {_reason(exc)}"
            ) from None

    def fault(self, exc: BaseException) -> LedgerError:
        errors = self._psycopg.errors
        if isinstance(exc, errors.SerializationFailure | errors.DeadlockDetected):
            return LedgerBusy(_reason(exc))
        if isinstance(exc, self._psycopg.OperationalError):
            return LedgerUnavailable(f"cannot reach PostgreSQL at {self.display}: {_reason(exc)}")
        return LedgerError(f"ledger {self.display}: {_reason(exc)}")

    def connect(self) -> Any:
        with self.faults():
            return self._psycopg.connect(self.url, autocommit=False, connect_timeout=10)

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        """A connection for one transaction: during an apply, the apply's own (a connection
        costs tens of milliseconds, an apply makes a dozen transactions); else a new one."""
        held = self._held
        if held is not None and held[0] == threading.get_ident():
            yield held[1]
            return
        conn = self.connect()
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def reading(self) -> Iterator[Any]:
        with self.faults(), self._connection() as conn, conn.transaction():
            yield conn.cursor()

    def tables(self, cursor: Any) -> set[str]:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        return {name for (name,) in cursor.fetchall()}

    @contextmanager
    def _exclusive(self, sites: Sequence[str]) -> Iterator[Any]:
        with self.faults(), self._connection() as conn, conn.transaction():
            cursor = conn.cursor()
            # One lock per site (pool), in name order so two writers never deadlock;
            # a global one guards the schema and status writes.
            keys = [zlib.crc32(f"tenantry:{s}".encode()) for s in sites] or [0]
            for key in keys:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
            yield cursor

    def lock_billing(self, cursor: Any) -> None:
        """Transactions over different sites run side by side: without this, two would read
        the same MAX(stamp) and record under one number. Taken after the site locks, so the
        lock order stays the same for every writer."""
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", self.BILLING_LOCK)

    @contextmanager
    def _apply_lock(self, wait_s: float) -> Iterator[None]:
        """A session advisory lock on its own connection: PostgreSQL drops it when the
        connection ends, so a killed apply never leaves the ledger locked."""
        conn = self.connect()
        try:
            with self.faults():
                conn.autocommit = True
                conn.execute(f"SET lock_timeout = {max(int(wait_s * 1000), 1)}")
                try:
                    conn.execute("SELECT pg_advisory_lock(%s, %s)", self.APPLY_LOCK)
                except self._psycopg.errors.LockNotAvailable:
                    raise LedgerBusy(
                        f"another apply has held {self.display} for over {wait_s:.0f}s"
                    ) from None
                conn.execute("SET lock_timeout = 0")
            self._held = (threading.get_ident(), conn)
            yield
        finally:
            self._held = None
            conn.close()


SCHEMES = ("postgresql://", "postgres://", "sqlite:///")


def open_ledger(location: str, create: bool = True) -> SqlLedger | None:
    """`postgresql://…` → PostgreSQL; `sqlite:///path` or a plain path → a SQLite file; any
    other `scheme://` is refused (it would otherwise become a file named like the URL). With
    `create=False` (validate, plan, report) a ledger that does not exist yet, or is empty, is
    None: nothing is written, not even the schema."""
    ledger: SqlLedger
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", location)
    if scheme is not None and not location.startswith(SCHEMES):
        raise LedgerError(
            f"unknown ledger URL scheme {scheme.group(1)!r}: use a SQLite file path, "
            "sqlite:///path or postgresql://…"
        )
    if location.startswith(("postgresql://", "postgres://")):
        ledger = PostgresLedger(location)
    else:
        path = location.removeprefix("sqlite://")
        if not path:
            raise LedgerError("--state is empty: give a SQLite file path or a postgresql:// URL")
        if not create and not os.path.lexists(path):
            return None
        ledger = SqliteLedger(path)
        if create:
            ledger.create_directory()
    if create:
        ledger.migrate()
    elif not ledger.initialized():
        return None
    return ledger
