"""The operator's plain functions without a cluster: desired-state documents as cluster
objects → snapshot → rules → apply (render drivers, SQLite ledger) → statuses; and the
admission webhook's decisions."""

from __future__ import annotations

import copy
import json
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from reconciler.ledger import open_ledger
from reconciler.load import _parse, discover
from reconciler.model.repo import Ref
from reconciler.model.status import STATUS_MODELS
from reconciler.operator import admission, reconcile
from reconciler.operator.cluster import snapshot
from reconciler.operator.engine import Engine
from reconciler.operator.settings import Settings

DESIRED = Path(__file__).parents[2] / "desired-state"
TODAY = date(2026, 11, 23)


def cluster_objects() -> list[dict[str, Any]]:
    """The desired-state documents as the apiserver would hold them."""
    out = []
    for path in discover(str(DESIRED)):
        for raw, _ in _parse(Path(path).read_text(), path, []):
            body = json.loads(json.dumps(raw, default=str))
            body["metadata"].update(
                uid=f"uid-{body['metadata']['name']}", generation=1, resourceVersion="1"
            )
            out.append(body)
    return out


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return Engine(
        Settings(ledger=str(tmp_path / "state.db"), render_dir=str(tmp_path / "out"), today=TODAY)
    )


def test_reconcile_desired_state_all_ready(engine: Engine, tmp_path: Path) -> None:
    objects = cluster_objects()
    outcome = engine.reconcile(lambda: objects)
    assert not outcome.blocked and not outcome.temporary, outcome.invalid
    written: dict[Ref, dict[str, Any]] = {}
    events: list[tuple[str, str, str]] = []
    reconcile.publish(
        outcome,
        lambda ref, s: written.__setitem__(ref, s),
        lambda body, t, r, m: events.append((body["metadata"]["name"], r, m)),
    )
    assert len(written) == len(objects)
    for ref, status in written.items():  # what the CRDs declare (reconciler/model/status.py)
        STATUS_MODELS[ref.kind].model_validate(status)
    acme = written[Ref("Occupier", "acme")]
    assert acme["phase"] == "Active" and acme["observedGeneration"] == 1
    assert [c["type"] for c in acme["conditions"]] == ["Ready", "Reconciling", "Stalled"]
    assert acme["conditions"][0]["status"] == "True"
    site = acme["sites"][0]
    assert site["site"] == "london-bridge" and site["vlan"] and site["prefix"]
    assert site["publicIPs"] and site["ports"] and site["numbers"]
    assert acme["ports"] == site["infrastructure"]["switchPorts"]
    assert any(r == "Allocated" and n == "acme" for n, r, _ in events)
    assert (tmp_path / "out").is_dir()
    # converges (a make-before-break upgrade takes two runs, S8), then writes nothing
    counts = []
    for _ in range(3):
        again = engine.reconcile(lambda: [dict(o, status=written[_ref(o)]) for o in objects])
        counts.append(
            reconcile.publish(again, lambda r, s: written.__setitem__(r, s), lambda *_: None)
        )
    assert counts[-1] == 0, counts


def _ref(body: dict[str, Any]) -> Ref:
    return Ref(body["kind"], body["metadata"]["name"])


def test_invalid_object_stalls_and_blocks_the_rest(engine: Engine) -> None:
    objects = cluster_objects()
    bad = next(o for o in objects if o["metadata"]["name"] == "acme-lb-wifi-users")
    bad["spec"]["quantity"] = 1  # below the Wi-Fi users in use: S7
    outcome = engine.reconcile(lambda: objects)
    verdict = outcome.verdict(Ref("Occupier", "acme"))
    assert verdict.permanent and "[S7]" in verdict.message
    other = outcome.verdict(Ref("Occupier", "globex"))
    assert other.retry and not other.permanent and "Occupier/acme" in other.message
    status = reconcile.status_of(outcome, Ref("Occupier", "acme"))
    stalled = {c["type"]: c for c in status["conditions"]}["Stalled"]
    assert stalled["status"] == "True" and stalled["reason"] == "InvalidSpec"


def test_coalesced_runs_reuse_a_later_result(engine: Engine) -> None:
    objects = cluster_objects()
    first = engine.reconcile(lambda: objects)
    assert engine.reconcile(lambda: objects) is not first  # a new request: a new run


def test_occupier_delete_releases_its_allocations(engine: Engine) -> None:
    objects = cluster_objects()
    engine.reconcile(lambda: objects)
    held = [a for a in engine.ledger().holdings().rows if a.holder == "northwind"]
    assert held
    leaving = copy.deepcopy(objects)
    for body in leaving:
        if _ref(body) == Ref("Occupier", "northwind"):
            body["metadata"]["deletionTimestamp"] = "2026-11-23T10:00:00Z"
    outcome = engine.reconcile(lambda: leaving)
    assert outcome.verdict(Ref("Occupier", "northwind")) == reconcile.Verdict()
    assert not [a for a in engine.ledger().holdings().rows if a.holder == "northwind"]
    assert outcome.snap.parked[Ref("Service", "northwind-lb-internet")].startswith("waiting")


def _newcomer(name: str) -> list[dict[str, Any]]:
    """An occupier with a contract and one Wi-Fi user at london-bridge, as kubectl creates it."""
    meta = {"uid": f"uid-{name}", "generation": 1, "resourceVersion": "2"}
    spec = {"occupier": name, "site": "london-bridge"}
    return [
        {"apiVersion": "tenantry.dev/v1alpha1", "kind": "Occupier",
         "metadata": {"name": name, **meta}, "spec": {"displayName": name}},
        {"apiVersion": "tenantry.dev/v1alpha1", "kind": "Contract",
         "metadata": {"name": f"{name}-lb", **meta}, "spec": {**spec, "start": "2026-01-01"}},
        {"apiVersion": "tenantry.dev/v1alpha1", "kind": "Service",
         "metadata": {"name": f"{name}-wifi", **meta},
         "spec": {**spec, "definition": "wifi-user", "quantity": 1}},
    ]


def test_a_run_reads_the_cluster_once_it_holds_the_ledger(engine: Engine) -> None:
    """A second replica sharing the ledger waits while another apply holds it, and reads the
    cluster only then: it serves the occupier created meanwhile instead of planning from the
    view it had before waiting (which would release what the other apply just allocated)."""
    cluster = cluster_objects()
    engine.reconcile(lambda: list(cluster))
    other = open_ledger(engine.settings.ledger)
    assert other is not None
    results: list[reconcile.Outcome] = []
    with other.apply_lock(wait_s=5, source="another replica"):
        waiting = threading.Thread(
            target=lambda: results.append(engine.reconcile(lambda: list(cluster)))
        )
        waiting.start()
        time.sleep(0.5)
        assert not results, "the run did not wait for the other apply"
        cluster += _newcomer("latecomer")
    waiting.join(30)
    assert results and not results[0].blocked, results and results[0].invalid
    held = {a.kind for a in engine.ledger().holdings().rows if a.holder == "latecomer"}
    assert "vlan" in held, held
    status = reconcile.status_of(results[0], Ref("Occupier", "latecomer"))
    assert status["sites"][0]["vlan"] is not None


def test_services_before_their_occupier_wait() -> None:
    objects = [o for o in cluster_objects() if o["kind"] != "Occupier"]
    snap = snapshot(objects)
    assert all(ref.kind in ("Contract", "Service") for ref in snap.parked)
    assert not snap.repo.services


# ---------------------------------------------------------------------------- admission


def _service(name: str, definition: str, occupier: str = "acme") -> dict[str, Any]:
    return {
        "apiVersion": "tenantry.dev/v1alpha1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"occupier": occupier, "site": "london-bridge", "definition": definition},
    }


def test_webhook_refuses_a_second_public_ip_with_the_s5_message() -> None:
    found = admission.denials(
        _service("acme-lb-public-ip-2", "public-ip"), "CREATE", cluster_objects(), TODAY, None
    )
    assert [f.rule for f in found] == ["S5"]
    assert "acme may have at most 1 public-ip at london-bridge" in admission.message(found)


def test_webhook_allows_a_valid_change_and_p1_needs_a_site_admin() -> None:
    ok = _service("acme-lb-av", "meeting-room-av")
    assert admission.denials(ok, "CREATE", cluster_objects(), TODAY, "ops-team") == []
    found = admission.denials(ok, "CREATE", cluster_objects(), TODAY, "mallory")
    assert [f.rule for f in found] == ["P1"]
    assert "mallory is not an admin of site london-bridge" in found[0].message


def test_webhook_p1_judges_the_sites_an_update_touches_before_and_after() -> None:
    """Moving a service to manchester-works touches both sites: bob (manchester-works only)
    may not take it from london-bridge; an identical re-apply touches nothing."""
    objects = cluster_objects()
    current = next(o for o in objects if o["kind"] == "Service" and o["spec"]["site"]
                   == "london-bridge" and o["spec"]["occupier"] == "umbrella")
    moved = copy.deepcopy(current)
    moved["spec"]["site"] = "manchester-works"
    moved["spec"].pop("contract", None)
    found = [f for f in admission.denials(moved, "UPDATE", objects, TODAY, "bob") if f.rule == "P1"]
    assert [f.message for f in found] == [
        f"bob is not an admin of site london-bridge, which Service {current['metadata']['name']} "
        "(edited) touches"
    ]
    assert admission.denials(copy.deepcopy(current), "UPDATE", objects, TODAY, "bob") == []


def test_webhook_tolerates_what_later_objects_cure_only_on_create() -> None:
    objects = cluster_objects()
    occupier = next(o for o in objects if _ref(o) == Ref("Occupier", "acme"))
    rest = [o for o in objects if o["kind"] != "Service" or o["spec"]["occupier"] != "acme"]
    # the occupier before its services: S7 now, cured when they arrive
    assert (
        admission.denials(occupier, "CREATE", [o for o in rest if o is not occupier], TODAY, None)
        == []
    )
    # an UPDATE that activates beyond what the services allocate: refused
    more = copy.deepcopy(occupier)
    more["spec"]["users"] += [
        {"name": f"new{i}", "email": f"n{i}@acme.example", "wifi": True} for i in range(2)
    ]
    found = admission.denials(more, "UPDATE", objects, TODAY, None)
    assert {f.rule for f in found} == {"S7"}


def test_webhook_refuses_schema_errors() -> None:
    bad = _service("acme-x", "public-ip")
    bad["spec"]["quantity"] = "two"
    found = admission.denials(bad, "CREATE", cluster_objects(), TODAY, None)
    assert found and found[0].rule == "schema"


@pytest.mark.parametrize(
    ("user", "groups", "actor"),
    [
        ("alice", [], "alice"),
        ("system:serviceaccount:argocd:argocd-application-controller", [], None),
        ("bob", ["gitops"], None),
        ("kmock-admin", [], None),
    ],
)
def test_actor_of(user: str, groups: list[str], actor: str | None) -> None:
    trusted = ["system:serviceaccount:argocd:*", "group:gitops", "kmock-admin"]
    assert admission.actor_of({"username": user, "groups": groups}, trusted) == actor


def test_metrics_record_durations_failures_and_pools(engine: Engine) -> None:
    from prometheus_client import generate_latest

    objects = cluster_objects()
    engine.reconcile(lambda: objects)
    bad = copy.deepcopy(objects)
    next(o for o in bad if o["metadata"]["name"] == "acme-lb-wifi-users")["spec"]["quantity"] = 1
    engine.reconcile(lambda: bad)
    text = generate_latest().decode()
    assert "tenantry_reconcile_duration_seconds_count" in text
    assert 'tenantry_reconcile_failures_total{reason="invalid"}' in text
    assert 'tenantry_pool_utilization_ratio{pool="VLANs",site="london-bridge"}' in text


def test_webhook_tolerates_an_upgrade_that_arrives_before_the_line_it_replaces() -> None:
    """kubectl may send acme-lb-internet-1000 (replaces acme-lb-internet-100) before the
    webhook's view of the cluster holds the old line: S8 is cured once it arrives."""
    objects = cluster_objects()
    upgrade = next(o for o in objects if _ref(o) == Ref("Service", "acme-lb-internet-1000"))
    rest = [
        o
        for o in objects
        if _ref(o)
        not in (Ref("Service", "acme-lb-internet-1000"), Ref("Service", "acme-lb-internet-100"))
    ]
    assert admission.denials(upgrade, "CREATE", rest, TODAY, None) == []
    # the same dangling reference on an UPDATE is a mistake, not an ordering accident
    bad = copy.deepcopy(upgrade)
    bad["spec"]["replaces"] = "acme-lb-internet-9999"
    assert "S8" in {f.rule for f in admission.denials(bad, "UPDATE", objects, TODAY, None)}
