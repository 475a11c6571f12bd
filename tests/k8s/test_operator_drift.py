"""The operator's drift check on the API emulator (issue 15): the real kopf operator with the
render drivers, whose files are its devices. A rendered switch file edited by hand makes the
`Drifted` condition and a `Drifted` event appear on the Site and the Occupier whose port it
is, and `tenantry_drift_resources` count it; without TENANTRY_REPAIR_DRIFT nothing repairs
it, not even a reconciliation; with it, the check repairs it and the condition clears."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from .conftest import Cluster, free_port, start_operator, stop, wait_for
from .test_operator_e2e import CRDS, DESIRED, as_json_list

SWITCH = "lb-sw1.switch.cfg"
BY_HAND = ("switchport access vlan 102", "switchport access vlan 150")


def drifted(cluster: Cluster, kind: str, name: str) -> dict[str, Any]:
    status = cluster.get(kind, name).get("status") or {}
    found = [c for c in status.get("conditions") or [] if c["type"] == "Drifted"]
    return found[0] if found else {}


def events(cluster: Cluster, reason: str) -> list[dict[str, Any]]:
    listed = json.loads(cluster.kubectl("get", "events", "-A", "-o", "json").stdout)
    return [e for e in listed["items"] if e.get("reason") == reason]


def metric(port: int, name: str, **labels: str) -> float | None:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(f"{name}{{{wanted}}} "):
            return float(line.split()[-1])
    return None


def edit_by_hand(rendered: Path) -> None:
    path = rendered / SWITCH
    path.write_text(path.read_text().replace(*BY_HAND, 1))


def operator(cluster: Cluster, name: str, metrics_port: int, repair: bool
             ) -> subprocess.Popen[bytes]:
    return start_operator(cluster, name, webhook=False, extra={
        "TENANTRY_DRIFT_SECONDS": "2",
        "TENANTRY_RESYNC_SECONDS": "3600",  # only the drift check and changes run
        "TENANTRY_METRICS_PORT": str(metrics_port),
        "TENANTRY_REPAIR_DRIFT": "true" if repair else "false",
    })


@pytest.fixture(scope="module")
def operated(cluster: Cluster) -> Cluster:
    cluster.kubectl("apply", "-f", str(CRDS))
    cluster.kubectl("wait", "--for", "condition=established", "--timeout=20s", "crd", "--all")
    stdin = as_json_list(DESIRED / "sites", DESIRED / "catalogue", DESIRED / "occupiers")
    cluster.kubectl("apply", "-f", "-", stdin=stdin, timeout=600)
    return cluster


def test_drift_condition_event_and_metric_then_repair(operated: Cluster) -> None:
    cluster, rendered = operated, operated.root / "rendered"
    port = free_port()
    first = operator(cluster, "operator-drift", port, repair=False)
    wait_for("the Site in sync", lambda: drifted(cluster, "site", "london-bridge").get(
        "reason") == "InSync", 180)
    assert drifted(cluster, "occupier", "acme")["status"] == "False"

    edit_by_hand(rendered)
    wait_for("acme Drifted", lambda: drifted(cluster, "occupier", "acme").get("status")
             == "True", 60)
    acme = drifted(cluster, "occupier", "acme")
    assert acme["reason"] == "DeviceDrift"
    assert acme["message"].startswith("lb-sw1: port GigabitEthernet1/0/1 has vlan 150")
    site = drifted(cluster, "site", "london-bridge")
    assert site["status"] == "True" and "lb-sw1: port GigabitEthernet1/0/1" in site["message"]
    assert drifted(cluster, "site", "manchester-works")["status"] == "False"
    assert drifted(cluster, "occupier", "globex")["status"] == "False"
    on = {(e["involvedObject"]["kind"], e["involvedObject"]["name"])
          for e in events(cluster, "Drifted")}
    assert on == {("Occupier", "acme"), ("Site", "london-bridge")}
    assert metric(port, "tenantry_drift_resources", site="london-bridge", device="lb-sw1") == 1
    assert metric(port, "tenantry_drift_resources", site="london-bridge", device="lb-sw2") == 0

    # without repair, even a reconciliation leaves the change made by hand where it is
    cluster.kubectl("patch", "services.tenantry.dev", "acme-lb-voice", "--type", "merge",
                    "-p", '{"spec": {"price": "25.00"}}')
    wait_for("the patch reconciled", lambda: (cluster.get("tsvc", "acme-lb-voice").get(
        "status") or {}).get("observedGeneration") == cluster.get(
        "tsvc", "acme-lb-voice")["metadata"]["generation"], 60)
    assert BY_HAND[1] in (rendered / SWITCH).read_text()
    assert drifted(cluster, "occupier", "acme")["status"] == "True"
    stop(first)

    # with repair: the check puts the port back and the condition clears
    port = free_port()
    operator(cluster, "operator-repair", port, repair=True)
    wait_for("acme in sync", lambda: drifted(cluster, "occupier", "acme").get("status")
             == "False", 120)
    edit_by_hand(rendered)  # again, now that the repairing operator runs
    # the drift check repairs it (or a reconciliation still busy with the restart does: with
    # repair on, every apply converges every device); either way it is told and recorded
    wait_for("the drift repaired", lambda: BY_HAND[1] not in (rendered / SWITCH).read_text()
             and bool(events(cluster, "DriftRepaired")), 60)
    wait_for("acme's Drifted cleared", lambda: drifted(cluster, "occupier", "acme").get(
        "status") == "False", 30)
    assert drifted(cluster, "site", "london-bridge")["status"] == "False"
    assert metric(port, "tenantry_drift_resources", site="london-bridge", device="lb-sw1") == 0
    with sqlite3.connect(cluster.root / "state.db") as db:
        rows = db.execute("SELECT r.device, r.resource, a.source FROM repair r "
                          "JOIN apply_log a ON a.seq = r.seq").fetchall()
    sources = {source for device, resource, source in rows
               if (device, resource) == ("lb-sw1", "port GigabitEthernet1/0/1")}
    assert sources and sources <= {"operator", "operator drift"}, rows
    if "operator drift" in sources:  # the check's own repair: its condition and counter
        assert drifted(cluster, "occupier", "acme")["reason"] == "Repaired"
        assert metric(port, "tenantry_drift_repairs_total", site="london-bridge",
                      device="lb-sw1") == 1
