"""Drift on the real Kamailio and FreeRADIUS (issue 15): a number deleted from Kamailio's live
table by hand, a Wi-Fi account inserted straight into FreeRADIUS's tables — `tenantry drift`
exits 2 naming exactly that resource, `tenantry apply` repairs it (the call is answered again,
the account is refused again), and `drift` exits 0. A RADIUS row outside tenantry's groups is
never reported nor touched. The repo, the labs and the CLI runs are those of
test_apply_e2e.py (e2e.Desk)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest

from .e2e import Desk
from .test_apply_e2e import N1, SECRETS, acme_voice, ok
from .test_apply_e2e import desk as desk  # the fixture, re-exported

pytestmark = pytest.mark.lab


def drift(desk: Desk) -> tuple[int, dict[str, Any]]:
    run = desk.cli("drift", str(desk.root), "--drivers", "devices", "--state",
                   str(desk.state), "--format", "json")
    return run.code, json.loads(run.stdout)


def differences(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"device": d["device"], **x} for d in report["devices"] for x in d["differences"]]


def test_kamailio_number_deleted_from_the_live_table(desk: Desk) -> None:
    kam = desk.kamailio
    acme_voice(desk)
    ok(desk.apply())
    assert kam.call(N1, 200).ok
    code, report = drift(desk)
    assert code == 0, report

    kam.rpc("htable.delete", "numbers", N1)  # by hand, on the running server
    assert kam.call(N1, 404).ok, "the number no longer answers"
    code, report = drift(desk)
    assert code == 2, report
    [found] = differences(report)
    assert (found["device"], found["resource"], found["occupier"]) == (
        "lab-sip", f"number {N1}", "acme")
    assert "live table: absent" in found["running"]
    assert found["services"] == ["acme-voice"]

    run = ok(desk.apply())
    assert f"repaired lab-sip number {N1}: " in run.out, str(run)
    assert kam.call(N1, 200).ok, "answered again"
    code, report = drift(desk)
    assert code == 0, report


def test_freeradius_user_row_inserted_by_hand(desk: Desk) -> None:
    rad = desk.radius
    acme_voice(desk)
    ok(desk.apply())
    vlan = desk.vlan_of("acme")
    with sqlite3.connect(rad.db_path) as db:  # someone adds an account straight in RADIUS
        db.execute("INSERT INTO radcheck (username, attribute, op, value) "
                   "VALUES ('mallory', 'Cleartext-Password', ':=', 'letmein')")
        db.execute("INSERT INTO radusergroup (username, groupname, priority) "
                   "VALUES ('mallory', 'occ-acme', 1)")
        # and one in a group tenantry does not manage: never reported, never touched
        db.execute("INSERT INTO radcheck (username, attribute, op, value) "
                   "VALUES ('guest', 'Cleartext-Password', ':=', 'guest-pw')")
        db.execute("INSERT INTO radusergroup (username, groupname, priority) "
                   "VALUES ('guest', 'staff', 1)")
    reply = rad.auth_user("mallory", "letmein")
    assert (reply.code, reply.vlan) == ("Access-Accept", vlan), "in acme's VLAN"

    code, report = drift(desk)
    assert code == 2, report
    [found] = differences(report)
    assert (found["device"], found["resource"], found["intended"], found["occupier"]) == (
        "lab-radius", "user mallory", "absent", "acme")
    assert "in occ-acme" in found["running"] and "letmein" not in found["running"]

    run = ok(desk.apply())
    assert "repaired lab-radius user mallory: " in run.out, str(run)
    assert rad.auth_user("mallory", "letmein").code == "Access-Reject"
    jo = rad.auth_user("jo.acme", SECRETS["acme/jo"])
    assert (jo.code, jo.vlan) == ("Access-Accept", vlan)
    with sqlite3.connect(rad.db_path) as db:
        assert db.execute("SELECT count(*) FROM radusergroup WHERE username='guest'"
                          ).fetchone() == (1,)
    code, report = drift(desk)
    assert code == 0, report
