"""The Kamailio driver against a real Kamailio, with real SIP calls placed by SIPp."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pytest

from drivers.base import DriverError, NumberIntent, TelephonyIntent
from drivers.kamailio import KamailioDriver, Transport, create_schema, urllib_transport
from tests.drivers.test_kamailio_database import BEFORE_ASSIGNEE

from .voicelab import KamailioLab, require

pytestmark = pytest.mark.lab

N1 = "+442079460001"
N2 = "+442079460002"


def intent(
    lab: KamailioLab, *numbers: NumberIntent, logout: tuple[str, ...] = ()
) -> TelephonyIntent:
    return TelephonyIntent(endpoint=lab.endpoint, numbers=numbers, logout=logout)


def active(number: str, occupier: str = "acme") -> NumberIntent:
    return NumberIntent(number=number, state="active", occupier=occupier)


def cooling(number: str, occupier: str = "acme") -> NumberIntent:
    return NumberIntent(number=number, state="cooling-off", occupier=occupier, until="2026-03-01")


def db_rows(lab: KamailioLab) -> dict[str, tuple[str, str]]:
    with sqlite3.connect(lab.db_path) as db:
        rows = db.execute("SELECT number, state, occupier FROM numbers").fetchall()
    return {n: (s, o) for n, s, o in rows}


def test_number_lifecycle_with_real_calls(kamailio_lab: KamailioLab) -> None:
    lab, driver = kamailio_lab, kamailio_lab.driver()
    assert lab.call(N1, 404).ok, "unknown number must get 404 before apply"

    t = driver.apply(intent(lab, active(N1)), None)
    assert t.commands == [
        f"db: activate {N1} occupier=acme",
        f"rpc: htable.sets numbers {N1} active,acme,",
    ]
    call = lab.call(N1, 200)
    assert call.ok, "active number must be answered"
    assert lab.call("02079460001", 200).ok, "national format reaches the same number"
    assert driver.apply(intent(lab, active(N1)), None).commands == [], "second apply sends nothing"

    t = driver.apply(intent(lab, cooling(N1)), None)
    assert t.commands == [
        f"db: cool-off {N1} occupier=acme until 2026-03-01",
        f"rpc: htable.sets numbers {N1} cooling-off,acme,",
    ]
    assert lab.call(N1, 410).ok, "cooling-off number is refused with 410"

    t = driver.apply(intent(lab), None)
    assert t.commands == [f"db: delete {N1}", f"rpc: htable.delete numbers {N1}"]
    assert lab.call(N1, 404).ok, "a number removed from the intent is unknown again"
    assert db_rows(lab) == {}
    # the PBX saw exactly the two answered calls, each tagged with the occupier
    pbx = lab.pbx_log.read_text(errors="replace")
    assert pbx.count("INVITE sip:") == 2
    assert pbx.count("X-Tenant: acme") == 2


def test_only_the_difference_is_pushed(kamailio_lab: KamailioLab) -> None:
    lab, driver = kamailio_lab, kamailio_lab.driver()
    driver.apply(intent(lab, active(N1), active(N2, "globex")), None)
    t = driver.apply(intent(lab, active(N1), cooling(N2, "globex")), None)
    assert all(N1 not in c for c in t.commands), t.commands
    assert lab.call(N1, 200).ok
    assert lab.call(N2, 410).ok


def test_restart_with_database_keeps_the_plan(kamailio_lab: KamailioLab) -> None:
    lab, driver = kamailio_lab, kamailio_lab.driver()
    driver.apply(intent(lab, active(N1), cooling(N2)), None)
    lab.restart()
    assert lab.call(N1, 200).ok, "Kamailio reloads the table from SQLite at start"
    assert lab.call(N2, 410).ok
    assert driver.apply(intent(lab, active(N1), cooling(N2)), None).commands == []


def test_restart_with_empty_table_is_repushed(kamailio_lab: KamailioLab) -> None:
    lab, driver = kamailio_lab, kamailio_lab.driver()
    want = intent(lab, active(N1), cooling(N2))
    driver.apply(want, None)
    lab.restart(load_db=False)  # came up without its database
    assert lab.call(N1, 404).ok, "the restarted server has lost the number"

    t = driver.apply(want, None)
    assert "runtime table empty: full re-push" in t.reads
    assert t.commands == [
        f"rpc: htable.sets numbers {N1} active,acme,",
        f"rpc: htable.sets numbers {N2} cooling-off,acme,",
    ], "the database is already right: only the runtime table is re-pushed"
    assert lab.call(N1, 200).ok
    assert lab.call(N2, 410).ok
    assert driver.apply(want, None).commands == []


def test_logout_removes_the_handset_registration(kamailio_lab: KamailioLab) -> None:
    lab, driver = kamailio_lab, kamailio_lab.driver()
    driver.apply(intent(lab, active(N1)), None)
    assert lab.register(N1), "the digital handset registers"
    assert lab.registered(N1)
    assert lab.call(N1, 200).ok, "calls reach the registered handset"

    t = driver.apply(intent(lab, cooling(N1), logout=(N1,)), None)
    assert f"rpc: ul.rm location {N1}" in t.commands
    assert not lab.registered(N1)
    assert lab.call(N1, 410).ok
    assert driver.apply(intent(lab, cooling(N1), logout=(N1,)), None).commands == []


def test_unreachable_server_is_temporary_and_changes_nothing(kamailio_lab: KamailioLab) -> None:
    lab, driver = kamailio_lab, kamailio_lab.driver()
    driver.apply(intent(lab, active(N1)), None)
    lab.stop()
    with pytest.raises(DriverError) as err:
        driver.apply(intent(lab, active(N1), active(N2)), None)
    assert err.value.temporary
    assert "unreachable" in err.value.reason
    assert db_rows(lab) == {N1: ("active", "acme")}, "nothing written without the server"
    lab.start()
    driver.apply(intent(lab, active(N1), active(N2)), None)
    assert lab.call(N2, 200).ok


def test_failure_mid_push_converges_on_the_next_run(kamailio_lab: KamailioLab) -> None:
    lab = kamailio_lab
    sent: list[str] = []

    def flaky(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> bytes:
        if b"htable.sets" in body:
            sent.append("sets")
            if len(sent) == 2:
                raise ConnectionResetError("connection lost mid-apply")
        return urllib_transport(url, body, headers, timeout)

    transport: Transport = flaky
    want = intent(lab, active(N1), active(N2))
    with pytest.raises(DriverError) as err:
        KamailioDriver(lab.db_path, transport=transport).apply(want, None)
    assert err.value.temporary
    assert lab.call(N1, 200).ok, "the first push reached the server"
    assert lab.call(N2, 404).ok, "the second did not"

    t = lab.driver().apply(want, None)
    assert t.commands == [f"rpc: htable.sets numbers {N2} active,acme,"]
    assert lab.call(N2, 200).ok


def test_rejected_operation_is_permanent(kamailio_lab: KamailioLab) -> None:
    lab = kamailio_lab
    with pytest.raises(DriverError) as err:
        lab.driver(htable="no_such_table").apply(intent(lab, active(N1)), None)
    assert not err.value.temporary
    assert "rejected" in err.value.reason


@pytest.mark.parametrize(
    "bad",
    [
        NumberIntent(number="02079460001", state="active"),
        NumberIntent(number=N1, state="ported"),
        NumberIntent(number=N1, state="active", occupier="acme,evil"),
    ],
)
def test_invalid_intent_is_refused_before_anything_is_sent(
    kamailio_lab: KamailioLab, bad: NumberIntent
) -> None:
    lab = kamailio_lab
    with pytest.raises(DriverError) as err:
        lab.driver().apply(intent(lab, bad), None)
    assert not err.value.temporary
    assert db_rows(lab) == {}


def test_numbers_outside_the_managed_prefixes_are_left_alone(kamailio_lab: KamailioLab) -> None:
    lab = kamailio_lab
    lab.rpc("htable.sets", "numbers", "+33140000000", "active,other-site")
    driver = lab.driver(managed_prefixes=("+44207946",))
    driver.apply(intent(lab, active(N1)), None)
    t = driver.apply(intent(lab), None)
    assert t.commands == [f"db: delete {N1}", f"rpc: htable.delete numbers {N1}"]
    assert lab.call("+33140000000", 200).ok


def test_driver_from_environment(kamailio_lab: KamailioLab) -> None:
    lab = kamailio_lab
    driver = KamailioDriver.from_env({"TENANTRY_KAMAILIO_DB": str(lab.db_path)})
    driver.apply(intent(lab, active(N1)), None)  # RPC URL from the endpoint (host, port)
    assert lab.call(N1, 200).ok
    with pytest.raises(DriverError):
        KamailioDriver.from_env({})


def test_bare_driver_reads_the_environment(
    kamailio_lab: KamailioLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    lab = kamailio_lab
    with pytest.raises(DriverError) as err:
        KamailioDriver().apply(intent(lab, active(N1)), None)
    assert not err.value.temporary and "TENANTRY_KAMAILIO_DB" in err.value.reason
    monkeypatch.setenv("TENANTRY_KAMAILIO_DB", str(lab.db_path))
    KamailioDriver().apply(intent(lab, active(N1)), None)
    assert lab.call(N1, 200).ok


def test_assigned_and_main_numbers_reach_the_server_and_survive_a_restart(
    kamailio_lab: KamailioLab,
) -> None:
    """A user's number and the main number carry their assignee in the live table and the
    database; after a restart Kamailio loads the same values, so nothing is re-pushed."""
    lab, driver = kamailio_lab, kamailio_lab.driver()
    jo = NumberIntent(number=N1, state="active", occupier="acme", assignee="jo")
    main = NumberIntent(number=N2, state="active", occupier="acme", assignee="main")
    t = driver.apply(intent(lab, jo, main), None)
    assert f"rpc: htable.sets numbers {N1} active,acme,jo" in t.commands
    assert f"rpc: htable.sets numbers {N2} active,acme,main" in t.commands
    with sqlite3.connect(lab.db_path) as db:
        assert dict(db.execute("SELECT number, assignee FROM numbers").fetchall()) == {
            N1: "jo",
            N2: "main",
        }
    assert lab.call(N1, 200).ok
    lab.restart(load_db=True)
    assert driver.apply(intent(lab, jo, main), None).commands == []
    # the user leaves: the number stays active for the occupier, unassigned
    t = driver.apply(intent(lab, replace(jo, assignee=""), main), None)
    assert t.commands[-1] == f"rpc: htable.sets numbers {N1} active,acme,"


# The number table as deployments created it before numbers could be suspended (issue 19).
BEFORE_SUSPEND = """
CREATE TABLE numbers (
    number     TEXT PRIMARY KEY NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('active', 'cooling-off')),
    occupier   TEXT NOT NULL DEFAULT '',
    assignee   TEXT NOT NULL DEFAULT '',
    until      TEXT,
    updated_at TEXT NOT NULL DEFAULT (datetime('now'))
)
"""


def test_a_database_from_before_suspend_is_widened_in_place(tmp_path: Path) -> None:
    """A Kamailio whose number table predates `suspended`: the first apply that suspends a
    number widens the table in the same transaction (rows kept), the number answers 480,
    and after a restart Kamailio loads the widened table as it was."""
    lab = KamailioLab(tmp_path, kamailio=require("kamailio"), sipp=require("sipp"))
    with sqlite3.connect(lab.db_path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(BEFORE_SUSPEND)
        db.execute("INSERT INTO numbers (number, state, occupier) VALUES (?, 'active', 'globex')",
                   (N2,))  # fmt: skip
    try:
        lab.start()
        lab.start_pbx()
        assert lab.call(N2, 200).ok, "Kamailio loaded the old table"
        driver = lab.driver()
        stopped = NumberIntent(number=N1, state="suspended", occupier="acme")
        wanted = intent(lab, stopped, active(N2, "globex"))
        t = driver.apply(wanted, None)
        assert t.commands[0] == "db: widen numbers (state may be 'suspended')"
        assert db_rows(lab) == {N1: ("suspended", "acme"), N2: ("active", "globex")}
        assert lab.call(N1, 480).ok, "a suspended number answers Temporarily Unavailable"
        assert lab.call(N2, 200).ok
        with sqlite3.connect(lab.db_path) as db, pytest.raises(sqlite3.IntegrityError):
            db.execute("INSERT INTO numbers (number, state) VALUES ('+442079460009', 'parked')")
        lab.restart()
        assert lab.call(N1, 480).ok and lab.call(N2, 200).ok
        assert driver.apply(wanted, None).commands == [], "converged: nothing widened again"
    finally:
        lab.close()


def test_a_database_from_before_assignee_is_read_and_widened_in_place(tmp_path: Path) -> None:
    """A number table that predates `assignee`: drift reads it (nothing written), the first
    apply widens it in its transaction (rows kept), and after a restart Kamailio loads the
    widened table with the assignee."""
    lab = KamailioLab(tmp_path, kamailio=require("kamailio"), sipp=require("sipp"))
    with sqlite3.connect(lab.db_path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(BEFORE_ASSIGNEE)
        db.execute("INSERT INTO numbers (number, state, occupier) VALUES (?, 'active', 'globex')",
                   (N2,))  # fmt: skip
    try:
        lab.start(load_db=False)  # today's config lists the assignee column the table lacks
        lab.start_pbx()
        driver = lab.driver()
        main = replace(active(N1), assignee="main")
        wanted = intent(lab, main, active(N2, "globex"))
        assert driver.drift(wanted).changes, "read without failing"
        t = driver.apply(wanted, None)
        assert t.commands[0] == "db: widen numbers (state may be 'suspended', adds assignee)"
        assert db_rows(lab) == {N1: ("active", "acme"), N2: ("active", "globex")}
        with sqlite3.connect(lab.db_path) as db:
            assert db.execute(
                "SELECT assignee FROM numbers WHERE number = ?", (N1,)
            ).fetchone() == ("main",)
        lab.restart(load_db=True)
        assert lab.call(N1, 200).ok and lab.call(N2, 200).ok
        assert driver.apply(wanted, None).commands == [], "converged: nothing widened again"
    finally:
        lab.close()


def test_create_schema_widens_an_old_table(tmp_path: Path) -> None:
    """Re-running the deployment's set-up on an old database widens it too, rows kept."""
    path = tmp_path / "numbers.db"
    with sqlite3.connect(path) as db:
        db.execute(BEFORE_SUSPEND)
        db.execute("INSERT INTO numbers (number, state) VALUES (?, 'cooling-off')", (N1,))
    create_schema(path)
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO numbers (number, state) VALUES (?, 'suspended')", (N2,))
        rows = dict(db.execute("SELECT number, state FROM numbers").fetchall())
    assert rows == {N1: "cooling-off", N2: "suspended"}
