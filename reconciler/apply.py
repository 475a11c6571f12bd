"""The executor: plan → ledger → drivers → statuses. The shell around the pure planner.

Order of events, chosen so that a failure (or a `kill -9`) at any point leaves each device in
its old or its new state and the next run converges, with nothing leaked or held twice:

1. one exclusive ledger transaction: read holdings, plan, write new allocations (the database
   refuses a second holder), mark the services being provisioned Updating;
2. every device gets its whole intent (one session per device, devices in parallel);
3. a second transaction carries out the releases of the sites whose devices all succeeded —
   a VLAN or address is free again only once no device uses it any more — and records
   Active / Failed per service, with the reason, and the billing history (a line is charged
   from the apply that made it Active, not from the one that allocated it).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from drivers.base import DriverError, Endpoint, Transcript, decode_intent, encode_intent
from drivers.contract import Driver
from reconciler import decommission
from reconciler.billing import history, recording
from reconciler.catalogue import quantity_of, statuses
from reconciler.guards import ContractRecord, contract_records, g1_releases, recorded_contracts
from reconciler.ledger.model import Holdings, Kind, State, StatusRecord
from reconciler.ledger.protocol import Ledger, LedgerTransaction
from reconciler.ledger.sql import LedgerConflict
from reconciler.model.repo import Repo
from reconciler.plan.changes import items_of
from reconciler.plan.needs import replaced
from reconciler.plan.planner import make_plan
from reconciler.plan.result import Intent, Plan

DriverFactory = Callable[[Intent], Driver[Any, Any, Any, Any]]
CredentialLookup = Callable[[str], Any]
Progress = Callable[[str, str], None]  # ("[done/total] device", "ok" | "failed: reason")


@dataclass
class ApplyResult:
    """What an apply did: its plan, each device's transcript, what failed and why."""

    plan: Plan
    transcripts: dict[str, Transcript] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    released: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures and not self.plan.errors

    @property
    def commands(self) -> int:
        return sum(len(t.commands) for t in self.transcripts.values())


@dataclass(frozen=True)
class Ahead:
    """A plan made before the apply held the ledger — the CLI makes it while the rules run —
    and what it was made from. The apply uses it only if, under its lock, the ledger still
    holds exactly those holdings and those Active services; otherwise it plans again."""

    plan: Plan
    holdings: Holdings
    active: frozenset[str]


def plan_ahead(repo: Repo, ledger: Ledger | None, today: date) -> Ahead:
    """The plan an apply would make now (`ledger` None: none exists yet, nothing held)."""
    holdings = ledger.holdings() if ledger is not None else Holdings(source=[])
    active = frozenset(_active(ledger)) if ledger is not None else frozenset()
    return Ahead(make_plan(repo, holdings, today, active), holdings, active)


def apply(
    repo: Repo,
    ledger: Ledger,
    today: date,
    driver_for: DriverFactory,
    credentials: CredentialLookup,
    parallel: int = 4,
    progress: Progress | None = None,
    applied: Mapping[str, Mapping[str, str]] | None = None,
    attempts: int = 3,
    guard: Guard | None = None,
    lock: bool = True,
    seq: int = 0,
    ahead: Ahead | None = None,
    fork: bool = False,
    also: Callable[[LedgerTransaction], None] | None = None,
) -> ApplyResult:
    """One reconcile, holding the ledger against other applies from the first read to the
    last write (G2): the plan is made under that lock, so concurrent applies end in the state
    of some sequential order. S8 make-before-break within it: when this pass makes an upgrade
    Active, a second pass retires the line it replaces (its ports parked, its resources
    released). `lock=False`: the caller already holds `ledger.apply_lock` (the operator reads
    the cluster under it), and `seq` is the number it was given (repairs cite it). `ahead`:
    a plan made earlier (plan_ahead), used if the ledger has not changed since. `fork`: the
    CLI's single-threaded process may fork a child to converge compute-bound devices on the
    machine's other core (never the threaded operator). `also`: what the caller records in
    the transaction that ends the apply (the CLI: the desired state carried out)."""
    run = _Run(
        repo,
        ledger,
        today,
        driver_for,
        credentials,
        parallel,
        progress,
        attempts,
        guard or Guard(),
        ahead=ahead,
        fork=fork,
        also=also,
    )
    if not lock:
        return _apply_locked(replace(run, seq=seq), applied)
    with ledger.apply_lock(run.guard.wait_s, run.guard.source, run.guard.actor) as number:
        return _apply_locked(replace(run, seq=number), applied)


@dataclass(frozen=True)
class Guard:
    """G1 and G2 settings of one apply: the mass-release override, how long to wait for
    another apply of the same ledger, and what the apply log records about this one."""

    allow_mass_release: bool = False
    wait_s: float = 600.0
    source: str = ""
    actor: str = ""
    root: str = "."
    allow_departures: bool = False  # the operator: deleting an Occupier object is the request
    # the operator without TENANTRY_REPAIR_DRIFT: a device whose intent did not change since
    # its last apply is not opened, so a change made on it by hand stays (the drift check
    # reports it) until someone repairs it
    leave_drift: bool = False


@dataclass(frozen=True)
class _Run:
    """What every pass of one apply works with."""

    repo: Repo
    ledger: Ledger
    today: date
    driver_for: DriverFactory
    credentials: CredentialLookup
    parallel: int
    progress: Progress | None
    attempts: int
    guard: Guard
    seq: int = 0  # this apply's number in the ledger's apply log (repairs cite it)
    ahead: Ahead | None = None  # a plan made before the lock, for the first pass only
    fork: bool = False  # compute-bound devices may also converge in a forked child
    also: Callable[[LedgerTransaction], None] | None = None  # recorded in the last transaction


def _apply_locked(run: _Run, applied: Mapping[str, Mapping[str, str]] | None) -> ApplyResult:
    repo = run.repo
    before = _active(run.ledger)
    result = _apply_once(run, applied)
    # after a clean pass exactly the provisioned services are Active: no need to re-read them
    if result.ok and set(replaced(repo, result.plan.services)) - set(replaced(repo, before)):
        # what this pass releases is what the upgrade retires: asked for by `replaces`
        retire = _apply_once(
            replace(run, guard=replace(run.guard, allow_mass_release=True), ahead=None,
                    also=None),
            None,
        )
        for name, transcript in retire.transcripts.items():
            done = result.transcripts.setdefault(name, Transcript(device=name))
            done.sessions += transcript.sessions
            done.reads += transcript.reads
            done.commands += transcript.commands
            done.repairs += transcript.repairs
        result.failures.update(retire.failures)
        result.released += retire.released
        result.seconds += retire.seconds
    return result


def _active(ledger: Ledger) -> set[str]:
    return {n for n, r in ledger.statuses("Service").items() if r.status == "Active"}


def _apply_once(run: _Run, applied: Mapping[str, Mapping[str, str]] | None) -> ApplyResult:
    started = time.perf_counter()
    repo, ledger, today = run.repo, run.ledger, run.today
    sites = sorted(repo.sites)
    plan = _allocate(repo, ledger, today, sites, run.attempts, run.guard, run.ahead)
    result = ApplyResult(plan)
    if plan.errors:
        return result
    last = applied if applied is not None else ledger.applied()
    recorded = ledger.intents()
    failed = ({n for n, r in ledger.statuses("Device").items() if r.status == "Failed"}
              if run.guard.leave_drift else set())
    targets = {
        name: intent for name, intent in plan.intents.items()
        if not (run.guard.leave_drift and name not in failed
                and _unchanged(name, intent, recorded))
    }
    baselines = {name: last_intent(recorded.get(name, ("", ""))[1], intent)
                 for name, intent in targets.items()}
    records = _DeviceRecords(ledger, run.seq)
    for name, transcript, failure, text in _converge(targets, baselines, run, records.flush):
        if failure is None:
            result.transcripts[name] = transcript
            items = items_of(targets[name])
            records.add(
                name,
                items if dict(last.get(name, {})) != items else None,
                (name, plan.sites_of_device.get(name, ""), text)
                if text != recorded.get(name, ("", ""))[1] else None,
                transcript.repairs,
            )
        else:
            result.failures[name] = failure
    records.flush()
    failed_sites = {plan.sites_of_device.get(d, "") for d in result.failures}
    result.released = _finish(
        repo, ledger, today, plan, sites, failed_sites, result.failures, run.guard.root,
        run.fork, run.also,
    )
    _record_devices(ledger, result)  # services keep one reason per site
    result.seconds = time.perf_counter() - started
    return result


def _converge(
    targets: Mapping[str, Intent],
    baselines: Mapping[str, Intent | None],
    run: _Run,
    idle: Callable[[], None] | None = None,
) -> Iterator[Converged]:
    """Every device gets its whole intent: (device, transcript, failure or None, the intent
    as recorded) as each finishes. Devices reached over the network converge `run.parallel`
    at a time in threads; those whose driver only computes (render) converge in turn in
    this thread meanwhile — and with `run.fork`, most of them in a forked child (_shares).
    `idle` is called whenever no device finished for FLUSH_S (the records of those that
    did are written then)."""
    # Drivers are built here, before any thread starts: building one imports its platform
    # module (scrapli, …), and imports racing in several threads can deadlock.
    drivers = {name: _driver(name, intent, run.driver_for) for name, intent in targets.items()}
    here = sorted(n for n, d in drivers.items() if not getattr(d, "waits_on_device", True))
    total, done = len(targets), 0

    def push(name: str) -> Converged:
        intent = targets[name]
        transcript, failure = _push(name, intent, drivers[name], run.credentials,
                                    baselines.get(name))
        return name, transcript, failure, encode_intent(intent) if failure is None else ""

    def finished(converged: Converged) -> Converged:
        nonlocal done
        done += 1
        if run.progress is not None:
            failure = converged[2]
            outcome = "ok" if failure is None else f"failed: {failure}"
            run.progress(f"[{done}/{total}] {converged[0]}", outcome)
        return converged

    # forked before any thread starts (a fork copies only the calling thread)
    mine, theirs = _shares(here, targets) if run.fork else (here, [])
    child = _ChildConverging(theirs, push) if theirs else None
    with ThreadPoolExecutor(max_workers=max(run.parallel, 1)) as pool:
        futures = {pool.submit(push, name): name for name in sorted(targets) if name not in here}
        try:
            for name in mine:
                yield finished(push(name))
                for converged in child.ready() if child is not None else ():
                    yield finished(converged)
            for converged in child.rest() if child is not None else ():
                yield finished(converged)
        finally:  # the apply stopped (a ledger fault): the child stops converging too
            if child is not None:
                child.stream.close()
        pending = set(futures)
        while pending:
            ended, pending = wait(pending, FLUSH_S, FIRST_COMPLETED)
            if not ended and idle is not None:
                idle()
            for future in sorted(ended, key=futures.__getitem__):
                yield finished(future.result())


Converged = tuple[str, Transcript, str | None, str]  # device, transcript, failure, intent

# From this many compute-bound devices on, a forked child converges most of them (below, the
# fork and the way back cost more than the other core gains).
FORK_DEVICES_FROM = 64


def _shares(names: list[str], targets: Mapping[str, Intent]) -> tuple[list[str], list[str]]:
    """(this process's devices, the child's), split by size — a router with a hundred
    gateways is worth many small switches — so that both end together: this process also
    records every device, so it renders less (MINE); all here when there are few."""
    if len(names) < FORK_DEVICES_FROM or not hasattr(os, "fork"):
        return names, []
    size = {n: sum(len(v) for v in vars(targets[n]).values() if type(v) is tuple) + 1
            for n in names}
    shares: tuple[list[str], list[str]] = ([], [])
    load = [0.0, 0.0]
    for name in sorted(names, key=lambda n: (-size[n], n)):
        side = 0 if load[0] / MINE <= load[1] / (1 - MINE) else 1
        shares[side].append(name)
        load[side] += size[name]
    return sorted(shares[0]), sorted(shares[1])


MINE = 0.4  # the share of the rendering this process keeps while the child renders the rest


class _ChildConverging:
    """Devices converging in a forked child: what it reports, and, at the end, the devices
    it did not report (it died) converged here."""

    def __init__(self, names: list[str], push: Callable[[str], Converged]) -> None:
        from reconciler.forked import from_child

        self.names, self.push = names, push
        self.reported: set[str] = set()
        self.stream = from_child(lambda: (push(name) for name in names))

    def ready(self) -> list[Converged]:
        """What the child reported so far, without waiting."""
        out = []
        while self.stream.ready():
            item = next(self.stream, None)
            if item is None:
                break
            self.reported.add(item[0])
            out.append(item)
        return out

    def rest(self) -> Iterator[Converged]:
        """The child's remaining devices as it reports them; those it never reported (it
        failed or was killed) converge here — converging again is harmless."""
        try:
            for item in self.stream:
                self.reported.add(item[0])
                yield item
        finally:
            self.stream.close()
        for name in self.names:
            if name not in self.reported:
                yield self.push(name)


FLUSH_S = 1.0  # a converged device's records wait at most about this long for others'


class _DeviceRecords:
    """What each converged device leaves in the ledger — the items `plan` compares with, the
    whole intent `drift` reads against, the drift repaired — written for many devices in one
    transaction: when the oldest waited FLUSH_S, when no device finished for that long, and
    at the end. A process killed meanwhile loses only those records: the next apply finds
    those devices converged and records them then."""

    def __init__(self, ledger: Ledger, seq: int) -> None:
        self.ledger, self.seq = ledger, seq
        self.applied: list[tuple[str, dict[str, str]]] = []
        self.intents: list[tuple[str, str, str]] = []
        self.repairs: list[tuple[str, list[tuple[str, str, str]]]] = []
        self.since: float | None = None

    def add(
        self,
        device: str,
        applied: dict[str, str] | None,
        intent: tuple[str, str, str] | None,
        repairs: list[tuple[str, str, str]],
    ) -> None:
        if applied is not None:
            self.applied.append((device, applied))
        if intent is not None:
            self.intents.append(intent)
        if repairs:
            self.repairs.append((device, repairs))
        now = time.monotonic()
        if self.since is None:
            self.since = now
        if now - self.since >= FLUSH_S:
            self.flush()

    def flush(self) -> None:
        if self.applied or self.intents or self.repairs:
            with self.ledger.transaction(()) as tx:
                for device, items in self.applied:
                    tx.record_applied(device, items)
                tx.record_intents(self.intents)
                for device, rows in self.repairs:
                    tx.record_repairs(self.seq, device, rows)
        self.applied, self.intents, self.repairs, self.since = [], [], [], None


def repair_drift(
    ledger: Ledger,
    endpoints: Mapping[str, Endpoint],
    driver_for: DriverFactory,
    credentials: CredentialLookup,
    parallel: int = 4,
    progress: Progress | None = None,
    guard: Guard | None = None,
    seq: int | None = None,
) -> ApplyResult:
    """`apply --only-drift`: put the intent of the last apply back on every device of
    `endpoints` (the desired state's devices, where they are reached now) that no longer
    runs it — nothing allocated or released, no other pending change sent. Under the apply
    lock, like an apply (`seq`: the caller holds it, with that number); each repair is
    recorded with the apply's number."""
    guard = guard or Guard()
    started = time.perf_counter()
    with ExitStack() as held:
        if seq is None:
            seq = held.enter_context(ledger.apply_lock(guard.wait_s, guard.source, guard.actor))
        targets: dict[str, Intent] = {}
        for name, (_, text) in ledger.intents().items():
            found = last_intent(text, None) if name in endpoints else None
            if found is not None:
                targets[name] = replace(found, endpoint=endpoints[name])
        run = _Run(Repo(), ledger, date.min, driver_for, credentials, parallel, progress, 1,
                   guard, seq)
        result = ApplyResult(Plan())
        records = _DeviceRecords(ledger, seq)
        for name, transcript, failure, _ in _converge(targets, targets, run, records.flush):
            if failure is None:
                result.transcripts[name] = transcript
                records.add(name, None, None, transcript.repairs)
            else:
                result.failures[name] = failure
        records.flush()
        _record_devices(ledger, result)
    result.seconds = time.perf_counter() - started
    return result


def _record_devices(ledger: Ledger, result: ApplyResult) -> None:
    """Each device's last apply result, for the dashboard."""
    with ledger.transaction(()) as tx:
        for device in sorted(result.transcripts):
            tx.set_status("Device", device, "Applied")
        for device, why in sorted(result.failures.items()):
            tx.set_status("Device", device, "Failed", why)


def _allocate(
    repo: Repo,
    ledger: Ledger,
    today: date,
    sites: list[str],
    attempts: int,
    guard: Guard,
    ahead: Ahead | None = None,
) -> Plan:
    known = ledger.statuses("Service")
    occupiers = _occupier_records(ledger)
    contracts = _contract_records(ledger)
    phases = {name: record.phase for name, record in occupiers.items()}
    for attempt in range(attempts):
        try:
            with ledger.transaction(sites) as tx:
                holdings = tx.holdings(ahead.holdings if ahead is not None else None)
                active = {n for n, r in known.items() if r.status == "Active"}
                if ahead is not None and holdings is ahead.holdings and active == ahead.active:
                    plan = ahead.plan  # made from exactly this ledger: the same plan
                else:
                    plan = make_plan(repo, holdings, today, active)
                ahead = None  # a retry after a conflict plans again
                if not plan.errors:
                    plan.findings += g1_releases(
                        repo,
                        plan,
                        holdings,
                        today,
                        contracts,
                        phases,
                        guard.allow_mass_release,
                        guard.root,
                        guard.allow_departures,
                    )
                if plan.errors:
                    return plan
                tx.apply(plan.allocations, holdings)
                for service in plan.services:
                    if getattr(known.get(service), "status", None) != "Active":
                        tx.set_status("Service", service, "Updating")
                for name, record in decommission.starting(repo, today, occupiers).items():
                    tx.set_status("Occupier", name, record.phase, record.encode())
                return plan
        except LedgerConflict:
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


@contextmanager
def _billing_rows(
    tx: LedgerTransaction,
    ledger: Ledger,
    repo: Repo,
    today: date,
    active: set[str],
    unprovisioned: Collection[str],
    fork: bool,
) -> Iterator[Callable[[], list[tuple[object, ...]]]]:
    """Issue 19: the billing history's new rows, for the transaction that records the
    services Active — what each line's terms are from today on (activation, changes,
    retirement, removal, decommission), so charges never depend on what the documents say
    later. `active`: the lines Active once this transaction commits (an upgrade among them
    retires its line, S8); `unprovisioned`: lines a device failure kept from going Active
    (not charged yet). The history is read and the stamp taken now; the rows are computed
    in a forked child meanwhile when `fork` and the repo is large (the function yielded
    gives them)."""
    events = [history.event_of(row) for row in tx.billing_rows()]
    timelines = history.fold(events)
    dated: dict[str, str] = {}
    for event in sorted(events, key=lambda e: e.stamp):
        dated[event.line] = event.dated
    activated = {}
    if not events:  # a ledger from before the billing history: start from its activations
        activated = {
            name: date.fromisoformat(r.status)
            for name, r in ledger.statuses("Activated").items()
        }
    retired = set(replaced(repo, active))
    stamp = tx.next_billing_stamp()

    def rows() -> list[tuple[object, ...]]:
        added = recording.recordings(
            repo, timelines, dated, today, retired, stamp, activated, unprovisioned
        )
        return [history.event_row(e) for e in added]

    if not fork or len(repo.services) < FORK_BILLING_FROM or not hasattr(os, "fork"):
        yield rows
        return
    from reconciler.forked import from_child

    child = from_child(lambda: [rows()])

    def rows_of_child() -> list[tuple[object, ...]]:
        found = next(child, None)
        return found if found is not None else rows()  # it failed: computed here

    try:
        yield rows_of_child
    finally:  # the child is reaped, also when the transaction failed before using its rows
        child.close()


# From this many lines on, the billing recording is computed in a forked child while the
# apply writes the statuses.
FORK_BILLING_FROM = 2000


def _driver(
    name: str, intent: Intent, driver_for: DriverFactory
) -> Driver[Any, Any, Any, Any] | Exception:
    """The device's driver, or the exception that building it raised (reported by _push)."""
    try:
        return driver_for(intent)
    except Exception as exc:
        return exc


def _unchanged(name: str, intent: Intent, recorded: Mapping[str, tuple[str, str]]) -> bool:
    return recorded.get(name, ("", ""))[1] == encode_intent(intent)


def last_intent(text: str, intent: Intent | None) -> Intent | None:
    """The recorded intent of a device's last apply, when there is one (of `intent`'s kind,
    unless None)."""
    try:
        found = decode_intent(text) if text else None
    except ValueError:  # written by another tenantry: nothing to compare with
        return None
    return found if intent is None or type(found) is type(intent) else None


def _push(
    name: str,
    intent: Intent,
    driver: Driver[Any, Any, Any, Any] | Exception,
    credentials: CredentialLookup,
    baseline: Intent | None = None,
) -> tuple[Transcript, str | None]:
    try:
        if isinstance(driver, Exception):
            raise driver
        if baseline is None:
            return driver.apply(intent, credentials(name)), None
        return driver.apply(intent, credentials(name), baseline), None
    except DriverError as exc:
        return Transcript(device=name), exc.reason
    except Exception as exc:
        return Transcript(device=name), f"{type(exc).__name__}: {exc}"


def _finish(
    repo: Repo,
    ledger: Ledger,
    today: date,
    plan: Plan,
    sites: list[str],
    failed_sites: set[str],
    failures: Mapping[str, str],
    root: str = ".",
    fork: bool = False,
    also: Callable[[LedgerTransaction], None] | None = None,
) -> int:
    """The apply's last transaction: the releases of the sites whose devices all converged,
    every status, and the billing history. The number of releases carried out."""
    reasons = {plan.sites_of_device.get(d, ""): f"{d}: {why}" for d, why in failures.items()}
    known = ledger.statuses("Service")
    activated = ledger.statuses("Activated")
    terms = {name: r.status for name, r in ledger.statuses("Terms").items()}
    automatic = {name: r.status for name, r in ledger.statuses("AutoNumbers").items()}
    occupiers = _occupier_records(ledger)
    contracts = ledger.statuses("Contract")
    with ledger.transaction(sites) as tx:
        # what is still held, to release only what nobody took meanwhile (none to release:
        # not read at all)
        current = tx.holdings() if plan.releases else Holdings()
        releases = [
            r
            for r in plan.releases
            if r.allocation.site not in failed_sites
            and current.by_key.get(r.allocation.key) == r.allocation
        ]
        tx.apply(releases, current)
        records = _service_records(repo, today, plan, known, failed_sites, reasons)
        active_now = {service for service, record in records.items() if record[0] == "Active"}
        # charged from the day a line is provisioned: a line whose device failed waits
        unprovisioned = {
            s
            for s in plan.services
            if repo.services[s].spec.site in failed_sites
            and getattr(known.get(s), "status", None) != "Active"
        }
        with _billing_rows(tx, ledger, repo, today, active_now, unprovisioned, fork) as billing:
            _record_services(tx, repo, today, records, known, failed_sites, activated, terms)
            _record_automatic_numbers(tx, repo, plan, automatic, failed_sites)
            for name, done in decommission.finishing(repo, today, occupiers, reasons).items():
                if done != occupiers.get(name):
                    tx.set_status("Occupier", name, done.phase, done.encode())
            _record_contracts(tx, repo, today, contracts, root)
            # while the billing rows are still being computed: the statuses, and what the
            # caller records with them
            tx.flush()
            if also is not None:
                also(tx)
            tx.add_billing_rows(billing())
    return len(releases)


def _service_records(
    repo: Repo,
    today: date,
    plan: Plan,
    known: Mapping[str, StatusRecord],
    failed_sites: set[str],
    reasons: Mapping[str, str],
) -> dict[str, tuple[str, str]]:
    """(status, reason) of every service once this apply ends: Active where its devices
    converged, Failed (with the device's reason) where they did not, Inactive when an Active
    upgrade replaced it (S8), else what its contract says today."""
    retired = replaced(repo, {n for n, r in known.items() if r.status == "Active"})
    records: dict[str, tuple[str, str]] = {}
    for service, status in statuses(repo, today).items():
        site = repo.services[service].spec.site
        if service in plan.services and site in failed_sites:
            records[service] = ("Failed", reasons.get(site, ""))
        elif service in plan.services:
            records[service] = ("Active", "")
        elif service in retired:
            records[service] = ("Inactive", f"replaced by {retired[service]}")
        else:
            records[service] = (str(status), "")
    return records


def _record_services(
    tx: LedgerTransaction,
    repo: Repo,
    today: date,
    records: Mapping[str, tuple[str, str]],
    known: Mapping[str, StatusRecord],
    failed_sites: set[str],
    activated: Mapping[str, StatusRecord],
    terms: Mapping[str, str],
) -> None:
    """The services' statuses that changed, each Active line's activation day and terms, and
    the services deleted from the repo (no longer provisioned once every device converged)."""
    for service, record in records.items():
        before = known.get(service)
        if before is None or (before.status, before.reason) != record:
            tx.set_status("Service", service, *record)
        if record[0] == "Active" and service not in activated:
            # S2/S3: a service whose contract started in the past is charged from here
            tx.set_status("Activated", service, today.isoformat())
        if record[0] == "Active":
            _record_terms(tx, repo, service, terms.get(service))
    for service, before in known.items():
        if service not in repo.services and not failed_sites and before.status != "Inactive":
            tx.set_status("Service", service, "Inactive", "removed from the desired state")


def _record_terms(tx: LedgerTransaction, repo: Repo, name: str, before: str | None) -> None:
    """The line's declared definition and quantity as provisioned: S4 refuses raising an
    inactive definition's quantity, or re-pointing a line to it, against this record."""
    service = repo.services[name]
    definition = repo.definitions.get(service.spec.definition)
    terms = f"{service.spec.definition} {quantity_of(service, definition)}"
    if terms != before:
        tx.set_status("Terms", name, terms)


def _record_automatic_numbers(
    tx: LedgerTransaction, repo: Repo, plan: Plan, before: Mapping[str, str], failed: set[str]
) -> None:
    """T1: the numbers the first voice service activated (none declared), by "occupier site":
    they are in use (S6 X) though no document names them, so S7 refuses removing their voice
    service while they are active."""
    now: dict[str, str] = {}
    for (site, holder), rows in plan.after.of.items():
        doc = repo.occupiers.get(holder)
        if site in failed or doc is None:
            continue
        if any(n.site == site for n in doc.spec.activations.numbers):
            continue
        numbers = sorted(r.value for r in rows if r.kind is Kind.NUMBER and r.state is State.ACTIVE)
        if numbers:
            now[f"{holder} {site}"] = " ".join(numbers)
    for key in sorted(set(now) | set(before)):
        if now.get(key, "") != before.get(key, ""):
            tx.set_status("AutoNumbers", key, now.get(key, ""))


def _contract_records(ledger: Ledger) -> dict[str, ContractRecord]:
    rows = ledger.statuses("Contract")
    return recorded_contracts({name: (r.status, r.reason) for name, r in rows.items()})


def _record_contracts(
    tx: LedgerTransaction,
    repo: Repo,
    today: date,
    known: Mapping[str, StatusRecord],
    root: str,
) -> None:
    """G1 needs, once an occupier's documents are gone, to know whether its contracts were
    still running (and where in the desired state they were): every apply records each
    contract's dates and file. `known`: the contracts recorded before this transaction."""
    for name, record in contract_records(repo, root).items():
        row = (record.status(today), record.encode())
        before = known.get(name)
        if before is None or (before.status, before.reason) != row:
            tx.set_status("Contract", name, *row)


def _occupier_records(ledger: Ledger) -> dict[str, decommission.Record]:
    return {
        name: decommission.Record.decode(r.status, r.reason)
        for name, r in ledger.statuses("Occupier").items()
    }
