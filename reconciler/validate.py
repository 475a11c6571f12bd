"""validate = load → rules → positions. The one entry point the CLI, CI and webhook share."""

# Annotations are objects (no `from __future__ import annotations`): `reconciler.refs` says why.
import os
from collections.abc import Callable, Iterable
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from reconciler.findings import Finding, sort_key
from reconciler.load import Loaded, Positions, gc_paused, load
from reconciler.model.repo import Repo
from reconciler.parse import Parsing
from reconciler.rules import HALF, RULES, Context
from reconciler.timeline import check  # every rule today, the dated ones on each later date

if TYPE_CHECKING:
    from reconciler.change import Change
    from reconciler.ledger.protocol import Ledger


class Validation(NamedTuple):
    """A validation's findings, and the documents they were found in."""

    loaded: Loaded
    findings: list[Finding]

    @property
    def repo(self) -> Repo:
        return self.loaded.repo

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors


def recorded_context(repo: Repo, context: Context) -> Context:
    """Add statuses carried by the documents themselves (read back from a cluster)."""
    phases = dict(context.occupier_phase)
    for occupier in repo.occupiers.values():
        phase = (occupier.status or {}).get("phase")
        if isinstance(phase, str):
            phases.setdefault(occupier.name, phase)
    statuses = dict(context.service_status)
    for service in repo.services.values():
        phase = (service.status or {}).get("phase")
        if isinstance(phase, str):
            statuses.setdefault(service.name, phase)
    return context._replace(occupier_phase=phases, service_status=statuses)


def measured(loaded: Loaded, context: Context) -> Context:
    """P1 judges the change: with a base (a git ref's state, or the one the ledger recorded
    at the last apply) the change is measured against the loaded repo. Only with an actor:
    nothing else needs it."""
    if context.actor is None:
        return context
    change = context.change
    if change is None and context.base is None and context.base_ref is not None:
        from reconciler.baseline import change_since

        change = change_since(loaded, context.base_ref)
        context = context._replace(change=change)
    if change is None and context.base is not None:
        from reconciler.change import between, state

        after = state(loaded.repo, loaded.root)
        change = between(context.base, after, context.base_label, loaded.root)
        context = context._replace(change=change)
    if change is not None:
        loaded.repo.memo[MEASURED] = change
    return context


MEASURED = ("change", "measured")


def measured_change(repo: Repo) -> "Change | None":
    """The change P1 judged on this repo (None: no base, every document counted)."""
    found = repo.memo.get(MEASURED)
    if found is None:
        return None
    from reconciler.change import Change  # (none measured, none imported)

    return found if isinstance(found, Change) else None


def ledger_context(ledger: "Ledger | None", today: date, actor: str | None) -> Context:
    """What the ledger recorded that the rules need: service statuses (D2), decommission
    phases (D2, D5) and the documents as they were when a decommission started (D5)."""
    if ledger is None:
        return Context(today=today, actor=actor)
    services = {name: r.status for name, r in ledger.statuses("Service").items()}
    from reconciler.decommission import Record  # (a ledger's records only)

    records = {
        name: Record.decode(r.status, r.reason) for name, r in ledger.statuses("Occupier").items()
    }
    return Context(
        today=today,
        actor=actor,
        service_status=services,
        occupier_phase={name: r.phase for name, r in records.items()},
        fingerprints={name: r.docs for name, r in records.items() if r.docs},
        existing_services=frozenset(services) if services else None,
        recorded_terms=_terms(ledger),
        active_numbers=automatic_numbers(ledger),
    )


def ledger_findings(repo: Repo, ledger: "Ledger", context: Context) -> list[Finding]:
    """What only the ledger knows, at the document's line: a number in cooling-off or held by
    another occupier (T2), a floor port in use by another (N3), a pool with nothing left or
    past 90 % (N4). The planner finds them; nothing is written."""
    from reconciler.plan.planner import make_plan

    active = {n for n, status in context.service_status.items() if status == "Active"}
    plan = make_plan(repo, ledger.holdings(), context.today, active)
    return plan.findings


def automatic_numbers(ledger: "Ledger") -> dict[tuple[str, str], tuple[str, ...]]:
    """The numbers the first voice service activated (T1), as the last apply recorded them,
    that the ledger still holds active for the occupier."""
    from reconciler.ledger.model import Kind, State  # with a ledger only

    records = ledger.statuses("AutoNumbers")
    if not records:
        return {}
    holdings = ledger.holdings()
    out: dict[tuple[str, str], tuple[str, ...]] = {}
    for key, record in records.items():
        holder, _, site = key.partition(" ")
        rows = [holdings.by_key.get((site, Kind.NUMBER, n)) for n in record.status.split()]
        still = tuple(
            r.value for r in rows if r and r.holder == holder and r.state is State.ACTIVE
        )
        if still:
            out[holder, site] = still
    return out


def _terms(ledger: "Ledger") -> dict[str, tuple[str, int]]:
    """What apply recorded of each line's definition and quantity ("name quantity")."""
    out: dict[str, tuple[str, int]] = {}
    for name, record in ledger.statuses("Terms").items():
        definition, _, quantity = record.status.partition(" ")
        if quantity.isdigit():
            out[name] = (definition, int(quantity))
    return out


def run_rules(loaded: Loaded, context: Context, fork: bool = False) -> list[Finding]:
    """Rules run only on a repo that loaded cleanly: a document that failed its schema would
    otherwise show up again as a dangling reference. `fork`: a large repo's rules may use a
    second core (CLI only: never fork the threaded operator)."""
    if any(f.is_error for f in loaded.findings):
        return list(loaded.findings)
    ctx = measured(loaded, recorded_context(loaded.repo, context))
    if fork and len(loaded.repo.sources) >= PARALLEL_FROM and hasattr(os, "fork"):
        return loaded.findings + _check_on_two_cores(loaded.repo, ctx)
    return loaded.findings + check(loaded.repo, ctx)


T = TypeVar("T")
# validate_and: a few light rules run here after `then`, the rest in the child, so both
# cores finish together.
ALONGSIDE_THEN = frozenset({"S2", "S3", "S8", "S9", "S10"})
ALONGSIDE_THE_REST = frozenset(RULES) - ALONGSIDE_THEN

PARALLEL_FROM = 5_000  # documents; below this a fork costs more than it saves


# T2 asks libphonenumber, whose start (its import and the regions' metadata, about 50 ms)
# is as much as all the other rules on a repo of a thousand occupiers: below this many
# documents T2 runs in a child of its own, and the two cores are shared among three
# processes; on a larger repo the third fork costs more than it saves (bench/validate.py).
PHONE_APART_BELOW = 20_000
PHONE = frozenset({"T2"})


def _check_on_two_cores(repo: Repo, ctx: Context) -> list[Finding]:
    """Half of the rules run in a forked child (and T2, on a smaller repo, in another), the
    rest here; each process locates its own findings (a finding in every file costs about
    as much to locate as to find). A child that failed leaves its rules to be run here."""
    from reconciler.forked import in_child  # (here and below: a large repo only)

    apart = [PHONE, HALF] if len(repo.sources) < PHONE_APART_BELOW else [HALF]
    children = [(rules, in_child(partial(_placed, repo, ctx, rules))) for rules in apart]
    here = [rule for rule in RULES if not any(rule in rules for rules in apart)]
    findings = located(check(repo, ctx, here), True)
    for rules, result in children:
        found = result()
        findings += found if found is not None else check(repo, ctx, rules)
    return findings


def _placed(repo: Repo, ctx: Context, rules: frozenset[str]) -> list[Finding]:
    """What a child sends back: its rules' findings, at their file:line:column."""
    return Positions().resolve(check(repo, ctx, rules))


LOCATE_IN_TWO_FROM = 1_000  # findings


def located(findings: list[Finding], fork: bool = False) -> list[Finding]:
    """The findings at their file:line:column. `fork` (CLI only): many findings are located
    half here, half in a forked child, and come back in their order."""
    unplaced = sum(1 for f in findings if not f.file)  # the two-core rules placed theirs
    if not fork or unplaced < LOCATE_IN_TWO_FROM or not hasattr(os, "fork"):
        return Positions().resolve(findings)
    from reconciler.forked import in_child

    odd = in_child(lambda: Positions().resolve(findings[1::2]))
    out = list(findings)
    out[0::2] = Positions().resolve(findings[0::2])
    there = odd()
    out[1::2] = there if there is not None else Positions().resolve(findings[1::2])
    return out


def validate(
    path: str,
    today: date,
    actor: str | None = None,
    files: Iterable[str] | None = None,
    context: Context | None = None,
    fork: bool = False,
    parsing: Parsing | None = None,
) -> Validation:
    """`parsing`: the files' parse, already started in a forked child (CLI only)."""
    with gc_paused():
        loaded = load(path, files, fork=fork, parsing=parsing)
        ctx = context or Context(today=today, actor=actor)
        findings = located(run_rules(loaded, ctx, fork), fork)
    findings.sort(key=sort_key)
    return Validation(loaded, findings)


def validate_and(
    path: str, context: Context, then: Callable[[Loaded], T], parsing: Parsing | None = None
) -> tuple[Validation, T | None]:
    """Validate and, meanwhile, run `then` (read-only work such as planning) on the loaded
    repo: on a large repo the rules run in a forked child while `then` runs here, so a plan
    costs little more than a validation. `then`'s result is None when the input is invalid
    (it must not be shown) or when `then` itself failed on it. `parsing`: the files' parse,
    already started in a forked child."""
    with gc_paused():
        loaded = load(path, fork=True, parsing=parsing)
        outcome: T | None = None
        if any(f.is_error for f in loaded.findings):
            raw = list(loaded.findings)
        elif len(loaded.repo.sources) >= PARALLEL_FROM and hasattr(os, "fork"):
            ctx = measured(loaded, recorded_context(loaded.repo, context))
            from reconciler.forked import in_child

            rules = in_child(lambda: check(loaded.repo, ctx, ALONGSIDE_THE_REST))
            try:
                outcome = then(loaded)
            except Exception:  # rerun below, once the input is known valid
                outcome = None
            here = check(loaded.repo, ctx, ALONGSIDE_THEN)
            found = rules()
            if found is None:
                found = check(loaded.repo, ctx, ALONGSIDE_THE_REST)
            raw = loaded.findings + here + found
        else:
            raw = run_rules(loaded, context, fork=True)
        findings = located(raw, fork=True)
    findings.sort(key=sort_key)
    validation = Validation(loaded, findings)
    if not validation.ok:
        return validation, None
    return validation, outcome if outcome is not None else then(loaded)
