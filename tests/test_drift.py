"""Drift through the command line, on the render driver: its files are its devices, so a
person's edit of a rendered file is a change made by hand on a device (issue 15)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.ledger import open_ledger
from tests.support.example import ZETA

ROOT = Path(__file__).resolve().parent.parent
TODAY = ["--today", "2026-11-23"]
PORT = "port GigabitEthernet1/0/1"


class Tenantry:
    """`tenantry` run in one directory with one ledger and one render directory."""

    def __init__(self, tmp: Path) -> None:
        self.repo = tmp / "desired-state"
        shutil.copytree(ROOT / "desired-state", self.repo)
        self.out = tmp / "rendered"
        self.state = tmp / "state.db"

    def __call__(self, command: str, *args: str) -> tuple[int, str]:
        where = ["--state", str(self.state)]
        if command in ("apply", "drift", "plan"):
            where += ["--out", str(self.out)]
        if command in ("apply", "plan"):
            where += TODAY
        result = CliRunner().invoke(main, [command, str(self.repo), *where, *args],
                                    catch_exceptions=False)
        return result.exit_code, result.stdout

    def edit(self, device: str, old: str, new: str) -> None:
        path = self.out / device
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new, 1))


@pytest.fixture
def tenantry(tmp_path: Path) -> Tenantry:
    run = Tenantry(tmp_path)
    code, out = run("apply")
    assert code == 0, out
    return run


def drifted_lines(out: str) -> list[str]:
    return [line.strip() for line in out.splitlines() if line.strip().startswith("~ ")]


def test_drift_in_sync_after_apply(tenantry: Tenantry) -> None:
    code, out = tenantry("drift")
    assert code == 0, out
    assert "In sync: 9 device(s)" in out


def test_drift_names_the_hand_edited_port_and_apply_rewrites_it(tenantry: Tenantry) -> None:
    tenantry.edit("lb-sw1.switch.cfg", "switchport access vlan 102", "switchport access vlan 150")
    code, out = tenantry("drift")
    assert code == 2, out
    assert out.splitlines()[:2] == ["site london-bridge", "  device lb-sw1 (cisco_iosxe)"]
    [line] = drifted_lines(out)  # exactly that resource, nothing else
    assert line.startswith(f"~ {PORT}: has vlan 150, up, 'acme Meraki MX68 wan1'; "
                           "should have vlan 102, up")
    assert "[acme: " in line and "acme-lb-internet-100" in line
    assert "1 resource(s) on 1 of 9 device(s)" in out

    code, out = tenantry("drift", "--format", "json")
    assert code == 2
    doc = json.loads(out)
    assert doc["in_sync"] is False and doc["resources"] == 1
    [device] = [d for d in doc["devices"] if d["differences"]]
    assert (device["site"], device["device"]) == ("london-bridge", "lb-sw1")
    [diff] = device["differences"]
    assert diff["resource"] == PORT and diff["occupier"] == "acme"
    assert diff["running"].startswith("vlan 150") and diff["intended"].startswith("vlan 102")

    code, out = tenantry("drift", "--format", "markdown")
    assert code == 2
    assert out.startswith("<!-- tenantry-drift -->")
    assert f"| `lb-sw1` | `{PORT}` | vlan 150, up" in out

    code, out = tenantry("apply")
    assert code == 0, out
    assert f"repaired lb-sw1 {PORT}: vlan 150, up" in out
    assert "switchport access vlan 150" not in (tenantry.out / "lb-sw1.switch.cfg").read_text()
    ledger = open_ledger(str(tenantry.state), create=False)
    assert ledger is not None
    [(seq, device_name, resource, found, restored, _)] = ledger.repairs()
    assert (device_name, resource) == ("lb-sw1", PORT)
    assert found.startswith("vlan 150") and restored.startswith("vlan 102")
    assert seq == len(ledger.apply_log())  # the apply that repaired it
    code, out = tenantry("drift")
    assert code == 0, out


def test_a_pending_change_is_not_drift(tenantry: Tenantry) -> None:
    """drift compares with the last apply, not with the desired state: a new service in git
    is for `plan`, not for `drift`."""
    (tenantry.repo / "occupiers" / "zeta.yaml").write_text(ZETA)
    code, out = tenantry("drift")
    assert code == 0, out
    code, _ = tenantry("plan")
    assert code == 2


def test_only_drift_repairs_the_port_and_leaves_the_new_service_pending(
    tenantry: Tenantry,
) -> None:
    tenantry.edit("lb-sw1.switch.cfg", "switchport access vlan 102", "switchport access vlan 150")
    (tenantry.repo / "occupiers" / "zeta.yaml").write_text(ZETA)
    code, out = tenantry("apply", "--only-drift")
    assert code == 0, out
    assert f"repaired lb-sw1 {PORT}" in out
    assert "Repaired: 1 drifted resource(s) on 1 device(s)" in out
    code, out = tenantry("drift")
    assert code == 0, out
    code, out = tenantry("plan", "--format", "json")
    assert code == 2  # zeta is still to come: nothing allocated, no device told
    assert {a["occupier"] for a in json.loads(out)["allocate"]} == {"zeta"}
    assert "zeta" not in (tenantry.out / "mw-ovs1.switch.cfg").read_text()


def test_an_unreadable_device_is_named_and_the_others_still_checked(
    tenantry: Tenantry,
) -> None:
    tenantry.edit("lb-sw1.switch.cfg", "switchport access vlan 102", "switchport access vlan 150")
    router = tenantry.out / "lb-rtr1.router.conf"
    router.unlink()
    router.mkdir()  # no longer a file the driver can read
    code, out = tenantry("drift")
    assert code == 1, out
    assert "device lb-rtr1 (frr): could not be read:" in out
    assert [line.split(":")[0] for line in drifted_lines(out)] == [f"~ {PORT}"]
    assert "1 could not be read (lb-rtr1)" in out


def test_a_deleted_route_and_plan_refresh(tenantry: Tenantry) -> None:
    tenantry.edit("lb-rtr1.router.conf", "ip route 203.0.113.4/32 10.64.0.2\n", "")
    code, out = tenantry("plan", "--refresh")
    assert code == 2, out
    assert "~ route 203.0.113.4/32: has absent; should have via 10.64.0.2 [acme:" in out
    code, out = tenantry("plan", "--refresh", "--format", "json")
    doc = json.loads(out)
    assert doc["drift"]["resources"] == 1 and doc["allocate"] == []


def test_drift_without_a_recorded_apply_says_so(tmp_path: Path) -> None:
    run = Tenantry(tmp_path)
    result = CliRunner().invoke(main, ["drift", str(run.repo), "--state", str(run.state)])
    assert result.exit_code == 1
    assert "error: no apply recorded in" in result.stderr and "lb-sw1" in result.stderr


def test_plan_refresh_before_any_apply_is_the_plan(tmp_path: Path) -> None:
    run = Tenantry(tmp_path)
    code, out = run("plan", "--refresh")
    assert code == 2, out  # everything to allocate; no device to read yet
    assert "Plan:" in out and "Drift:" not in out
