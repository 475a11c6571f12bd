"""High availability as the chart runs it: three real `tenantry operator --peering` processes
(kopf peering, each with its own random priority) against the API emulator, one real
PostgreSQL ledger (per-site advisory locks). The replica that is applying is SIGKILLed while
it is inside its ledger transaction; another one takes over and every object becomes Ready,
with no value held twice.

"Mid-reconcile" is made certain, not a matter of timing: the test holds one site's advisory
lock (as a `tenantry apply` of a CI job would), so the working replica stops inside its
allocation transaction, holding the lock of the site before it; PostgreSQL shows which
replica waits (each sets its own application_name) and that one is killed."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import zlib
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from reconciler.load import load
from tests.support import postgres

from .conftest import BIN, TODAY, Cluster, in_ci, start_operator, stop, wait_for
from .test_operator_e2e import CRDS, DESIRED, apply_desired_state, ready

REPLICAS = 3
LIFETIME_S = 6  # a killed replica counts as alive this long (kopf peering)
LOCKED_SITE = "manchester-works"  # london-bridge comes first in the lock order


@pytest.fixture(scope="module")
def ledger_url() -> Iterator[str]:
    if not postgres.available():
        message = "PostgreSQL not installed (scripts/setup.sh installs it)"
        if in_ci():
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)
    with postgres.throwaway_postgres() as url:
        yield url


def rows(url: str) -> list[tuple[str, str, str, str]]:
    import psycopg

    with psycopg.connect(url) as conn:
        found = conn.execute("SELECT site, kind, value, holder FROM allocation").fetchall()
    return [(str(a), str(b), str(c), str(d)) for a, b, c, d in found]


def waiting_replica(url: str) -> str | None:
    """The application_name of a session waiting for an advisory lock, if any."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        found = conn.execute(
            "SELECT application_name FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'"
        ).fetchone()
    return str(found[0]) if found else None


def peers(cluster: Cluster) -> dict[str, Any]:
    done = cluster.kubectl("get", "clusterkopfpeering", "tenantry", "-o", "json", check=False)
    return dict(json.loads(done.stdout).get("status") or {}) if done.returncode == 0 else {}


def test_three_replicas_survive_a_sigkill_mid_reconcile(cluster: Cluster, ledger_url: str) -> None:
    import psycopg

    cluster.kubectl("apply", "-f", str(CRDS))
    cluster.kubectl("wait", "--for", "condition=established", "--timeout=20s", "crd", "--all")
    peering = {"apiVersion": "kopf.dev/v1", "kind": "ClusterKopfPeering"}
    cluster.kubectl(
        "apply", "-f", "-", stdin=json.dumps({**peering, "metadata": {"name": "tenantry"}})
    )
    replicas = {
        f"replica-{i}": start_operator(
            cluster,
            f"replica-{i}",
            webhook=False,
            args=("--peering=tenantry",),
            extra={
                "TENANTRY_LEDGER": ledger_url,
                "TENANTRY_PEERING_LIFETIME": str(LIFETIME_S),
                "PGAPPNAME": f"replica-{i}",
            },
        )
        for i in range(REPLICAS)
    }
    wait_for("three peers", lambda: len(peers(cluster)) == REPLICAS, 60)
    priorities = {p["priority"] for p in peers(cluster).values()}
    assert len(priorities) == REPLICAS, peers(cluster)  # equal ones would pause them all

    holder = psycopg.connect(ledger_url, autocommit=True)
    holder.execute("SELECT pg_advisory_lock(%s)", (zlib.crc32(f"tenantry:{LOCKED_SITE}".encode()),))
    try:
        apply_desired_state(cluster)
        waiting: list[str] = []
        wait_for(
            "a replica inside its ledger transaction",
            lambda: bool(waiting.append(waiting_replica(ledger_url) or "") or waiting[-1]),
            90,
        )
        victim = waiting[-1]
        replicas[victim].send_signal(signal.SIGKILL)
        assert replicas[victim].wait(10) == -signal.SIGKILL
        assert rows(ledger_url) == []  # its transaction died with it: nothing half-written
    finally:
        holder.close()

    names = [o.name for o in load(str(DESIRED)).repo.occupiers.values()]
    for name in names:
        wait_for(f"occupier {name} Ready", lambda n=name: ready(cluster, "occupier", n), 180)
    # (the victim left the ledger empty: the allocations below are a survivor's work)

    held = rows(ledger_url)
    keys = [(site, kind, value) for site, kind, value, _ in held]
    assert len(keys) == len(set(keys))
    per_holder = Counter((site, kind, who) for site, kind, _, who in held if kind == "vlan")
    assert per_holder and max(per_holder.values()) == 1, per_holder
    # exactly what one `tenantry apply` alone makes of the same documents (N4, G2)
    assert sorted(held) == sequential_apply(cluster)
    acme = cluster.get("occupier", "acme")["status"]
    assert acme["sites"][0]["vlan"] is not None
    for process in replicas.values():  # before PostgreSQL goes away
        stop(process)


def sequential_apply(cluster: Cluster) -> list[tuple[str, str, str, str]]:
    state = cluster.root / "sequential.db"
    subprocess.run(
        [
            str(BIN / "tenantry"),
            "apply",
            str(DESIRED),
            "--state",
            str(state),
            "--today",
            TODAY,
            "--out",
            str(cluster.root / "sequential"),
        ],
        check=True,
        capture_output=True,
    )
    with sqlite3.connect(state) as db:
        found = db.execute("SELECT site, kind, value, holder FROM allocation").fetchall()
    return sorted((str(a), str(b), str(c), str(d)) for a, b, c, d in found)
