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
from contextlib import ExitStack

from reconciler.app import App
from reconciler.apply import Guard
from reconciler.findings import Finding, error
from reconciler.ledger import Holdings, Ledger, LedgerError
from reconciler.model.repo import Ref
from reconciler.operator import metrics
from reconciler.operator.cluster import Body, Snapshot, snapshot
from reconciler.operator.drift import DriftCheck
from reconciler.operator.reconcile import Event, Outcome, allocation_events, place
from reconciler.operator.settings import Settings
from reconciler.plan.pools import pool_usage
from reconciler.rules import Context
from reconciler.validate import run_rules

Publish = Callable[[Outcome], object]  # writes the statuses and events of a run


class Engine:
    """Serializes and coalesces reconciliations; owns the ledger and the drivers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._run_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._requested = 0
        self._done = 0
        self._last: Outcome | None = None
        self._drift_at = -float("inf")  # when the last drift check ended (monotonic)
        self.app = App(settings.ledger, settings.drivers, settings.render_dir)

    def reconcile(
        self, objects: Callable[[], Iterable[Body]], publish: Publish | None = None
    ) -> Outcome:
        """Reconcile the objects `objects()` returns, or reuse a run that started after this
        call did (it saw everything this call would see, and published it)."""
        with self._count_lock:
            self._requested += 1
            ticket = self._requested
        with self._run_lock:
            if self._last is not None and self._done >= ticket:
                return self._last
            with self._count_lock:
                covers = self._requested
            outcome = self.run(objects, publish)
            self._last, self._done = outcome, covers
            return outcome

    def ledger(self) -> Ledger:
        return self.app.ledger()

    def run(self, objects: Callable[[], Iterable[Body]], publish: Publish | None = None) -> Outcome:
        """One run. The cluster is read (`objects()` must be a fresh read, not a watch cache)
        and the statuses are published while the ledger's apply lock is held, so the runs of
        every replica sharing the ledger, and CLI applies, follow one order: each run sees the
        cluster at least as new as the run before it did. A replica whose watch lags therefore
        never releases what another one just allocated, and an older run's statuses never
        overwrite a newer one's."""
        started = time.perf_counter()
        with ExitStack() as held:
            fault: LedgerError | None = None
            try:
                ledger = self.ledger()
                seq = held.enter_context(
                    ledger.apply_lock(self.settings.apply_wait_s, "operator")
                )
            except LedgerError as exc:  # not opened, or held by another apply for too long
                fault = exc
            outcome = Outcome(snapshot(objects()), self.settings.day())
            try:
                if fault is None:
                    _run(self, ledger, outcome, seq)
                elif fault.temporary:
                    outcome.temporary = str(fault)
                else:
                    outcome.unplaced.append(_ledger_finding(fault))
            finally:
                outcome.seconds = time.perf_counter() - started
                metrics.observe(outcome)
            if publish is not None:
                publish(outcome)
        return outcome


    def check_drift(
        self,
        objects: Callable[[], Iterable[Body]],
        publish: Callable[[DriftCheck, Snapshot], object] | None = None,
    ) -> DriftCheck | None:
        """The periodic drift check (issue 15): read every device against the intent of its
        last apply and publish the Drifted conditions; with TENANTRY_REPAIR_DRIFT, repair the
        drifted devices and publish again. Under the run lock and the ledger's apply lock, so
        no apply pushes while the devices are read. None when another Site's timer ran it
        less than half an interval ago (one check covers every site)."""
        with self._run_lock:
            if time.monotonic() - self._drift_at < self.settings.drift_seconds / 2:
                return None
            started = time.perf_counter()
            check = DriftCheck()
            ledger = self.ledger()
            with ledger.apply_lock(self.settings.apply_wait_s, "operator drift") as seq:
                snap = snapshot(objects())
                check.report = self.app.drift(snap.repo, self.settings.parallel)
                metrics.observe_drift(check)
                drifted = {d.device for d in check.report.drifted}
                if drifted and self.settings.repair_drift:
                    if publish is not None:  # first the drift, as found
                        publish(check, snap)
                        snap = snapshot(objects())
                    result = self.app.repair(snap.repo, self.settings.parallel, devices=drifted,
                                             seq=seq)
                    check.repaired = [(device, *repair) for device, t
                                      in sorted(result.transcripts.items())
                                      for repair in t.repairs]
                    check.repair_failures = dict(result.failures)
                check.seconds = time.perf_counter() - started
                metrics.observe_drift(check, final=True)
                if publish is not None:
                    publish(check, snap)
            self._drift_at = time.monotonic()
            return check


def _ledger_finding(fault: LedgerError) -> Finding:
    return error("ledger", None, (), str(fault), "check TENANTRY_LEDGER")


def _run(engine: Engine, ledger: Ledger, outcome: Outcome, seq: int = 0) -> None:
    """Validate, apply (the caller holds the apply lock) and read back what the ledger holds."""
    snap, today = outcome.snap, outcome.today
    errors = [f for f in run_rules(snap.loaded, Context(today=today)) if f.is_error]
    place(outcome, errors)
    try:
        before = ledger.holdings()
        if not errors:
            result = engine.app.apply(
                snap.repo,
                today,
                engine.settings.parallel,
                # In the cluster, an Occupier goes when someone deletes its object (its
                # finalizer releases), and a sync prunes what the GitOps agent confirmed; a
                # missing Site still releases nothing (G1).
                guard=Guard(allow_mass_release=True, allow_departures=True,
                            leave_drift=not engine.settings.repair_drift),
                lock=False,
                seq=seq,
            )
            place(outcome, result.plan.errors)
            for device, transcript in sorted(result.transcripts.items()):
                if transcript.repairs:  # drift this apply repaired (TENANTRY_REPAIR_DRIFT)
                    site = result.plan.sites_of_device.get(device, "")
                    done = ", ".join(resource for resource, _, _ in transcript.repairs)
                    outcome.events.append(
                        Event(Ref("Site", site), "Normal", "DriftRepaired", f"{device}: {done}")
                    )
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
            outcome.unplaced.append(_ledger_finding(exc))
    outcome.pools = pool_usage(snap.repo, outcome.holdings or Holdings())
