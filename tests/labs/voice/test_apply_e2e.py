"""Issue 8 end to end: the real `tenantry apply` CLI (a subprocess) on a mini desired-state
repo whose Site points its telephony at a real Kamailio and its Wi-Fi at a real FreeRADIUS;
every outcome is checked with a real SIP call (SIPp) or a real Access-Request (radclient).

The repo (see e2e.py): one site with number block +442079460001..09 and 30 days of cooling-off,
a catalogue of voice-line (1 number), wifi-user (1 account) and wifi-device (1 MAC), and
occupiers written one file each. Today is 2026-03-02, so a number released today cools off
until 2026-04-01.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from . import voicelab
from .e2e import TODAY, Desk, Occ, Run
from .voicelab import KamailioLab, RadiusLab

pytestmark = pytest.mark.lab

N1, N2, N3 = "+442079460001", "+442079460002", "+442079460003"
UNTIL = "2026-04-01"  # TODAY + 30 days
AFTER_COOLING = date(2026, 4, 2)
PRINTER = "02:00:5e:10:00:01"
PRINTER_RADIUS = "02-00-5E-10-00-01"  # how a NAS sends it (RFC 3580)
SECRETS = {"acme/jo": "jo-secret-1", "acme/sam": "sam-secret-2", "globex/ann": "ann-secret-3"}


def user(name: str, occupier: str, wifi: bool = True) -> dict[str, object]:
    return {"name": name, "email": f"{name}@{occupier}.example", "wifi": wifi}


@pytest.fixture
def desk(tmp_path: Path, kamailio_lab: KamailioLab, radius_lab: RadiusLab) -> Iterator[Desk]:
    desk = Desk(tmp_path, kamailio_lab, radius_lab, SECRETS)
    yield desk
    timings = ", ".join(f"{r.argv[0]} {r.seconds:.2f}s" for r in desk.runs)
    print(f"\nCLI runs: {timings}")


def ok(run: Run) -> Run:
    assert run.code == 0, str(run)
    assert run.applied["failed"] == 0, str(run)
    return run


def assert_converged(desk: Desk, today: date = TODAY) -> None:
    """Idempotence: a second apply sends nothing to either server and `plan` sees nothing."""
    before = desk.server_state()
    again = ok(desk.apply(today))
    assert again.applied == {
        "allocated": 0,
        "released": 0,
        "commands": 0,
        "devices": 2,
        "failed": 0,
    }, str(again)
    assert desk.server_state() == before
    plan, doc = desk.plan(today)
    assert plan.code == 0, str(plan)
    assert doc is not None and doc["allocate"] == doc["release"] == doc["devices"] == []


def finding_at(run: Run, desk: Desk, rule: str, occupier: str, text: str) -> None:
    """The CLI names the rule and the file:line of `text` in the occupier's file."""
    line = desk.line_of(occupier, text)
    where = re.escape(f"{occupier}.yaml:{line}:")
    assert re.search(rf"{where}\d+: error\[{rule}\]", run.out), f"{rule} at line {line}:\n{run}"


def acme_voice(desk: Desk) -> Occ:
    return desk.add(
        Occ(
            "acme",
            "Acme Widgets Ltd",
            users=[user("jo", "acme")],
            numbers=[N1],
            services={"acme-voice": ("voice-line", 1), "acme-wifi": ("wifi-user", 1)},
        )
    )


# ------------------------------------------------------------------------------ telephony


def test_number_answered_then_cooling_off_then_reallocated(desk: Desk) -> None:
    kam = desk.kamailio
    acme = acme_voice(desk)
    assert kam.call(N1, 404).ok, "before apply the number is unknown: 404"

    ok(desk.apply())
    assert desk.ledger() == {N1: ("acme", "active", None)}
    assert kam.call(N1, 200).ok, "after apply the call is answered"
    assert "X-Tenant: acme" in kam.pbx_log.read_text(errors="replace")
    assert_converged(desk)

    # the number is deactivated and the voice service removed, in one change
    acme.numbers = []
    del acme.services["acme-voice"]
    run = ok(desk.apply())
    assert run.applied["released"] == 1, str(run)
    assert desk.ledger() == {N1: ("", "cooling-off", UNTIL)}
    assert kam.call(N1, 410).ok, "a released number is refused (cooling-off)"
    assert_converged(desk)

    # not handed to another occupier before the cooling-off date ...
    globex = desk.add(Occ("globex", "Globex Corp", services={"globex-voice": ("voice-line", 1)}))
    plan, doc = desk.plan()
    assert plan.code == 2, str(plan)
    assert doc is not None
    numbers = [a for a in doc["allocate"] if a["kind"] == "number"]
    assert [(a["value"], a["occupier"], a["state"]) for a in numbers] == [
        (N2, "globex", "active")
    ], numbers
    # ... not even when it asks for it by name
    globex.numbers = [N1]
    before = desk.server_state()
    refused = desk.apply()
    assert refused.code == 1, str(refused)
    assert f"{N1} cannot be activated for globex: it is in cooling-off until {UNTIL}" in (
        refused.out
    )
    assert "nothing applied" in refused.out
    assert desk.server_state() == before
    assert desk.ledger() == {N1: ("", "cooling-off", UNTIL)}

    globex.numbers = []
    ok(desk.apply())
    assert desk.ledger() == {N1: ("", "cooling-off", UNTIL), N2: ("globex", "active", None)}
    assert kam.call(N2, 200).ok
    assert kam.call(N1, 410).ok, "still cooling off"
    assert_converged(desk)

    # past the cooling-off date the number is free again, in the same run
    globex.services["globex-voice"] = ("voice-line", 2)
    plan, doc = desk.plan(AFTER_COOLING)
    assert doc is not None, str(plan)
    assert [(a["value"], a["occupier"], a["role"]) for a in doc["allocate"]] == [
        (N1, "globex", "")
    ], str(plan)
    ok(desk.apply(AFTER_COOLING))
    assert desk.ledger() == {N1: ("globex", "active", None), N2: ("globex", "active", None)}
    assert kam.call(N1, 200).ok, "reallocated after the cooling-off date"
    assert kam.pbx_log.read_text(errors="replace").count("X-Tenant: globex") == 2
    assert_converged(desk, AFTER_COOLING)


def test_cooling_off_ends_without_a_new_holder(desk: Desk) -> None:
    """A number whose cooling-off ends and that nobody takes is unknown again (404), also at
    a site where nobody holds anything any more."""
    kam = desk.kamailio
    acme = acme_voice(desk)
    ok(desk.apply())
    acme.numbers, acme.services, acme.users = [], {}, []
    ok(desk.apply())
    assert desk.ledger() == {N1: ("", "cooling-off", UNTIL)}
    assert kam.call(N1, 410).ok

    ok(desk.apply(AFTER_COOLING))
    assert desk.ledger() == {}
    assert kam.call(N1, 404).ok
    assert_converged(desk, AFTER_COOLING)


# ------------------------------------------------------------------------------ decommission


def test_decommission_refuses_the_number_and_rejects_the_wifi_user(desk: Desk) -> None:
    kam, rad = desk.kamailio, desk.radius
    acme = acme_voice(desk)
    acme.devices = [{"name": "printer", "mac": PRINTER}]
    acme.services["acme-printer"] = ("wifi-device", 1)
    desk.add(
        Occ(
            "globex",
            "Globex Corp",
            [user("ann", "globex")],
            services={"globex-wifi": ("wifi-user", 1)},
        )
    )
    ok(desk.apply())
    acme_vlan, globex_vlan = desk.vlan_of("acme"), desk.vlan_of("globex")
    assert kam.call(N1, 200).ok
    jo = rad.auth_user("jo.acme", SECRETS["acme/jo"])
    assert (jo.code, jo.vlan) == ("Access-Accept", acme_vlan)
    printer = rad.auth_mac(PRINTER_RADIUS)
    assert (printer.code, printer.vlan) == ("Access-Accept", acme_vlan)

    acme.decommission = True
    ok(desk.apply())
    assert desk.ledger() == {N1: ("", "cooling-off", UNTIL)}
    assert all(h != "acme" for h, _, _ in desk.ledger("vlan").values())
    assert kam.call(N1, 410).ok, "a decommissioned occupier's number is in cooling-off"
    assert rad.auth_user("jo.acme", SECRETS["acme/jo"]).code == "Access-Reject"
    assert rad.auth_mac(PRINTER_RADIUS).code == "Access-Reject"
    ann = rad.auth_user("ann.globex", SECRETS["globex/ann"])
    assert (ann.code, ann.vlan) == ("Access-Accept", globex_vlan), "other occupiers stay"
    assert_converged(desk)

    # the number is not handed to another occupier before the cooling-off date
    desk.occupiers["globex"].services["globex-voice"] = ("voice-line", 1)
    ok(desk.apply())
    assert desk.ledger() == {N1: ("", "cooling-off", UNTIL), N2: ("globex", "active", None)}
    assert kam.call(N1, 410).ok
    assert kam.call(N2, 200).ok
    assert_converged(desk)


def test_decommission_logs_digital_handsets_out_on_its_date(desk: Desk) -> None:
    """D2: a logged-in digital handset is logged out remotely (its registration removed),
    on the decommission date and not before."""
    kam = desk.kamailio
    acme = acme_voice(desk)
    acme.logged_in = (N1,)
    ok(desk.apply())
    assert kam.register(N1) and kam.registered(N1)

    acme.decommission, acme.decommission_at = True, date(2026, 3, 10)
    ok(desk.apply())
    assert kam.registered(N1), "logged out before the decommission date"
    assert kam.call(N1, 200).ok
    assert_converged(desk)

    on_the_day = date(2026, 3, 10)
    ok(desk.apply(on_the_day))
    assert not kam.registered(N1)
    assert desk.ledger() == {N1: ("", "cooling-off", "2026-04-09")}
    assert kam.call(N1, 410).ok
    assert_converged(desk, on_the_day)


def test_restarted_kamailio_without_its_table_is_repaired_by_apply(desk: Desk) -> None:
    kam = desk.kamailio
    acme_voice(desk)
    ok(desk.apply())
    kam.restart()  # with its database: the plan survives without tenantry
    assert kam.call(N1, 200).ok
    kam.restart(load_db=False)  # lost its table
    assert kam.call(N1, 404).ok
    run = ok(desk.apply())
    assert run.applied["commands"] == 1, str(run)  # the runtime table only
    assert kam.call(N1, 200).ok
    assert_converged(desk)


# ------------------------------------------------------------------------------ Wi-Fi


def test_wifi_users_and_devices_get_the_occupier_vlan(desk: Desk) -> None:
    rad = desk.radius
    acme = desk.add(
        Occ(
            "acme",
            "Acme Widgets Ltd",
            users=[user("jo", "acme"), user("sam", "acme"), user("lee", "acme", wifi=False)],
            devices=[{"name": "printer", "mac": PRINTER}],
            services={"acme-wifi": ("wifi-user", 2), "acme-printer": ("wifi-device", 1)},
        )
    )
    assert rad.auth_user("jo.acme", SECRETS["acme/jo"]).code == "Access-Reject"
    ok(desk.apply())
    vlan = desk.vlan_of("acme")
    for name in ("jo", "sam"):
        reply = rad.auth_user(f"{name}.acme", SECRETS[f"acme/{name}"])
        assert (reply.code, reply.vlan) == ("Access-Accept", vlan), name
    assert rad.auth_user("jo.acme", "wrong").code == "Access-Reject"
    assert rad.auth_user("lee.acme", "anything").code == "Access-Reject", "no Wi-Fi declared"
    printer = rad.auth_mac(PRINTER_RADIUS)
    assert (printer.code, printer.vlan) == ("Access-Accept", vlan)
    assert rad.auth_mac("02-00-5E-10-00-99").code == "Access-Reject", "undeclared MAC"
    assert_converged(desk)

    # a removed user and a removed device are rejected; the others stay
    acme.users = [u for u in acme.users if u["name"] != "sam"]
    acme.services["acme-wifi"] = ("wifi-user", 1)
    acme.devices = []
    del acme.services["acme-printer"]
    ok(desk.apply())
    assert rad.auth_user("sam.acme", SECRETS["acme/sam"]).code == "Access-Reject"
    assert rad.auth_mac(PRINTER_RADIUS).code == "Access-Reject"
    jo = rad.auth_user("jo.acme", SECRETS["acme/jo"])
    assert (jo.code, jo.vlan) == ("Access-Accept", vlan)
    assert_converged(desk)


def test_missing_wifi_secret_fails_that_device_only_and_the_next_apply_converges(
    desk: Desk,
) -> None:
    rad = desk.radius
    acme = acme_voice(desk)
    acme.users.append(user("sam", "acme"))
    acme.services["acme-wifi"] = ("wifi-user", 2)
    del desk.secrets["acme/sam"]
    run = desk.apply()
    assert run.code == 1, str(run)
    assert "FAILED lab-radius: user sam.acme: no secret 'acme/sam'" in run.out, str(run)
    assert "TENANTRY_WIFI_SECRET_ACME_SAM" in run.out
    assert run.applied["failed"] == 1
    assert desk.kamailio.call(N1, 200).ok, "the SIP server is configured regardless"
    assert rad.auth_user("jo.acme", SECRETS["acme/jo"]).code == "Access-Reject", "nothing half"

    desk.secrets["acme/sam"] = SECRETS["acme/sam"]
    run = ok(desk.apply())
    assert all(password not in run.out for password in SECRETS.values())
    for name in ("jo", "sam"):
        reply = rad.auth_user(f"{name}.acme", SECRETS[f"acme/{name}"])
        assert (reply.code, reply.vlan) == ("Access-Accept", desk.vlan_of("acme")), name
    assert_converged(desk)


# ------------------------------------------------------------------------------ S7


def test_s7_more_than_allocated_is_refused_before_any_server_is_touched(desk: Desk) -> None:
    kam, rad = desk.kamailio, desk.radius
    acme = acme_voice(desk)
    acme.devices = [{"name": "printer", "mac": PRINTER}]
    acme.services["acme-printer"] = ("wifi-device", 1)
    ok(desk.apply())
    servers, ledger = desk.server_state(), desk.ledger()

    def refused(what: str, text: str) -> Run:
        run = desk.apply()
        assert run.code == 1, str(run)
        assert "Applied:" not in run.out, str(run)
        finding_at(run, desk, "S7", "acme", text)
        assert desk.server_state() == servers, f"{what}: a server was changed"
        assert desk.ledger() == ledger, f"{what}: the ledger was changed"
        return run

    acme.numbers = [N1, N2]  # two numbers, one voice line
    run = refused("numbers", N2)
    assert "telephony 2/1 for acme" in run.out, str(run)
    assert kam.call(N2, 404).ok
    acme.numbers = [N1]

    acme.users = [user("jo", "acme"), user("sam", "acme")]  # two Wi-Fi users, one allocated
    run = refused("users", "- name: jo")  # S7 points at the users list (its first item)
    assert "Wi-Fi users 2/1 for acme" in run.out, str(run)
    assert rad.auth_user("sam.acme", SECRETS["acme/sam"]).code == "Access-Reject"
    acme.users = [user("jo", "acme")]

    acme.devices.append({"name": "display", "mac": "02:00:5e:10:00:02"})
    run = refused("devices", "name: display")
    assert "Wi-Fi devices 2/1 for acme" in run.out, str(run)
    assert rad.auth_mac("02-00-5E-10-00-02").code == "Access-Reject"
    acme.devices = acme.devices[:1]

    assert kam.call(N1, 200).ok
    assert_converged(desk)


# ------------------------------------------------------------------------------ CI


def test_missing_lab_component_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """The e2e tests need kamailio, sipp, freeradius and radclient; with CI=true a missing
    one fails the run instead of skipping it."""
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(voicelab, "SBIN", ())
    for binary in ("kamailio", "sipp", "freeradius", "radclient"):
        with pytest.raises(pytest.fail.Exception, match=f"{binary} not installed"):
            voicelab.require(binary)


def test_stopped_occupier_is_suspended_and_resumed(desk: Desk) -> None:
    """Issue 19 (Splynx Stopped): the number answers 480 and the Wi-Fi user and device are
    refused while the occupier is Stopped; nothing is released; removing the status restores
    both on the next apply."""
    kam, rad = desk.kamailio, desk.radius
    acme = acme_voice(desk)
    acme.devices = [{"name": "printer", "mac": PRINTER}]
    acme.services["acme-printer"] = ("wifi-device", 1)
    ok(desk.apply())
    held = (desk.ledger(), desk.ledger("vlan"))
    assert kam.call(N1, 200).ok

    acme.stopped = True
    ok(desk.apply())
    assert (desk.ledger(), desk.ledger("vlan")) == held, "nothing released"
    assert kam.call(N1, 480).ok, "a suspended number answers Temporarily Unavailable"
    assert rad.auth_user("jo.acme", SECRETS["acme/jo"]).code == "Access-Reject"
    assert rad.auth_mac(PRINTER_RADIUS).code == "Access-Reject"
    assert_converged(desk)

    acme.stopped = False
    ok(desk.apply())
    assert (desk.ledger(), desk.ledger("vlan")) == held
    assert kam.call(N1, 200).ok, "resumed: the call is answered again"
    jo = rad.auth_user("jo.acme", SECRETS["acme/jo"])
    assert (jo.code, jo.vlan) == ("Access-Accept", desk.vlan_of("acme"))
    assert rad.auth_mac(PRINTER_RADIUS).code == "Access-Accept"
    assert_converged(desk)
