"""Wi-Fi driver: occupiers' Wi-Fi accounts in FreeRADIUS's SQL tables (rlm_sql on SQLite).

FreeRADIUS runs its SQL queries on every Access-Request, so a committed row counts from the
next packet: no restart, no HUP. The data model is the stock schema, nothing added:

* occupier → group ``<prefix><name>`` in ``radgroupreply`` with the RFC 3580 tunnel
  attributes (Tunnel-Type VLAN, Tunnel-Medium-Type IEEE-802, Tunnel-Private-Group-Id);
* user → ``radcheck`` Cleartext-Password (PEAP-MSCHAPv2 needs it) + ``radusergroup``;
* device → MAC auth: ``radcheck`` Cleartext-Password = the dashed upper-case MAC and
  Calling-Station-Id == the MAC (ties the row to the radio), + ``radusergroup``.

Every group whose name starts with the prefix is managed, with all of its members: rows that
are not intended are deleted, which is how a removed user, device or occupier disappears.
Other groups and their users are never touched. The whole change is one SQLite transaction
(read, diff and write under one write lock), so the server never sees a user without its
VLAN and other occupiers never drop out.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from drivers._sqlite import connect, database_error, database_path
from drivers.base import (
    ConnectError,
    Credentials,
    DriverError,
    IntentRefused,
    PushError,
    ReadError,
    Transcript,
    WifiIntent,
)
from drivers.contract import Change, Remediation, WifiDriver, changes_between

# rlm_sql escapes anything outside its safe_characters as =XX before querying, so a stored
# name with e.g. '+' would never match: refuse such names.
USERNAME = re.compile(r"^[A-Za-z0-9@._:/-]{1,64}$")
GROUP = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MAC = re.compile(
    r"^([0-9a-f]{2})[:.-]?([0-9a-f]{2})[:.-]?([0-9a-f]{2})[:.-]?"
    r"([0-9a-f]{2})[:.-]?([0-9a-f]{2})[:.-]?([0-9a-f]{2})$",
    re.I,
)
TABLES = ("radgroupreply", "radgroupcheck", "radcheck", "radreply", "radusergroup")
GROUP_TABLES = ("radgroupreply", "radgroupcheck")
USER_TABLES = ("radcheck", "radreply", "radusergroup")
COLUMNS = {
    "radgroupreply": ("groupname", "attribute", "op", "value"),
    "radgroupcheck": ("groupname", "attribute", "op", "value"),
    "radcheck": ("username", "attribute", "op", "value"),
    "radreply": ("username", "attribute", "op", "value"),
    "radusergroup": ("username", "groupname", "priority"),
}
SECRET_ENV_PREFIX = "TENANTRY_WIFI_SECRET_"
SECRETS_FILE_ENV = "TENANTRY_WIFI_SECRETS"

Row = tuple[str, ...]
Rows = dict[str, Counter[Row]]  # table → multiset of rows (a table may hold duplicates)


def normalise_mac(mac: str) -> str:
    """Any common spelling → ``02-00-00-00-00-01`` (RFC 3580, what the server's policy
    rewrites every request to)."""
    m = MAC.match(mac.strip())
    if not m:
        raise ValueError(f"not a MAC address: {mac!r}")
    return "-".join(m.groups()).upper()


# ------------------------------------------------------------------ secrets


class SecretStore(Protocol):
    def get(self, ref: str) -> str | None:
        """The secret stored under `ref`, or None."""
        ...


class EnvSecretStore:
    """Passwords from ``TENANTRY_WIFI_SECRET_<REF>`` (REF upper-cased, other characters
    than A-Z 0-9 turned into ``_``) or else from the file named by ``TENANTRY_WIFI_SECRETS``:
    a JSON object ``{ref: password}``, or a directory with one file per ref (a mounted
    Kubernetes Secret). Passwords never live in the desired-state repository."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    @staticmethod
    def env_name(ref: str) -> str:
        return SECRET_ENV_PREFIX + re.sub(r"[^A-Za-z0-9]", "_", ref).upper()

    def get(self, ref: str) -> str | None:
        value = self.environ.get(self.env_name(ref))
        if value is not None:
            return value
        location = self.environ.get(SECRETS_FILE_ENV)
        if not location:
            return None
        path = Path(location)
        if path.is_dir():
            if "/" in ref or ref.startswith("."):
                return None
            file = path / ref
            return file.read_text().rstrip("\n") if file.is_file() else None
        doc = json.loads(path.read_text())
        found = doc.get(ref) if isinstance(doc, dict) else None
        return found if isinstance(found, str) else None


# ------------------------------------------------------------------ the pure part


@dataclass(frozen=True)
class RowOp:
    """One row to insert into or delete from a RADIUS table."""

    action: Literal["insert", "delete"]
    table: str
    row: Row

    def __str__(self) -> str:
        shown = list(self.row)
        if self.table in ("radcheck", "radreply") and shown[1].endswith("-Password"):
            shown[3] = "***"  # never in a transcript or a log
        return f"{self.table} {'+' if self.action == 'insert' else '-'} {' '.join(shown)}"


def remediation(
    running: Mapping[str, Counter[Row]], intended: Mapping[str, Counter[Row]]
) -> list[RowOp]:
    """Row operations turning the managed rows `running` into `intended` (table → rows).

    Pure; deletions first, then insertions, each in table and row order. Applying the result
    to `running` gives `intended`; equal inputs give [].
    """
    deletes: list[RowOp] = []
    inserts: list[RowOp] = []
    for table in TABLES:
        have = running.get(table, Counter())
        want = intended.get(table, Counter())
        for row in sorted((have - want).elements()):
            deletes.append(RowOp("delete", table, row))
        for row in sorted((want - have).elements()):
            inserts.append(RowOp("insert", table, row))
    return deletes + inserts


def apply_operations(running: Mapping[str, Counter[Row]], ops: Iterable[RowOp]) -> Rows:
    """The rows after `ops` (the round trip that tests `remediation`)."""
    rows: Rows = {t: Counter(running.get(t, Counter())) for t in TABLES}
    for op in ops:
        if op.action == "insert":
            rows[op.table][op.row] += 1
        else:
            rows[op.table][op.row] -= 1
    return {t: +c for t, c in rows.items()}


@dataclass(frozen=True)
class Intended:
    """The RADIUS rows an intent means, and the groups and names it manages."""

    rows: Rows
    groups: frozenset[str]  # RADIUS group names
    names: frozenset[str]  # usernames and MACs


def intended_rows(intent: WifiIntent, secrets: SecretStore, prefix: str, device: str) -> Intended:
    """Validate the intent and turn it into rows; passwords are looked up here."""

    def refuse(message: str) -> DriverError:
        return IntentRefused(device, message)

    rows: Rows = {t: Counter() for t in TABLES}
    groups: dict[str, str] = {}
    for g in intent.groups:
        name = prefix + g.name
        if not GROUP.match(name):
            raise refuse(f"bad group name {g.name!r}")
        if g.name in groups:
            raise refuse(f"group {g.name!r} listed twice")
        if not 1 <= g.vlan <= 4094:
            raise refuse(f"group {g.name!r}: VLAN {g.vlan} out of range 1..4094")
        groups[g.name] = name
        rows["radgroupreply"].update(
            [
                (name, "Tunnel-Type", ":=", "VLAN"),
                (name, "Tunnel-Medium-Type", ":=", "IEEE-802"),
                (name, "Tunnel-Private-Group-Id", ":=", str(g.vlan)),
            ]
        )
        if g.disabled:  # Stopped: every member is refused; nothing is deleted
            rows["radgroupcheck"][(name, "Auth-Type", ":=", "Reject")] += 1

    names: set[str] = set()
    for u in intent.users:
        if not USERNAME.match(u.username) or MAC.match(u.username):
            raise refuse(f"bad Wi-Fi username {u.username!r}")
        if u.group not in groups:
            raise refuse(f"user {u.username}: unknown group {u.group!r}")
        if u.username in names:
            raise refuse(f"user {u.username} listed twice")
        try:
            password = secrets.get(u.secret_ref)
        except (OSError, ValueError) as exc:
            raise ConnectError(device, f"secrets store unreadable: {type(exc).__name__}") from exc
        if not password:
            raise refuse(
                f"user {u.username}: no secret {u.secret_ref!r} "
                f"(set {EnvSecretStore.env_name(u.secret_ref)} or {SECRETS_FILE_ENV})"
            )
        names.add(u.username)
        rows["radcheck"][(u.username, "Cleartext-Password", ":=", password)] += 1
        rows["radusergroup"][(u.username, groups[u.group], "1")] += 1

    for d in intent.devices:
        try:
            mac = normalise_mac(d.mac)
        except ValueError as exc:
            raise refuse(str(exc)) from exc
        if d.group not in groups:
            raise refuse(f"device {mac}: unknown group {d.group!r}")
        if mac in names:
            raise refuse(f"MAC {mac} listed twice")  # T3: a MAC is unique per site
        names.add(mac)
        rows["radcheck"].update(
            [(mac, "Cleartext-Password", ":=", mac), (mac, "Calling-Station-Id", "==", mac)]
        )
        rows["radusergroup"][(mac, groups[d.group], "1")] += 1
    return Intended(rows, frozenset(groups.values()), frozenset(names))


def _entities(rows: Mapping[str, Counter[Row]]) -> dict[str, list[tuple[str, Row]]]:
    """Rows by what they belong to: "group occ-acme", "user alice", "user 02-00-…"."""
    found: dict[str, list[tuple[str, Row]]] = {}
    for table in TABLES:
        for row in sorted(rows.get(table, Counter()).elements()):
            key = f"{'group' if table in GROUP_TABLES else 'user'} {row[0]}"
            found.setdefault(key, []).append((table, row))
    return found


def _describe(rows: list[tuple[str, Row]]) -> str:
    """The rows of one group or user, passwords hidden."""
    parts = []
    for table, row in rows:
        if table == "radusergroup":
            parts.append(f"in {row[1]}")
        else:
            value = "***" if row[1].endswith("-Password") else row[3]
            parts.append(f"{row[1]} {row[2]} {value}")
    return "; ".join(parts)


def row_changes(running: Rows, intended: Rows, prefix: str) -> tuple[Change, ...]:
    """Per group and per user or device whose rows differ."""
    have_rows, want_rows = _entities(running), _entities(intended)
    have = {k: _describe(v) for k, v in have_rows.items()}
    want = {k: _describe(v) for k, v in want_rows.items()}
    for key, rows in have_rows.items():
        if rows != want_rows.get(key) and have[key] == want.get(key):
            have[key] += " (another password)"
    owners: dict[str, str] = {}
    for key, rows in [*have_rows.items(), *want_rows.items()]:
        for table, row in rows:
            group = row[0] if table in GROUP_TABLES else row[1] if table == "radusergroup" else ""
            if group.startswith(prefix):
                owners[key] = group[len(prefix):]
    return changes_between(have, want, owners)


# ------------------------------------------------------------------ the driver


@dataclass
class Session:
    """The open database, in a write transaction from the read on; the intended rows (with
    the passwords looked up once)."""

    db: sqlite3.Connection
    want: Intended


@dataclass(frozen=True)
class Running:
    """The RADIUS rows read back, fenced by what was intended."""

    rows: Rows
    want: Intended  # what the read was fenced by (managed groups and names)
    of: WifiIntent | None = None  # the intent `want` was made from


class FreeRadiusDriver(WifiDriver[Session, Running, RowOp]):
    """Reconcile the Wi-Fi accounts of the managed groups in FreeRADIUS's SQLite database.

    `db_path` (default: env TENANTRY_RADIUS_DB) is the file rlm_sql reads. Passwords come
    from `secrets` (default: the environment, see `EnvSecretStore`). Groups are named
    `group_prefix` + the intent's group name, and every group with that prefix is managed.
    Read, diff and push happen in one transaction (no lost update); the rollback is SQL's.
    `credentials` are unused: access is the database file's permissions.
    """

    platform = "freeradius"
    verify_temporary = True  # a difference after the commit is a concurrent change

    def __init__(
        self,
        db_path: str | Path | None = None,
        *,
        secrets: SecretStore | None = None,
        group_prefix: str = "occ-",
        timeout: float = 5.0,
    ) -> None:
        if not group_prefix:
            raise ValueError("group_prefix must not be empty: it fences the managed groups")
        # None: TENANTRY_RADIUS_DB at apply time, so the registry can build the driver bare
        self.db_path = None if db_path is None else Path(db_path)
        self.secrets = secrets if secrets is not None else EnvSecretStore()
        self.group_prefix = group_prefix
        self.timeout = timeout

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FreeRadiusDriver:
        """``TENANTRY_RADIUS_DB`` names the database; secrets from the same environment."""
        env = os.environ if environ is None else environ
        if "TENANTRY_RADIUS_DB" not in env:
            raise ConnectError("freeradius", "TENANTRY_RADIUS_DB is not set", temporary=False)
        return cls(env["TENANTRY_RADIUS_DB"], secrets=EnvSecretStore(env))

    # -- the stages

    def open(self, intent: WifiIntent, credentials: Credentials | None,
             transcript: Transcript) -> Session:
        device = intent.endpoint.name
        want = intended_rows(intent, self.secrets, self.group_prefix, device)
        path = database_path(self.db_path, "TENANTRY_RADIUS_DB", device, "RADIUS database")
        db = connect(path, device, "RADIUS database", self.timeout)
        try:
            db.execute("BEGIN IMMEDIATE")  # read and write under one lock: no lost update
        except sqlite3.Error as exc:
            db.close()
            raise database_error(device, "RADIUS database", exc, ConnectError) from exc
        transcript.sessions += 1
        return Session(db, want)

    def close(self, session: Session) -> None:
        session.db.close()  # an uncommitted transaction is rolled back

    def read_running(self, session: Session, intent: WifiIntent,
                     transcript: Transcript) -> Running:
        try:
            rows = self._read(session.db, session.want, transcript)
        except sqlite3.Error as exc:
            raise database_error(transcript.device, "RADIUS database", exc, ReadError) from exc
        return Running(rows, session.want, intent)

    def diff(self, intent: WifiIntent, running: Running) -> Remediation[RowOp]:
        want = running.want
        if running.of is not None and running.of != intent:  # drift against another intent
            want = intended_rows(intent, self.secrets, self.group_prefix, intent.endpoint.name)
        ops = remediation(running.rows, want.rows)
        changes = row_changes(running.rows, want.rows, self.group_prefix)
        return Remediation(changes, tuple(ops))

    def push(self, session: Session, intent: WifiIntent, remediation: Remediation[RowOp],
             transcript: Transcript) -> None:
        try:
            for op in remediation.steps:
                self._push(session.db, op)
            session.db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise database_error(transcript.device, "RADIUS database", exc, PushError) from exc
        transcript.commands.extend(str(op) for op in remediation.steps)

    def rollback(self, session: Session, intent: WifiIntent, before: Running,
                 error: DriverError, transcript: Transcript) -> None:
        if session.db.in_transaction:
            session.db.execute("ROLLBACK")

    # -- helpers

    def _read(self, db: sqlite3.Connection, want: Intended, t: Transcript) -> Rows:
        """The managed rows: those of groups with the prefix (or intended), and every row of
        their members and of the intended names."""
        like = self.group_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        t.reads.append(f"sql: groups LIKE {like!r} and their members")
        groups = set(want.groups)
        for table in (*GROUP_TABLES, "radusergroup"):
            groups.update(
                r[0]
                for r in db.execute(
                    f"SELECT DISTINCT groupname FROM {table} WHERE groupname LIKE ? ESCAPE '\\'",
                    (like,),
                )
            )
        names = set(want.names)
        for group in groups:
            names.update(
                r[0]
                for r in db.execute(
                    "SELECT username FROM radusergroup WHERE groupname = ?", (group,)
                )
            )
        rows: Rows = {}
        for table in TABLES:
            cols = COLUMNS[table]
            keys = groups if table in GROUP_TABLES else names
            found: Counter[Row] = Counter()
            for key in sorted(keys):
                for r in db.execute(
                    f"SELECT {', '.join(cols)} FROM {table} WHERE {cols[0]} = ?", (key,)
                ):
                    found[tuple(str(v) for v in r)] += 1
            rows[table] = found
        return rows

    @staticmethod
    def _push(db: sqlite3.Connection, op: RowOp) -> None:
        cols = COLUMNS[op.table]
        if op.action == "insert":
            db.execute(
                f"INSERT INTO {op.table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                op.row,
            )
        else:  # one row only: a multiset difference of one
            match = " AND ".join(f"CAST({c} AS TEXT) = ?" for c in cols)
            db.execute(
                f"DELETE FROM {op.table} WHERE id = "
                f"(SELECT id FROM {op.table} WHERE {match} LIMIT 1)",
                op.row,
            )

