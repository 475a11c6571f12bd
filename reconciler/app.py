"""The application layer: the ledger, the drivers and the credentials are opened here, once,
and validate / plan / apply / report run here for both shells — the CLI (click) and the
operator (kopf) only translate arguments and print or patch what comes back.

Below this module everything takes its collaborators as parameters (apply takes a `Ledger`,
a driver factory and a credential lookup); above it nothing opens a database or builds a
driver itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from reconciler.rules import Context
from reconciler.validate import Validation, ledger_context, validate

# The ledger's SQL, drivers, apply and the planner are imported by the operations that use
# them: `tenantry validate` (the pre-commit hook) reads the ledger's context through here too.
if TYPE_CHECKING:
    from drivers.contract import Driver
    from drivers.render import RenderDriver
    from reconciler.apply import Ahead, ApplyResult, CredentialLookup, Guard, Progress
    from reconciler.drift import DriftReport
    from reconciler.ledger.model import Holdings
    from reconciler.ledger.protocol import Ledger, LedgerTransaction
    from reconciler.load import Loaded
    from reconciler.model.repo import Repo
    from reconciler.plan.changes import DeviceChange
    from reconciler.plan.result import Intent, Plan

    AnyDriver = Driver[Any, Any, Any, Any]

# what `plan` returns: the plan, the device changes it makes, the holdings it started from
Planned = tuple["Plan", list["DeviceChange"], "Holdings"]


@dataclass
class App:
    """One configured tenantry: where the ledger is, which drivers, where render writes."""

    state: str  # the ledger: a SQLite file, or a postgresql:// URL
    drivers: str = "render"  # render: one file per device in `out`; devices: each platform
    out: str = "rendered"
    credentials: CredentialLookup | None = None  # default: drivers.credentials.CredentialStore
    _ledger: Ledger | None = field(default=None, repr=False)
    _render: RenderDriver | None = field(default=None, repr=False)
    _migrated: bool = field(default=False, repr=False)  # _ledger's schema brought up to date

    # ------------------------------------------------------------ what is opened here

    def ledger(self) -> Ledger:
        """The ledger, created (schema migrated) on first use; LedgerError when it cannot be."""
        from reconciler.ledger import open_ledger

        if self._ledger is None or not self._migrated:  # existing_ledger() does not migrate
            ledger = open_ledger(self.state)
            assert ledger is not None  # create=True always opens one
            self._ledger, self._migrated = ledger, True
        return self._ledger

    def existing_ledger(self) -> Ledger | None:
        """The ledger if it exists; None instead of creating one (plan and report write
        nothing, not even a schema). Opened once: plan and report ask it several times."""
        from reconciler.ledger import open_ledger

        if self._ledger is None:
            self._ledger = open_ledger(self.state, create=False)
        return self._ledger

    def driver_for(self, intent: Intent) -> AnyDriver:
        """render for every device, or the driver of the device's kind and platform."""
        from drivers.registry import driver_for as platform_driver
        from drivers.render import RenderDriver

        if self.drivers == "render":
            if self._render is None:
                self._render = RenderDriver(self.out)
            return self._render
        return platform_driver(intent)

    # ------------------------------------------------------------ validate

    def context(self, today: date, actor: str | None) -> Context:
        """What the rules need from the ledger; an unreadable or absent ledger adds nothing."""
        state = self.state
        if not state or not (state.startswith(("postgres", "sqlite:")) or os.path.exists(state)):
            return ledger_context(None, today, actor)
        from reconciler.ledger import LedgerError

        try:
            ledger = self.existing_ledger()
        except LedgerError:
            ledger = None
        return ledger_context(ledger, today, actor)

    def validate(self, path: str, today: date, actor: str | None, fork: bool = False
                 ) -> Validation:
        return validate(path, today, actor, context=self.context(today, actor), fork=fork)

    # ------------------------------------------------------------ plan

    def plan(self, loaded: Loaded, context: Context, base: Repo | None = None) -> Planned:
        """Read-only: the plan against the ledger (or against `base`'s plan, a pull
        request's base), the device changes it makes, and the holdings it started from."""
        from reconciler.ledger.model import Holdings
        from reconciler.plan.changes import device_changes, items_of
        from reconciler.plan.planner import make_plan

        ledger = self.existing_ledger()
        holdings = ledger.holdings() if ledger else Holdings()
        applied = ledger.applied() if ledger else {}
        # statuses were read once already, for the rules (D2, D5, S4)
        active = {n for n, status in context.service_status.items() if status == "Active"}
        if base is not None:
            base_plan = make_plan(base, holdings, context.today, active)
            holdings = base_plan.after
            applied = {name: items_of(intent) for name, intent in base_plan.intents.items()}
        result = make_plan(loaded.repo, holdings, context.today, active)
        return result, device_changes(result, applied), holdings

    # ------------------------------------------------------------ apply

    def apply(
        self,
        repo: Repo,
        today: date,
        parallel: int = 4,
        progress: Progress | None = None,
        guard: Guard | None = None,
        lock: bool = True,
        seq: int = 0,
        ahead: Ahead | None = None,
        fork: bool = False,
        also: Callable[[LedgerTransaction], None] | None = None,
    ) -> ApplyResult:
        """Allocate in the ledger and converge every device (see reconciler.apply); `guard`:
        the G1/G2 settings of this apply; `lock=False` when the caller holds the apply lock
        (`seq`: the number it was given); `ahead`: a plan made earlier (plan_ahead); `fork`:
        the CLI lets compute-bound devices converge in a forked child too; `also`: what the
        caller records in the apply's last transaction."""
        from reconciler.apply import apply

        return apply(repo, self.ledger(), today, self.driver_for, self.credential_lookup(),
                     parallel, progress, guard=guard, lock=lock, seq=seq, ahead=ahead,
                     fork=fork, also=also)

    def plan_ahead(self, repo: Repo, today: date) -> Ahead:
        """What `apply` would plan against the ledger as it is now (read only: an apply
        that holds the ledger uses it if nothing changed meanwhile)."""
        from reconciler.apply import plan_ahead

        return plan_ahead(repo, self.existing_ledger(), today)

    def credential_lookup(self) -> CredentialLookup:
        if self.credentials is None:
            from drivers.credentials import CredentialStore

            self.credentials = CredentialStore().get
        return self.credentials

    # ------------------------------------------------------------ drift

    def recorded_intents(self) -> dict[str, Intent]:
        """Each device's intent of the last apply, from the ledger (none without one)."""
        from reconciler.apply import last_intent

        ledger = self.existing_ledger()
        found = {}
        for name, (_, text) in (ledger.intents() if ledger else {}).items():
            intent = last_intent(text, None)
            if intent is not None:
                found[name] = intent
        return found

    def drift(self, repo: Repo, parallel: int = 4) -> DriftReport:
        """Read every device of the desired state that an apply configured — one session
        each, `parallel` at a time — and compare its managed resources with the intent of
        its last apply. Nothing is sent. A device that cannot be read is reported as such,
        never as in sync."""
        from concurrent.futures import ThreadPoolExecutor

        from reconciler import drift

        targets, sites, unapplied = drift.baselines(repo, self.recorded_intents())
        credentials = self.credential_lookup()
        # built before the threads start: building one imports its platform module
        drivers = {name: self._driver_or_error(intent) for name, intent in targets.items()}
        with ThreadPoolExecutor(max_workers=max(parallel, 1)) as pool:
            read = {
                name: pool.submit(_read_drift, drivers[name], intent, credentials, name)
                for name, intent in sorted(targets.items())
            }
            devices = [
                drift.device_drift(repo, sites[name], targets[name], *future.result())
                for name, future in read.items()
            ]
        return drift.DriftReport(devices, unapplied)

    def repair(
        self, repo: Repo, parallel: int = 4, progress: Progress | None = None,
        guard: Guard | None = None, devices: Collection[str] | None = None,
        seq: int | None = None,
    ) -> ApplyResult:
        """`apply --only-drift`: put the intent of the last apply back where a device
        drifted from it (of `devices`, default all); no allocation, release or other pending
        change. `seq`: the caller holds the apply lock, with that number."""
        from reconciler import drift
        from reconciler.apply import repair_drift

        endpoints = {name: endpoint for name, (_, endpoint) in drift.endpoints(repo).items()
                     if devices is None or name in devices}
        return repair_drift(self.ledger(), endpoints, self.driver_for,
                            self.credential_lookup(), parallel, progress, guard, seq)

    def _driver_or_error(self, intent: Intent) -> AnyDriver | Exception:
        try:
            return self.driver_for(intent)
        except Exception as exc:  # an unknown platform, a missing extra: that device's error
            return exc

    # ------------------------------------------------------------ report

    def holdings(self) -> Holdings:
        from reconciler.ledger.model import Holdings

        ledger = self.existing_ledger()
        return ledger.holdings() if ledger else Holdings()

    def recorded(self, kind: str) -> Mapping[str, tuple[str, str]]:
        """Statuses the ledger recorded for `kind` (Service, Activated, Occupier)."""
        ledger = self.existing_ledger()
        if ledger is None:
            return {}
        return {name: (r.status, r.reason) for name, r in ledger.statuses(kind).items()}

    def pools(self, repo: Repo) -> list[dict[str, object]]:
        """Utilization per site and pool; past POOL_WARNING is flagged (N4)."""
        from reconciler.plan.pools import POOL_WARNING, pool_usage

        return [
            {
                "site": u.site,
                "pool": u.pool,
                "used": u.used,
                "size": u.size,
                "percent": round(u.ratio * 100, 1),
                "warning": u.ratio >= POOL_WARNING,
            }
            for u in pool_usage(repo, self.holdings())
        ]



def _read_drift(
    driver: AnyDriver | Exception, intent: Intent, credentials: CredentialLookup, name: str
) -> tuple[list[tuple[str, str, str, str]], str]:
    """One device's drift: (resource, running, intended, occupier) per difference, or why
    it could not be read (one line)."""
    from drivers.base import DriverError

    try:
        if isinstance(driver, Exception):
            raise driver
        remediation = driver.drift(intent, credentials(name))
    except DriverError as exc:
        return [], exc.reason
    except Exception as exc:
        return [], f"{type(exc).__name__}: {exc}"
    changes = [(c.resource, c.running, c.intended, c.occupier) for c in remediation.changes]
    if remediation and not changes:  # a platform that cannot name its resources
        changes = [("configuration", f"{len(remediation.steps)} step(s) from the intent",
                    "the intent of the last apply", "")]
    return changes, ""
