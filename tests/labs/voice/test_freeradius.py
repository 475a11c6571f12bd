"""The FreeRADIUS driver against a real FreeRADIUS, with real Access-Requests (radclient) and
a real PEAP-MSCHAPv2 login (eapol_test)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from drivers.base import DriverError, WifiDeviceIntent, WifiGroupIntent, WifiIntent, WifiUserIntent
from drivers.freeradius import EnvSecretStore

from .voicelab import DictSecrets, RadiusLab, require

pytestmark = pytest.mark.lab

SECRETS = DictSecrets({"alice-wifi": "correct-horse", "bob-wifi": "b0b-pass", "carol": "c4rol"})
MAC = "02-00-00-00-00-01"


def wifi(
    lab: RadiusLab,
    groups: dict[str, int],
    users: dict[str, tuple[str, str]] | None = None,
    devices: dict[str, str] | None = None,
) -> WifiIntent:
    """groups: name → VLAN; users: username → (group, secret ref); devices: MAC → group."""
    return WifiIntent(
        endpoint=lab.endpoint,
        groups=tuple(WifiGroupIntent(n, v) for n, v in groups.items()),
        users=tuple(WifiUserIntent(u, g, ref) for u, (g, ref) in (users or {}).items()),
        devices=tuple(WifiDeviceIntent(m, g) for m, g in (devices or {}).items()),
    )


def two_occupiers(lab: RadiusLab, acme_vlan: int = 101) -> WifiIntent:
    return wifi(
        lab,
        {"acme": acme_vlan, "globex": 202},
        {"alice": ("acme", "alice-wifi"), "bob": ("globex", "bob-wifi")},
        {MAC: "acme"},
    )


def test_users_and_devices_get_their_occupier_vlan(radius_lab: RadiusLab) -> None:
    lab, driver = radius_lab, radius_lab.driver(SECRETS)
    assert lab.auth_user("alice", "correct-horse").code == "Access-Reject", "not declared yet"

    t = driver.apply(two_occupiers(lab), None)
    assert t.commands, "first apply writes rows"
    assert all("correct-horse" not in c and "b0b-pass" not in c for c in t.commands)

    alice = lab.auth_user("alice", "correct-horse")
    assert (alice.code, alice.vlan) == ("Access-Accept", "101")
    bob = lab.auth_user("bob", "b0b-pass")
    assert (bob.code, bob.vlan) == ("Access-Accept", "202")
    assert lab.auth_user("alice", "wrong").code == "Access-Reject"

    for spelling in ("020000000001", "02:00:00:00:00:01", "0200.0000.0001", MAC):
        device = lab.auth_mac(spelling)
        assert (device.code, device.vlan) == ("Access-Accept", "101"), spelling
    assert lab.auth_mac("02:00:00:00:00:99").code == "Access-Reject", "undeclared MAC"
    assert lab.auth_mac(MAC, station="02:00:00:00:00:99").code == "Access-Reject", "other radio"

    assert driver.apply(two_occupiers(lab), None).commands == [], "second apply sends nothing"


def test_removed_user_and_device_are_rejected(radius_lab: RadiusLab) -> None:
    lab, driver = radius_lab, radius_lab.driver(SECRETS)
    driver.apply(two_occupiers(lab), None)
    t = driver.apply(wifi(lab, {"acme": 101, "globex": 202}, {"bob": ("globex", "bob-wifi")}), None)
    assert sorted(c.split()[:3] for c in t.commands) == [
        ["radcheck", "-", MAC],
        ["radcheck", "-", MAC],
        ["radcheck", "-", "alice"],
        ["radusergroup", "-", MAC],
        ["radusergroup", "-", "alice"],
    ]
    assert lab.auth_user("alice", "correct-horse").code == "Access-Reject"
    assert lab.auth_mac(MAC).code == "Access-Reject"
    assert lab.auth_user("bob", "b0b-pass").vlan == "202", "the other occupier is unaffected"


def test_changing_one_occupier_leaves_the_other_alone(radius_lab: RadiusLab) -> None:
    lab, driver = radius_lab, radius_lab.driver(SECRETS)
    driver.apply(two_occupiers(lab), None)
    changed = wifi(
        lab,
        {"acme": 111, "globex": 202},
        {
            "alice": ("acme", "alice-wifi"),
            "carol": ("acme", "carol"),
            "bob": ("globex", "bob-wifi"),
        },
        {MAC: "acme"},
    )
    t = driver.apply(changed, None)
    assert t.commands
    assert all("globex" not in c and "bob" not in c for c in t.commands), t.commands
    assert lab.auth_mac(MAC).vlan == "111", "a VLAN change reaches the occupier's devices at once"
    assert lab.auth_user("carol", "c4rol").vlan == "111"
    assert lab.auth_user("bob", "b0b-pass").vlan == "202"


def test_removed_occupier_loses_every_account(radius_lab: RadiusLab) -> None:
    lab, driver = radius_lab, radius_lab.driver(SECRETS)
    driver.apply(two_occupiers(lab), None)
    driver.apply(wifi(lab, {"globex": 202}, {"bob": ("globex", "bob-wifi")}), None)
    assert lab.auth_user("alice", "correct-horse").code == "Access-Reject"
    assert lab.auth_mac(MAC).code == "Access-Reject"
    with sqlite3.connect(lab.db_path) as db:
        assert db.execute(
            "SELECT count(*) FROM radgroupreply WHERE groupname='occ-acme'"
        ).fetchone() == (0,)
    assert lab.auth_user("bob", "b0b-pass").vlan == "202"


def test_peap_login_gets_the_vlan(radius_lab: RadiusLab) -> None:
    eapol_test = require("eapol_test")
    lab = radius_lab
    lab.driver(SECRETS).apply(two_occupiers(lab), None)
    ok, vlan = lab.peap(eapol_test, "alice", "correct-horse")
    assert ok
    assert vlan == "101"


def test_groups_outside_the_prefix_are_never_touched(radius_lab: RadiusLab) -> None:
    lab = radius_lab
    with sqlite3.connect(lab.db_path) as db:
        db.executemany(
            "INSERT INTO radgroupreply (groupname, attribute, op, value)"
            " VALUES ('staff', ?, ':=', ?)",
            [
                ("Tunnel-Type", "VLAN"),
                ("Tunnel-Medium-Type", "IEEE-802"),
                ("Tunnel-Private-Group-Id", "5"),
            ],
        )
        db.execute(
            "INSERT INTO radcheck (username, attribute, op, value)"
            " VALUES ('ops', 'Cleartext-Password', ':=', 'pw')"
        )
        db.execute(
            "INSERT INTO radusergroup (username, groupname, priority) VALUES ('ops', 'staff', 1)"
        )
    driver = lab.driver(SECRETS)
    driver.apply(two_occupiers(lab), None)
    driver.apply(wifi(lab, {}), None)  # nothing intended: every managed row goes
    assert lab.auth_user("alice", "correct-horse").code == "Access-Reject"
    assert lab.auth_user("ops", "pw").vlan == "5"


def test_passwords_from_environment_and_secrets_file(radius_lab: RadiusLab, tmp_path: Path) -> None:
    lab = radius_lab
    secrets_file = tmp_path / "wifi-secrets.json"
    secrets_file.write_text(json.dumps({"bob-wifi": "from-file"}))
    env = {
        "TENANTRY_WIFI_SECRET_ALICE_WIFI": "from-env",
        "TENANTRY_WIFI_SECRETS": str(secrets_file),
    }
    lab.driver(EnvSecretStore(env)).apply(two_occupiers(lab), None)
    assert lab.auth_user("alice", "from-env").vlan == "101"
    assert lab.auth_user("bob", "from-file").vlan == "202"


def test_missing_secret_is_permanent_and_writes_nothing(radius_lab: RadiusLab) -> None:
    lab = radius_lab
    with pytest.raises(DriverError) as err:
        lab.driver(DictSecrets({"bob-wifi": "b0b-pass"})).apply(two_occupiers(lab), None)
    assert not err.value.temporary
    assert (
        "alice-wifi" in err.value.reason and "TENANTRY_WIFI_SECRET_ALICE_WIFI" in err.value.reason
    )
    assert lab.auth_user("bob", "b0b-pass").code == "Access-Reject", "nothing was written"


def test_failure_mid_apply_leaves_the_old_state_then_converges(radius_lab: RadiusLab) -> None:
    lab, driver = radius_lab, radius_lab.driver(SECRETS)
    driver.apply(wifi(lab, {"globex": 202}, {"bob": ("globex", "bob-wifi")}), None)
    with sqlite3.connect(lab.db_path) as db:  # the database refuses one of the rows
        db.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON radusergroup WHEN NEW.username = 'carol'"
            " BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END"
        )
    want = wifi(
        lab,
        {"acme": 101, "globex": 202},
        {
            "alice": ("acme", "alice-wifi"),
            "carol": ("acme", "carol"),
            "bob": ("globex", "bob-wifi"),
        },
    )
    with pytest.raises(DriverError) as err:
        driver.apply(want, None)
    assert not err.value.temporary
    assert lab.auth_user("alice", "correct-horse").code == "Access-Reject", "rolled back"
    assert lab.auth_user("bob", "b0b-pass").vlan == "202", "old state intact"

    with sqlite3.connect(lab.db_path) as db:
        db.execute("DROP TRIGGER refuse")
    driver.apply(want, None)
    assert lab.auth_user("alice", "correct-horse").vlan == "101"
    assert lab.auth_user("carol", "c4rol").vlan == "101"
    assert driver.apply(want, None).commands == []


def test_locked_database_is_temporary(radius_lab: RadiusLab) -> None:
    lab = radius_lab
    holder = sqlite3.connect(lab.db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(DriverError) as err:
            lab.driver(SECRETS, timeout=0.2).apply(two_occupiers(lab), None)
        assert err.value.temporary
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_missing_database_is_permanent(radius_lab: RadiusLab, tmp_path: Path) -> None:
    from drivers.freeradius import FreeRadiusDriver

    with pytest.raises(DriverError) as err:
        FreeRadiusDriver(tmp_path / "nope.sqlite", secrets=SECRETS).apply(
            two_occupiers(radius_lab), None
        )
    assert not err.value.temporary
    assert not (tmp_path / "nope.sqlite").exists(), "never invents a database"


@pytest.mark.parametrize(
    "bad",
    [
        {"groups": {"acme": 5000}},
        {"groups": {"acme": 101}, "users": {"carol+wifi": ("acme", "carol")}},
        {"groups": {"acme": 101}, "users": {"alice": ("nobody", "alice-wifi")}},
        {"groups": {"acme": 101}, "devices": {"not-a-mac": "acme"}},
    ],
)
def test_invalid_intent_is_refused(
    radius_lab: RadiusLab, bad: dict[str, dict[str, object]]
) -> None:
    lab = radius_lab
    intent = wifi(lab, bad["groups"], bad.get("users"), bad.get("devices"))  # type: ignore[arg-type]
    with pytest.raises(DriverError) as err:
        lab.driver(SECRETS).apply(intent, None)
    assert not err.value.temporary


def test_driver_from_environment(radius_lab: RadiusLab) -> None:
    from drivers.freeradius import FreeRadiusDriver

    lab = radius_lab
    env = {
        "TENANTRY_RADIUS_DB": str(lab.db_path),
        "TENANTRY_WIFI_SECRET_ALICE_WIFI": "pw-a",
        "TENANTRY_WIFI_SECRET_BOB_WIFI": "pw-b",
    }
    FreeRadiusDriver.from_env(env).apply(two_occupiers(lab), None)
    assert lab.auth_user("alice", "pw-a").vlan == "101"
