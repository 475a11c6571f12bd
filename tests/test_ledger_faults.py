"""Ledger faults (issue 20): every one is one clear line and exit 1 — never a traceback,
never a half-written ledger — and a ledger that is merely empty or old just works.

Each case runs the real commands in-process on a real SQLite file (PostgreSQL faults are in
tests/labs/ledger/test_ledger_faults_postgres.py)."""

from __future__ import annotations

import fcntl
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler.cli import main
from reconciler.ledger import open_ledger
from reconciler.ledger.sql import MIGRATIONS, SCHEMA_VERSION

ROOT = Path(__file__).resolve().parent.parent
REPO = str(ROOT / "desired-state")
TODAY = "2026-11-23"
COMMANDS = {
    "validate": ["validate", REPO, "--today", TODAY],
    "plan": ["plan", REPO, "--today", TODAY],
    "apply": ["apply", REPO, "--today", TODAY],
    "report": ["report", "pools", REPO, "--today", TODAY],
    "ledger-check": ["ledger", "check"],
}


def run(command: str, state: str, tmp: Path, *extra: str) -> Result:
    args = [*COMMANDS[command], "--state", state, *extra]
    if command == "apply":
        args += ["--out", str(tmp / "rendered")]
    return CliRunner().invoke(main, args)


def one_line_failure(result: Result, wanted: str) -> None:
    """Exit 1, one `error:` line that says `wanted`, no traceback."""
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    assert wanted in errors[0], errors[0]
    assert len(errors[0]) < 300, errors[0]


def content(path: Path) -> object:
    """What a file holds: its SQL dump (a WAL checkpoint may move bytes, not rows) and the
    journal mode (switching to WAL would change another application's file), else its bytes."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            mode = conn.execute("PRAGMA journal_mode").fetchone()
            return (mode, list(conn.iterdump()))
    except sqlite3.DatabaseError:
        return path.read_bytes()


def garbage(path: Path) -> None:
    path.write_bytes(b"this is not a database, just bytes\x00\xff" * 200)


def foreign(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO customers VALUES (1, 'ACME')")


def newer(path: Path) -> None:
    open_ledger(str(path))
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value=? WHERE key='schema'", (str(SCHEMA_VERSION + 1),))


FAULTS: dict[str, tuple[Callable[[Path], None], str]] = {
    "garbage-bytes": (garbage, "is not a tenantry ledger"),
    "another-applications-database": (
        foreign,
        "is not a tenantry ledger (it has tables customers)",
    ),
    "newer-schema": (newer, "newer than this tenantry"),
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("fault", FAULTS)
def test_a_bad_ledger_file_is_one_line(tmp_path: Path, fault: str, command: str) -> None:
    ledger = tmp_path / "state.db"
    make, wanted = FAULTS[fault]
    make(ledger)
    before = content(ledger)
    one_line_failure(run(command, str(ledger), tmp_path), wanted)
    assert content(ledger) == before, "the ledger was changed"


@pytest.mark.parametrize("command", ["validate", "plan", "apply", "ledger-check"])
def test_a_directory_as_the_ledger_is_one_line(tmp_path: Path, command: str) -> None:
    one_line_failure(run(command, str(tmp_path), tmp_path), "it is a directory")


def test_a_parent_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    one_line_failure(
        run("apply", str(tmp_path / "file" / "state.db"), tmp_path), "cannot create the ledger's"
    )


def test_a_directory_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    # /proc refuses new files even to root: a read-only place, whoever runs the test
    one_line_failure(run("apply", "/proc/tenantry/state.db", tmp_path), "cannot create")


@pytest.mark.parametrize("command", ["validate", "plan", "apply", "ledger-check"])
def test_an_unknown_url_scheme_is_refused_and_writes_nothing(
    tmp_path: Path, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    one_line_failure(run(command, "mysql://root@127.0.0.1/tenantry", tmp_path), "scheme 'mysql'")
    assert not (tmp_path / "mysql:").exists()


def test_a_dropped_table_is_refused_not_recreated(tmp_path: Path) -> None:
    ledger = tmp_path / "state.db"
    assert run("apply", str(ledger), tmp_path).exit_code == 0
    with sqlite3.connect(ledger) as conn:
        conn.execute("DROP TABLE status")
    one_line_failure(run("apply", str(ledger), tmp_path), "table status is missing")
    one_line_failure(run("plan", str(ledger), tmp_path), "table status is missing")
    with sqlite3.connect(ledger) as conn:
        tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "status" not in tables, "apply recreated the table and lost its history"


@pytest.mark.parametrize(
    "edit",
    ["state = 'weird'", "kind = 'bogus'", "until = 'soon'"],
    ids=["state", "kind", "until"],
)
@pytest.mark.parametrize("command", ["plan", "apply", "report", "ledger-check"])
def test_a_row_edited_by_hand_is_one_line(tmp_path: Path, edit: str, command: str) -> None:
    """A value no tenantry writes (someone edited the ledger with sqlite3): every command,
    `ledger check` first of all, names the row instead of ending in a KeyError."""
    ledger = tmp_path / "state.db"
    assert run("apply", str(ledger), tmp_path).exit_code == 0
    with sqlite3.connect(ledger) as conn:
        conn.execute(f"UPDATE allocation SET {edit} WHERE kind = 'vlan' AND holder = 'acme'")
    before = held(ledger)
    one_line_failure(run(command, str(ledger), tmp_path), "the ledger is damaged: allocation")
    assert held(ledger) == before  # the apply log may note the failed run; nothing else


def held(ledger: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(ledger) as conn:
        return conn.execute("SELECT * FROM allocation ORDER BY site, kind, value").fetchall()


@pytest.mark.parametrize("content", [b"", None], ids=["zero-bytes", "wal-only-no-tables"])
def test_an_empty_or_schema_less_file_is_a_new_ledger(
    tmp_path: Path, content: bytes | None
) -> None:
    """What a `kill -9` in the first second of the first apply leaves behind: every later
    command works, and the next apply builds the schema and converges."""
    ledger = tmp_path / "state.db"
    if content is None:
        sqlite3.connect(ledger).execute("PRAGMA journal_mode=WAL").close()
    else:
        ledger.write_bytes(content)
    for command in ("validate", "plan", "report", "ledger-check"):
        result = run(command, str(ledger), tmp_path)
        assert "Traceback" not in result.output and result.exit_code in (0, 1, 2), result.output
        assert not isinstance(result.exception, sqlite3.Error)
    assert run("plan", str(ledger), tmp_path).exit_code == 2  # changes, nothing written
    assert run("apply", str(ledger), tmp_path).exit_code == 0
    assert run("plan", str(ledger), tmp_path).exit_code == 0
    assert run("ledger-check", str(ledger), tmp_path).exit_code == 0


def test_a_version_1_ledger_is_migrated_keeping_its_history(tmp_path: Path) -> None:
    ledger = tmp_path / "state.db"
    with sqlite3.connect(ledger) as conn:
        for statement in MIGRATIONS[0]:
            conn.execute(statement)
        conn.execute("INSERT INTO meta VALUES ('schema', '1')")
        conn.execute(
            "INSERT INTO status VALUES ('Contract', 'old-line', 'Inactive', 'kept', '2026-01-01')"
        )
    assert run("apply", str(ledger), tmp_path).exit_code == 0
    with sqlite3.connect(ledger) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone() == (
            str(SCHEMA_VERSION),
        )
        assert conn.execute("SELECT reason FROM status WHERE name='old-line'").fetchone() == (
            "kept",
        )
        assert conn.execute("SELECT outcome FROM apply_log").fetchall() == [("done",)]


def test_migrating_twice_or_at_once_is_harmless(tmp_path: Path) -> None:
    location = str(tmp_path / "state.db")
    for _ in range(3):
        ledger = open_ledger(location)
        assert ledger is not None
        ledger.migrate()
    with sqlite3.connect(location) as conn:
        assert conn.execute("SELECT count(*) FROM meta").fetchone() == (1,)


def test_a_writer_holding_the_ledger_too_long_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = tmp_path / "state.db"
    assert run("apply", str(ledger), tmp_path).exit_code == 0
    monkeypatch.setenv("TENANTRY_LEDGER_TIMEOUT", "0.5")
    holder = sqlite3.connect(ledger, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        one_line_failure(run("apply", str(ledger), tmp_path), "locked")
    finally:
        holder.rollback()
        holder.close()


def test_another_apply_holding_the_ledger_too_long_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = tmp_path / "state.db"
    assert run("apply", str(ledger), tmp_path).exit_code == 0
    monkeypatch.setenv("TENANTRY_APPLY_WAIT", "0.5")
    with open(f"{ledger}.lock", "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        one_line_failure(run("apply", str(ledger), tmp_path), "another apply has held")
        # plan and validate only read: they never wait for an apply
        assert run("plan", str(ledger), tmp_path).exit_code == 0


def test_ledger_check_finds_broken_invariants(tmp_path: Path) -> None:
    ledger = tmp_path / "state.db"
    assert run("apply", str(ledger), tmp_path).exit_code == 0
    ok = CliRunner().invoke(main, ["ledger", "check", REPO, "--state", str(ledger)])
    assert ok.exit_code == 0 and "0 problem(s)" in ok.output, ok.output
    with sqlite3.connect(ledger) as conn:
        site, prefix = conn.execute(
            "SELECT site, value FROM allocation WHERE kind='prefix' LIMIT 1"
        ).fetchone()
        inner = prefix.replace(".0/24", ".128/25")
        conn.execute(
            "INSERT INTO allocation VALUES (?, 'prefix', ?, 'ghost', 'held', '', NULL, 'x')",
            (site, inner),
        )
        conn.execute(
            "INSERT INTO allocation VALUES (?, 'port', 'F9-99', '', 'active', '', NULL, 'x')",
            (site,),
        )
    bad = CliRunner().invoke(main, ["ledger", "check", REPO, "--state", str(ledger)])
    assert bad.exit_code == 1
    assert f"overlaps {inner} (ghost)" in bad.output
    assert f"ghost holds values at {site} but is no occupier" in bad.output
    assert f"port F9-99 at {site} is active but has no holder" in bad.output


def test_a_copy_of_the_example_keeps_working(tmp_path: Path) -> None:
    """The quick start, as a control: the faults above are faults, not the normal path."""
    repo = tmp_path / "repo"
    shutil.copytree(REPO, repo)
    result = CliRunner().invoke(
        main,
        [
            "apply",
            str(repo),
            "--today",
            TODAY,
            "--state",
            str(tmp_path / "l.db"),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 0, result.output
