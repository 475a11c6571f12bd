"""End to end: the real kubectl applies the desired-state documents to the API emulator, the
real kopf operator (`tenantry operator`, render drivers, SQLite ledger in tmp) reconciles
them and its HTTPS admission webhook guards every change."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from reconciler.catalogue import infrastructure
from reconciler.load import _parse, discover, load
from reconciler.model.status import ConditionType, OccupierStatus

from .conftest import ROOT, TODAY, Cluster, start_operator, wait_for

DESIRED = ROOT / "desired-state"
CRDS = ROOT / "charts" / "tenantry" / "crds"
ADMIN = "ops-team"  # an admin of both sites (P1)


def as_json_list(*roots: Path) -> str:
    """The documents as tenantry reads them (YAML 1.2), as one kubectl List. kubectl's own
    YAML reader is YAML 1.1, where the key `on:` of a scheduled change is the boolean true:
    quote it (`"on":`) in files meant for `kubectl apply -f`."""
    items = []
    for root in roots:
        for path in discover(str(root)):
            items += [raw for raw, _ in _parse(Path(path).read_text(), path, [])]
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, default=str)


def ledger_rows(cluster: Cluster, holder: str | None = None) -> list[tuple[str, ...]]:
    with sqlite3.connect(cluster.root / "state.db") as db:
        rows = db.execute("SELECT site, kind, value, holder, state FROM allocation").fetchall()
    return [r for r in rows if holder is None or r[3] == holder]


def ready(cluster: Cluster, kind: str, name: str) -> bool:
    done = cluster.kubectl("get", kind, name, "-o", "json", check=False)
    if done.returncode != 0:
        return False
    status = json.loads(done.stdout).get("status") or {}
    conditions = {c["type"]: c for c in status.get("conditions") or []}
    return bool(conditions.get("Ready", {}).get("status") == "True")


def apply_desired_state(cluster: Cluster) -> subprocess.CompletedProcess[str]:
    """`kubectl apply` of the example repo's sites, catalogue and occupiers, as a site admin."""
    stdin = as_json_list(DESIRED / "sites", DESIRED / "catalogue", DESIRED / "occupiers")
    # 76 admission reviews: minutes, not seconds, when the machine is shared and loaded
    return cluster.kubectl("apply", "--as", ADMIN, "-f", "-", stdin=stdin, timeout=600)


@pytest.fixture(scope="module")
def operated(cluster: Cluster) -> Cluster:
    cluster.kubectl("apply", "-f", str(CRDS))
    cluster.kubectl("wait", "--for", "condition=established", "--timeout=20s", "crd", "--all")
    start_operator(cluster, "operator")
    wait_for(
        "the operator's webhook configuration",
        lambda: cluster.exists("validatingwebhookconfiguration", "tenantry.dev"),
        timeout=30,
    )
    return cluster


def test_desired_state_applies_and_reconciles(operated: Cluster) -> None:
    started = time.monotonic()
    done = apply_desired_state(operated)
    assert done.stdout.count("created") == 76, done.stdout
    names = [o.name for o in load(str(DESIRED)).repo.occupiers.values()]
    for name in names:
        wait_for(f"occupier {name} Ready", lambda n=name: ready(operated, "occupier", n), 60)
    print(f"76 documents applied and reconciled in {time.monotonic() - started:.1f}s")

    def phases() -> Counter[str]:
        listed = json.loads(operated.kubectl("get", "services.tenantry.dev", "-o", "json").stdout)
        return Counter((s.get("status") or {}).get("phase") for s in listed["items"])

    wait_for(
        "every service reconciled",
        lambda: set(phases()) <= {"Active", "Scheduled", "Inactive"},
        60,  # a reconciliation of the whole cluster: seconds, more on a loaded CI machine
    )
    acme = operated.get("occupier", "acme")
    assert acme["status"]["observedGeneration"] == acme["metadata"]["generation"]
    assert ledger_rows(operated, "acme")


def test_kubectl_wait_for_condition_ready(operated: Cluster) -> None:
    """`kubectl wait` reads the typed conditions; the status validates against its model."""
    done = operated.kubectl("wait", "--for=condition=Ready", "occupier/acme", "--timeout=60s")
    assert "occupier.tenantry.dev/acme condition met" in done.stdout
    acme = operated.get("occupier", "acme")
    status = OccupierStatus.model_validate(acme["status"])
    types = {c.type: c for c in status.conditions}
    assert set(types) >= {"Ready", "Reconciling", "Stalled"}
    assert types[ConditionType.READY].observed_generation == acme["metadata"]["generation"]
    assert types[ConditionType.STALLED].status == "False"
    refused = operated.kubectl(
        "wait", "--for=condition=Stalled", "occupier/acme", "--timeout=2s", check=False
    )
    assert refused.returncode != 0


def test_kubectl_explain_prints_the_field_descriptions(operated: Cluster) -> None:
    """The emulator serves the CRDs' OpenAPI v3 as an apiserver does, so this is kubectl's
    own `explain` reading the descriptions generated from the models."""
    out = operated.kubectl("explain", "occupiers.spec.users").stdout
    assert "People with Wi-Fi accounts or numbers (T3)." in out
    assert "The user's e-mail address." in out
    assert "Wi-Fi Secure account" in out
    out = operated.kubectl("explain", "occupier.status.conditions").stdout
    for word in ("lastTransitionTime", "observedGeneration", "reason", "message"):
        assert word in out, out
    assert "Drifted" in operated.kubectl("explain", "occupier.status.conditions.type").stdout


def test_kubectl_get_occupiers_shows_phase_and_x_of_y(operated: Cluster) -> None:
    out = operated.kubectl("get", "occupiers").stdout
    header, *rows = out.splitlines()
    assert header.split() == ["NAME", "PHASE", "SERVICES", "PORTS", "NUMBERS", "PUBLIC-IPS", "AGE"]
    repo = load(str(DESIRED)).repo
    usage = infrastructure(repo, "acme", "london-bridge", date.fromisoformat(TODAY), 1)
    ports = str(usage[next(k for k in usage if k.value == "switch ports")])
    numbers = str(usage[next(k for k in usage if k.value == "telephony")])
    acme = next(r.split() for r in rows if r.startswith("acme "))
    assert acme[1:2] == ["Active"] and acme[3:5] == [ports, numbers], out
    assert operated.kubectl("get", "occ", "acme").returncode == 0  # the short name


def test_webhook_refuses_a_second_public_ip_with_the_s5_message(operated: Cluster) -> None:
    second = {
        "apiVersion": "tenantry.dev/v1alpha1",
        "kind": "Service",
        "metadata": {"name": "acme-lb-public-ip-2"},
        "spec": {"occupier": "acme", "site": "london-bridge", "definition": "public-ip"},
    }
    done = operated.kubectl(
        "apply", "--as", ADMIN, "-f", "-", stdin=json.dumps(second), check=False
    )
    assert done.returncode != 0
    assert 'admission webhook "admit-services.tenantry.dev" denied the request' in done.stderr
    assert "error[S5]: acme may have at most 1 public-ip at london-bridge" in done.stderr
    assert not operated.exists("services.tenantry.dev", "acme-lb-public-ip-2")


def test_webhook_checks_p1_against_the_requesting_user(operated: Cluster) -> None:
    patch = json.dumps({"spec": {"quantity": 5}})
    args = ("patch", "services.tenantry.dev", "acme-lb-wifi-users", "--type", "merge", "-p", patch)
    refused = operated.kubectl(*args, "--as", "mallory", check=False)
    assert "error[P1]: mallory is not an admin of site london-bridge" in refused.stderr
    operated.kubectl(*args, "--as", "alice")  # alice is an admin of london-bridge
    wait_for(
        "generation 2 observed",
        lambda: (
            operated.get("services.tenantry.dev", "acme-lb-wifi-users")["status"].get(
                "observedGeneration"
            )
            == 2
        ),
        60,
    )


def test_deleting_an_occupier_releases_its_allocations(operated: Cluster) -> None:
    held = ledger_rows(operated, "northwind")
    assert {r[1] for r in held} >= {"vlan", "prefix", "public", "port"}, held
    operated.kubectl("delete", "occupier", "northwind", "--timeout=30s")
    assert not operated.exists("occupier", "northwind")
    assert ledger_rows(operated, "northwind") == []
    switch = (operated.root / "rendered").glob("lb-sw*.switch.cfg")
    assert any("northwind" not in p.read_text() for p in switch)
    events = operated.kubectl("get", "events", "-A", "-o", "json").stdout
    assert "Released" in events


def _occupier_docs(index: int) -> list[dict[str, Any]]:
    name = f"conc-{index:02d}"
    return [
        {
            "apiVersion": "tenantry.dev/v1alpha1",
            "kind": "Occupier",
            "metadata": {"name": name},
            "spec": {"displayName": f"Concurrent {index}"},
        },
        {
            "apiVersion": "tenantry.dev/v1alpha1",
            "kind": "Contract",
            "metadata": {"name": f"{name}-mw"},
            "spec": {"occupier": name, "site": "manchester-works", "start": "2026-01-01"},
        },
        {
            "apiVersion": "tenantry.dev/v1alpha1",
            "kind": "Service",
            "metadata": {"name": f"{name}-wifi"},
            "spec": {
                "occupier": name,
                "site": "manchester-works",
                "definition": "wifi-user",
                "quantity": 1,
            },
        },
    ]


def test_concurrent_updates_never_double_allocate(operated: Cluster) -> None:
    """A second operator (no webhook) shares the ledger, as a second replica without peering
    would; twelve occupiers arrive at once from parallel kubectl processes. Each gets one VLAN
    and one prefix, and no value has two holders."""
    start_operator(operated, "operator-2", webhook=False)
    count = 12

    def create(index: int) -> int:
        body = json.dumps({"apiVersion": "v1", "kind": "List", "items": _occupier_docs(index)})
        return operated.kubectl("apply", "--as", ADMIN, "-f", "-", stdin=body).returncode

    with ThreadPoolExecutor(max_workers=count) as pool:
        assert list(pool.map(create, range(count))) == [0] * count
    names = {f"conc-{index:02d}" for index in range(count)}

    def all_served() -> bool:
        holders = {r[3] for r in ledger_rows(operated) if r[1] == "vlan"}
        return names <= holders and all(ready(operated, "occupier", n) for n in names)

    wait_for("every new occupier holding a VLAN and Ready", all_served, 90)
    rows = ledger_rows(operated)
    keys = [(r[0], r[1], r[2]) for r in rows]
    assert len(keys) == len(set(keys))
    per_holder = Counter((r[0], r[1], r[3]) for r in rows if r[1] in ("vlan", "prefix"))
    assert per_holder and max(per_holder.values()) == 1, per_holder
    for index in range(count):
        holder = f"conc-{index:02d}"
        assert per_holder[("manchester-works", "vlan", holder)] == 1
        status = operated.get("occupier", holder)["status"]
        assert status["sites"][0]["vlan"] is not None
    vlans = [r[2] for r in rows if r[1] == "vlan" and r[0] == "manchester-works"]
    assert len(vlans) == len(set(vlans))
