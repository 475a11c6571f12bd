"""The operator's engine: one reconciliation at a time, coalesced, through the application
layer (ledger, drivers, credentials live in `reconciler.app.App`); what it found goes into an
`Outcome` that `reconcile.py` turns into statuses and events.

Reconciliation is level-triggered and global, as `tenantry apply` is: whatever object changed,
the whole desired state is planned against the ledger, because allocations are shared per site
(a new Service of one occupier can take the last free VLAN another one needed). Runs are
serialized and coalesced: a request that arrives while a run is going on is served by the next
run, which sees every change made before it started.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from reconciler.app import App
from reconciler.apply import Guard
from reconciler.findings import error
from reconciler.ledger import Holdings, Ledger, LedgerError
from reconciler.model.repo import Ref
from reconciler.operator import metrics
from reconciler.operator.cluster import Body, Snapshot, snapshot
from reconciler.operator.reconcile import Event, Outcome, allocation_events, place
from reconciler.operator.settings import Settings
from reconciler.plan.pools import pool_usage
from reconciler.rules import Context
from reconciler.validate import run_rules


class Engine:
    """Serializes and coalesces reconciliations; owns the ledger and the drivers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._run_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._requested = 0
        self._done = 0
        self._last: Outcome | None = None
        self.app = App(settings.ledger, settings.drivers, settings.render_dir)

    def reconcile(self, objects: Callable[[], Iterable[Body]]) -> Outcome:
        """Reconcile the objects `objects()` returns, or reuse a run that started after this
        call did (it saw everything this call would see)."""
        with self._count_lock:
            self._requested += 1
            ticket = self._requested
        with self._run_lock:
            if self._last is not None and self._done >= ticket:
                return self._last
            with self._count_lock:
                covers = self._requested
            outcome = self.run(snapshot(objects()))
            self._last, self._done = outcome, covers
            return outcome

    def ledger(self) -> Ledger:
        return self.app.ledger()

    def run(self, snap: Snapshot) -> Outcome:
        started = time.perf_counter()
        outcome = Outcome(snap, self.settings.day())
        try:
            _run(self, outcome)
        finally:
            outcome.seconds = time.perf_counter() - started
            metrics.observe(outcome)
        return outcome


def _run(engine: Engine, outcome: Outcome) -> None:
    snap, today = outcome.snap, outcome.today
    errors = [f for f in run_rules(snap.loaded, Context(today=today)) if f.is_error]
    place(outcome, errors)
    try:
        ledger = engine.ledger()
        before = ledger.holdings()
        if not errors:
            result = engine.app.apply(
                snap.repo,
                today,
                engine.settings.parallel,
                # In the cluster, an Occupier goes when someone deletes its object (its
                # finalizer releases), and a sync prunes what the GitOps agent confirmed; a
                # missing Site still releases nothing (G1).
                guard=Guard(allow_mass_release=True, allow_departures=True),
            )
            place(outcome, result.plan.errors)
            for device, reason in sorted(result.failures.items()):
                site = result.plan.sites_of_device.get(device, "")
                outcome.failed_sites.setdefault(site, f"{device}: {reason}")
                outcome.events.append(
                    Event(Ref("Site", site), "Warning", "DeviceFailed", f"{device}: {reason}")
                )
            if outcome.failed_sites:
                outcome.temporary = "device failed: " + "; ".join(
                    f"{s}: {r}" for s, r in sorted(outcome.failed_sites.items())
                )
        outcome.holdings = ledger.holdings()
        outcome.services = ledger.statuses("Service")
        outcome.events += allocation_events(before, outcome.holdings)
    except LedgerError as exc:
        if exc.temporary:
            outcome.temporary = str(exc)
        else:
            outcome.unplaced.append(error("ledger", None, (), str(exc), "check TENANTRY_LEDGER"))
    outcome.pools = pool_usage(snap.repo, outcome.holdings or Holdings())
