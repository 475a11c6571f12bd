"""Telephony driver: the number plan of a Kamailio SIP server.

Kamailio routes on an in-memory `htable` named ``numbers`` (value ``"state,occupier"``):
an active number is relayed, a number in cooling-off gets 410, an unknown one 404. The same
table lives in SQLite (the htable's ``dbtable``), so a restarted Kamailio comes back with the
last applied plan without waiting for tenantry. This driver therefore manages two copies:

* the **database** — the persistent record, changed in one transaction;
* the **runtime** table — changed live over JSON-RPC/HTTP (``htable.sets`` / ``htable.delete``),
  because the htable reads its database only at start-up.

Each copy gets its own pure `remediation`, so a Kamailio that lost its table (restarted
without its database, or a failed push) is re-pushed in full while the database is left
alone, and a converged server receives nothing. Digital handsets are logged out remotely by
removing their registrations (``ul.rm``).
"""

from __future__ import annotations

import base64
import json
import os
import re
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from drivers._sqlite import connect, database_error, database_path
from drivers.base import (
    ConnectError,
    Credentials,
    DriverError,
    Endpoint,
    IntentRefused,
    NumberIntent,
    PushError,
    TelephonyIntent,
    Transcript,
)
from drivers.contract import ABSENT, Change, Remediation, TelephonyDriver, changes_between

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
# The htable packs columns with ',' and the routing script splits on it.
OCCUPIER = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$|^$")
STATES = ("active", "cooling-off", "suspended")
# Each state and the operation that sets it; a suspended (Stopped) number answers 480.
Action = Literal["activate", "cool-off", "suspend", "delete"]
ACTIONS: dict[str, Action] = {
    "active": "activate",
    "cooling-off": "cool-off",
    "suspended": "suspend",
}
STATE_OF = {action: state for state, action in ACTIONS.items()}
DEFAULT_RPC_PORT = 5080

SCHEMA = """
CREATE TABLE IF NOT EXISTS numbers (
    number     TEXT PRIMARY KEY NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('active', 'cooling-off', 'suspended')),
    occupier   TEXT NOT NULL DEFAULT '',
    assignee   TEXT NOT NULL DEFAULT '',
    until      TEXT,
    updated_at TEXT NOT NULL DEFAULT (datetime('now'))
)
"""
COLUMNS = ("number", "state", "occupier", "assignee", "until", "updated_at")


def create_schema(db_path: str | Path) -> None:
    """Create the number table Kamailio's htable loads (deployment / lab set-up, not apply:
    the driver refuses to invent a database at a mistyped path); an old one is widened."""
    con = sqlite3.connect(db_path, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=WAL")  # Kamailio reads while the driver writes
        con.execute("BEGIN IMMEDIATE")
        widen(con)
        con.execute(SCHEMA)
        con.execute("COMMIT")
    finally:
        con.close()


def widen(db: sqlite3.Connection) -> str:
    """A number table created before `assignee` or `suspended` existed lacks the column or
    refuses that state (its CHECK lists only active and cooling-off), and SQLite cannot alter
    a CHECK: the table is rebuilt with today's schema, rows kept, as SQLite documents it (new
    table, copy, drop, rename). Runs inside the caller's transaction, so Kamailio sees the old
    table or the new one. Returns what was widened ('' when the table is today's)."""
    found = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'numbers'"
    ).fetchone()
    if found is None:
        return ""
    old = columns(db)
    why = [] if "'suspended'" in found[0] else ["state may be 'suspended'"]
    why += [f"adds {c}" for c in COLUMNS if c not in old]
    if not why:
        return ""
    kept = ", ".join(c for c in COLUMNS if c in old)
    db.execute(SCHEMA.replace("IF NOT EXISTS numbers", "numbers_widened"))
    db.execute(f"INSERT INTO numbers_widened ({kept}) SELECT {kept} FROM numbers")
    db.execute("DROP TABLE numbers")
    db.execute("ALTER TABLE numbers_widened RENAME TO numbers")
    return ", ".join(why)


def columns(db: sqlite3.Connection) -> set[str]:
    """The number table's columns (none: no table)."""
    return {row[1] for row in db.execute("PRAGMA table_info(numbers)")}


# ------------------------------------------------------------------ the pure part


@dataclass(frozen=True)
class Entry:
    """The state of one number as one copy of the table knows it."""

    state: str
    occupier: str = ""
    until: str | None = None  # kept in the database only, for the record
    assignee: str = ""  # a user's name, or "main"


@dataclass(frozen=True)
class Operation:
    """One change to one copy of the table."""

    action: Action
    number: str
    occupier: str = ""
    until: str | None = None
    assignee: str = ""

    def __str__(self) -> str:
        if self.action == "delete":
            return f"delete {self.number}"
        tail = f" until {self.until}" if self.until else ""
        who = f" assignee={self.assignee}" if self.assignee else ""
        return f"{self.action} {self.number} occupier={self.occupier or '-'}{who}{tail}"

    @property
    def value(self) -> str:
        """The htable value: what the routing script splits on ','."""
        state = STATE_OF[self.action]
        return f"{state},{self.occupier},{self.assignee}"


def remediation(running: Mapping[str, Entry], intended: Mapping[str, Entry]) -> list[Operation]:
    """The operations that turn `running` into `intended` (both: number → Entry).

    Pure: applying the result to `running` gives `intended`, and equal inputs give [].
    Deletions come first so a number is never briefly doubled, then sets, each by number.
    """
    ops = [Operation("delete", n) for n in sorted(running.keys() - intended.keys())]
    for number in sorted(intended):
        want = intended[number]
        if running.get(number) != want:
            action = ACTIONS[want.state]
            ops.append(Operation(action, number, want.occupier, want.until, want.assignee))
    return ops


def apply_operations(running: Mapping[str, Entry], ops: Iterable[Operation]) -> dict[str, Entry]:
    """What a table looks like after `ops` (the round trip that tests `remediation`)."""
    table = dict(running)
    for op in ops:
        if op.action == "delete":
            table.pop(op.number, None)
        else:
            state = STATE_OF[op.action]
            table[op.number] = Entry(state, op.occupier, op.until, op.assignee)
    return table


def runtime_view(table: Mapping[str, Entry]) -> dict[str, Entry]:
    """The part of an entry the htable holds (no `until`)."""
    return {n: Entry(e.state, e.occupier, None, e.assignee) for n, e in table.items()}


def intended_table(intent: TelephonyIntent, device: str) -> dict[str, Entry]:
    """Validate the intent (the driver is the last line before the server)."""
    table: dict[str, Entry] = {}
    for n in intent.numbers:
        _check_number(n, device)
        if n.number in table:
            raise IntentRefused(device, f"number {n.number} listed twice")
        table[n.number] = Entry(n.state, n.occupier, n.until, n.assignee)
    for number in intent.logout:
        if not E164.match(number):
            raise IntentRefused(device, f"not an E.164 number: {number!r}")
    return table


def _check_number(n: NumberIntent, device: str) -> None:
    if not E164.match(n.number):
        raise IntentRefused(device, f"not an E.164 number: {n.number!r}")
    if n.state not in STATES:
        raise IntentRefused(device, f"{n.number}: unknown state {n.state!r}")
    if not OCCUPIER.match(n.occupier):
        raise IntentRefused(device, f"{n.number}: bad occupier name {n.occupier!r}")
    if not OCCUPIER.match(n.assignee):
        raise IntentRefused(device, f"{n.number}: bad assignee {n.assignee!r}")
    if n.until is not None and not re.match(r"^\d{4}-\d{2}-\d{2}$", n.until):
        raise IntentRefused(device, f"{n.number}: until must be a date")


# ------------------------------------------------------------------ JSON-RPC over HTTP

# The seam where tests put a failing or recording transport: (url, body, headers, timeout)
# → response body. The default is urllib.
Transport = Callable[[str, bytes, Mapping[str, str], float], bytes]


def urllib_transport(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> bytes:
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data: bytes = response.read()
            return data
    except urllib.error.HTTPError as exc:
        # jsonrpcs reports a JSON-RPC error with the same HTTP status (404, 500, ...) and
        # the error document as the body: that is an answer, not an unreachable server
        answer: bytes = exc.read()
        if answer.lstrip().startswith(b"{"):
            return answer
        raise


class RpcRejected(Exception):
    """Kamailio answered with a JSON-RPC error."""

    def __init__(self, method: str, code: int, message: str) -> None:
        super().__init__(f"{method}: {code} {message}")
        self.code = code
        self.message = message


class RpcClient:
    """Kamailio's jsonrpcs module over HTTP (xhttp), one request per call."""

    def __init__(
        self,
        url: str,
        device: str,
        *,
        timeout: float = 2.0,
        transport: Transport = urllib_transport,
        credentials: Credentials | None = None,
    ) -> None:
        self.url = url
        self.device = device
        self.timeout = timeout
        self.transport = transport
        self.headers = {"Content-Type": "application/json"}
        if credentials is not None and credentials.password is not None:
            # for a TLS proxy in front of the RPC port; Kamailio itself trusts 127.0.0.1
            token = f"{credentials.username}:{credentials.password}".encode()
            self.headers["Authorization"] = "Basic " + base64.b64encode(token).decode()
        self._id = 0

    def call(self, method: str, *params: str) -> Any:
        """Return the result, raise RpcRejected on a JSON-RPC error and a temporary
        DriverError when the server cannot be reached or answers garbage."""
        self._id += 1
        body = json.dumps(
            {"jsonrpc": "2.0", "method": method, "params": list(params), "id": self._id}
        ).encode()
        try:
            raw = self.transport(self.url, body, self.headers, self.timeout)
            doc = json.loads(raw.decode())
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise DriverError(self.device, f"JSON-RPC {self.url} unreachable: {exc}") from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise DriverError(self.device, f"{method}: answer is not JSON-RPC") from exc
        if not isinstance(doc, dict):
            raise DriverError(self.device, f"{method}: answer is not JSON-RPC")
        if "error" in doc:
            err = doc["error"] if isinstance(doc["error"], dict) else {}
            raise RpcRejected(method, int(err.get("code", 0)), str(err.get("message", "")))
        return doc.get("result")


# ------------------------------------------------------------------ the driver


@dataclass
class Session:
    """The number database and the server's JSON-RPC, for one apply."""

    db: sqlite3.Connection
    rpc: RpcClient


@dataclass(frozen=True)
class Running:
    """Both copies of the managed numbers, and which handsets to log out are registered."""

    stored: dict[str, Entry]
    live: dict[str, Entry]
    registered: frozenset[str]


@dataclass(frozen=True)
class Step:
    """One write: to the database, to the live table, or a handset logout (`op.number`)."""

    target: Literal["db", "runtime", "logout"]
    op: Operation


def describe(entry: Entry | None) -> str:
    if entry is None:
        return ABSENT
    text = f"{entry.state}, occupier {entry.occupier or '-'}"
    text += f", assignee {entry.assignee}" if entry.assignee else ""
    return text + (f", until {entry.until}" if entry.until else "")


def number_changes(
    running: Running, intended: Mapping[str, Entry], logout: Iterable[str]
) -> tuple[Change, ...]:
    """Per number (the database's state, and the live table's where it differs) and per
    handset still to log out."""
    have: dict[str, str] = {}
    for number in running.stored.keys() | running.live.keys():
        stored = running.stored.get(number)
        text = describe(stored)
        live = running.live.get(number)
        if live != (runtime_view({number: stored})[number] if stored else None):
            text += f" (live table: {describe(live)})"
        have[f"number {number}"] = text
    want = {f"number {n}": describe(e) for n, e in intended.items()}
    owners = {f"number {n}": e.occupier for n, e in {**running.stored, **intended}.items()}
    for number in logout:
        key = f"registration {number}"
        have[key] = "registered" if number in running.registered else "logged out"
        want[key] = "logged out"
    return changes_between(have, want, owners)


class KamailioDriver(TelephonyDriver[Session, Running, Step]):
    """Reconcile a Kamailio number plan: read both copies → remediation → push → verify.

    `db_path` (default: env TENANTRY_KAMAILIO_DB) is the SQLite file the htable loads: the
    driver runs beside Kamailio, whose RPC port listens on the loopback only. `rpc_url`
    (default: env TENANTRY_KAMAILIO_RPC_URL, else ``http://<endpoint.host>:<endpoint.port or
    5080>/RPC``). Numbers not starting with one of `managed_prefixes` are never touched.
    Nothing is written before both copies and the handsets have been read.
    """

    platform = "kamailio"
    verify_temporary = True  # a difference after the push is a concurrent change

    def __init__(
        self,
        db_path: str | Path | None = None,
        *,
        rpc_url: str | None = None,
        timeout: float = 2.0,
        transport: Transport = urllib_transport,
        managed_prefixes: tuple[str, ...] = ("+",),
        htable: str = "numbers",
        location_table: str = "location",
    ) -> None:
        # None: TENANTRY_KAMAILIO_DB at apply time, so the registry can build the driver bare
        self.db_path = None if db_path is None else Path(db_path)
        self.rpc_url = rpc_url
        self.timeout = timeout
        self.transport = transport
        self.managed_prefixes = managed_prefixes
        self.htable = htable
        self.location_table = location_table

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KamailioDriver:
        """``TENANTRY_KAMAILIO_DB`` names the number database; ``TENANTRY_KAMAILIO_RPC_URL``
        (optional) overrides the URL built from the Site's endpoint."""
        env = os.environ if environ is None else environ
        if "TENANTRY_KAMAILIO_DB" not in env:
            raise ConnectError("kamailio", "TENANTRY_KAMAILIO_DB is not set", temporary=False)
        return cls(
            env["TENANTRY_KAMAILIO_DB"], rpc_url=env.get("TENANTRY_KAMAILIO_RPC_URL") or None
        )

    # -- the stages

    def check(self, intent: TelephonyIntent) -> None:
        device = intent.endpoint.name
        for number in intended_table(intent, device):
            if not self._managed(number):
                raise IntentRefused(device, f"{number} is outside the managed prefixes")

    def open(self, intent: TelephonyIntent, credentials: Credentials | None,
             transcript: Transcript) -> Session:
        device = intent.endpoint.name
        path = database_path(self.db_path, "TENANTRY_KAMAILIO_DB", device, "number database")
        rpc = RpcClient(self._url(intent.endpoint), device, timeout=self.timeout,
                        transport=self.transport, credentials=credentials)
        transcript.sessions += 1
        return Session(connect(path, device, "number database", 5.0), rpc)

    def close(self, session: Session) -> None:
        session.db.close()

    def read_running(self, session: Session, intent: TelephonyIntent,
                     transcript: Transcript) -> Running:
        stored = self._read_db(session.db, transcript)
        live = self._read_runtime(session.rpc, transcript)
        logout = dict.fromkeys(intent.logout)
        registered = frozenset(n for n in logout if self._registered(session.rpc, n, transcript))
        if not live and intent.numbers:
            transcript.reads.append("runtime table empty: full re-push")
        return Running(stored, live, registered)

    def diff(self, intent: TelephonyIntent, running: Running) -> Remediation[Step]:
        intended = intended_table(intent, intent.endpoint.name)
        steps = [Step("db", op) for op in remediation(running.stored, intended)]
        steps += [Step("runtime", op)
                  for op in remediation(running.live, runtime_view(intended))]
        steps += [Step("logout", Operation("delete", n))
                  for n in dict.fromkeys(intent.logout) if n in running.registered]
        return Remediation(number_changes(running, intended, intent.logout), tuple(steps))

    def push(self, session: Session, intent: TelephonyIntent, remediation: Remediation[Step],
             transcript: Transcript) -> None:
        """The database in one transaction (old or new, never half), then the runtime; a
        failure in between is repaired by the next run's runtime diff."""
        by_target: dict[str, list[Operation]] = {"db": [], "runtime": [], "logout": []}
        for step in remediation.steps:
            by_target[step.target].append(step.op)
        self._write_db(session.db, by_target["db"], intent.endpoint.name, transcript)
        for op in by_target["runtime"]:
            self._push_runtime(session.rpc, op, transcript)
        for op in by_target["logout"]:
            self._call(session.rpc, transcript, "ul.rm", self.location_table, op.number)

    # -- helpers

    def _managed(self, number: str) -> bool:
        return number.startswith(self.managed_prefixes)

    def _url(self, endpoint: Endpoint) -> str:
        if self.rpc_url:
            return self.rpc_url
        if os.environ.get("TENANTRY_KAMAILIO_RPC_URL"):
            return os.environ["TENANTRY_KAMAILIO_RPC_URL"]
        return f"http://{endpoint.host}:{endpoint.port or DEFAULT_RPC_PORT}/RPC"

    def _read_db(self, db: sqlite3.Connection, t: Transcript) -> dict[str, Entry]:
        try:
            # a table from before `assignee` assigns nothing; the next push widens it
            assignee = "assignee" if "assignee" in columns(db) else "''"
            query = f"SELECT number, state, occupier, until, {assignee} FROM numbers"
            t.reads.append(f"db: {query}")
            rows = db.execute(query).fetchall()
        except sqlite3.Error as exc:
            raise database_error(t.device, "number database", exc) from exc
        return {n: Entry(s, o or "", u, a or "") for n, s, o, u, a in rows if self._managed(n)}

    def _read_runtime(self, rpc: RpcClient, t: Transcript) -> dict[str, Entry]:
        result = self._call(rpc, t, "htable.dump", self.htable, read=True)
        table: dict[str, Entry] = {}
        for bucket in result or []:
            for item in bucket.get("slot", []):
                name, value = str(item.get("name")), str(item.get("value"))
                if self._managed(name):
                    state, _, rest = value.partition(",")
                    occupier, _, assignee = rest.partition(",")
                    table[name] = Entry(state, occupier, None, assignee)
        return table

    def _registered(self, rpc: RpcClient, number: str, t: Transcript) -> bool:
        try:
            self._call(rpc, t, "ul.lookup", self.location_table, number, read=True)
        except DriverError as exc:
            if "not found" in exc.reason.lower():
                return False
            raise
        return True

    def _write_db(
        self, db: sqlite3.Connection, ops: list[Operation], device: str, t: Transcript
    ) -> None:
        if not ops:
            return
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                widened = widen(db)
                if widened:
                    t.commands.append(f"db: widen numbers ({widened})")
                for op in ops:
                    if op.action == "delete":
                        db.execute("DELETE FROM numbers WHERE number = ?", (op.number,))
                    else:
                        state = STATE_OF[op.action]
                        db.execute(
                            "INSERT INTO numbers (number, state, occupier, assignee, until,"
                            " updated_at) VALUES (?, ?, ?, ?, ?, datetime('now'))"
                            " ON CONFLICT(number) DO UPDATE SET state = excluded.state,"
                            " occupier = excluded.occupier, assignee = excluded.assignee,"
                            " until = excluded.until, updated_at = excluded.updated_at",
                            (op.number, state, op.occupier, op.assignee, op.until),
                        )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise database_error(device, "number database", exc, PushError) from exc
        t.commands.extend(f"db: {op}" for op in ops)

    def _push_runtime(self, rpc: RpcClient, op: Operation, t: Transcript) -> None:
        if op.action == "delete":
            try:
                self._call(rpc, t, "htable.delete", self.htable, op.number)
            except DriverError as exc:
                if "key not found" not in exc.reason.lower():  # already gone is fine
                    raise
            return
        self._call(rpc, t, "htable.sets", self.htable, op.number, op.value)

    def _call(
        self, rpc: RpcClient, t: Transcript, method: str, *params: str, read: bool = False
    ) -> Any:
        (t.reads if read else t.commands).append(f"rpc: {method} {' '.join(params)}")
        try:
            return rpc.call(method, *params)
        except RpcRejected as exc:
            # the server understood and refused: retrying the same request will not help
            raise DriverError(
                t.device, f"{method} rejected: {exc.code} {exc.message}", temporary=False
            ) from exc
