"""PostgreSQL ledger faults (issue 20): a server that is down, a URL that does not parse, a
database of another application, a dropped table — one line and exit 1 from every command,
never a traceback and never "busy, retry" for what retrying will not cure."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from reconciler.cli import main
from tests.support.postgres import _free_port
from tests.test_ledger_faults import COMMANDS, one_line_failure, run


@pytest.mark.parametrize("command", COMMANDS)
def test_postgres_down_is_one_line(tmp_path: Path, command: str) -> None:
    url = f"postgresql://postgres@127.0.0.1:{_free_port()}/postgres"
    one_line_failure(run(command, url, tmp_path), "cannot reach PostgreSQL at")


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_an_unparsable_postgres_url_is_one_line(tmp_path: Path, command: str) -> None:
    one_line_failure(
        run(command, "postgresql://postgres@127.0.0.1:99999999/x?sslmode=bogus", tmp_path),
        "PostgreSQL",
    )


def test_a_password_never_appears_in_the_message(tmp_path: Path) -> None:
    url = f"postgresql://tenantry:s3cret@127.0.0.1:{_free_port()}/ledger"
    result = run("plan", url, tmp_path)
    one_line_failure(result, "cannot reach PostgreSQL")
    assert "s3cret" not in result.output


@pytest.mark.parametrize("command", ["validate", "plan", "apply", "ledger-check"])
def test_another_applications_database_is_refused(
    database: str, tmp_path: Path, command: str
) -> None:
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("CREATE TABLE customers (id int PRIMARY KEY)")
    one_line_failure(run(command, database, tmp_path), "is not a tenantry ledger")
    with psycopg.connect(database) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema='public'"
        ).fetchall()
    assert tables == [("customers",)]


def test_a_dropped_table_is_refused_not_recreated(database: str, tmp_path: Path) -> None:
    assert run("apply", database, tmp_path).exit_code == 0
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("DROP TABLE allocation")
    one_line_failure(run("apply", database, tmp_path), "table allocation is missing")
    one_line_failure(run("plan", database, tmp_path), "table allocation is missing")


def test_an_apply_on_an_empty_database_builds_the_schema_once(
    database: str, tmp_path: Path
) -> None:
    assert run("plan", database, tmp_path).exit_code == 2  # changes; nothing written
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT to_regclass('meta')").fetchone() == (None,)
    assert run("apply", database, tmp_path).exit_code == 0
    assert run("plan", database, tmp_path).exit_code == 0
    check = CliRunner().invoke(main, ["ledger", "check", "--state", database])
    assert check.exit_code == 0, check.output
