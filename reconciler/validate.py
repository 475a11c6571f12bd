"""validate = load → rules → positions. The one entry point the CLI, CI and webhook share."""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

from reconciler.decommission import Record
from reconciler.findings import Finding, sort_key
from reconciler.load import Loaded, Positions, gc_paused, load
from reconciler.model.repo import Repo
from reconciler.rules import HALF, RULES, Context, check

if TYPE_CHECKING:
    from reconciler.ledger.sql import SqlLedger


@dataclass
class Validation:
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
    return replace(context, occupier_phase=phases, service_status=statuses)


def ledger_context(ledger: SqlLedger | None, today: date, actor: str | None) -> Context:
    """What the ledger recorded that the rules need: service statuses (D2), decommission
    phases (D2, D5) and the documents as they were when a decommission started (D5)."""
    if ledger is None:
        return Context(today=today, actor=actor)
    services = {name: r.status for name, r in ledger.statuses("Service").items()}
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
    )


def run_rules(loaded: Loaded, context: Context) -> list[Finding]:
    """Rules run only on a repo that loaded cleanly: a document that failed its schema would
    otherwise show up again as a dangling reference."""
    if any(f.is_error for f in loaded.findings):
        return list(loaded.findings)
    ctx = recorded_context(loaded.repo, context)
    if len(loaded.repo.sources) >= PARALLEL_FROM and hasattr(os, "fork"):
        return loaded.findings + _check_on_two_cores(loaded.repo, ctx)
    return loaded.findings + check(loaded.repo, ctx)


PARALLEL_FROM = 20_000  # documents; below this a fork costs more than it saves


def _check_on_two_cores(repo: Repo, ctx: Context) -> list[Finding]:
    """Half of the rules run in a forked child that shares the loaded repo copy-on-write and
    sends back only its findings. Used by the CLI only (never in the threaded operator)."""
    other = [rule for rule in RULES if rule not in HALF]
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_end)
        code = 0
        try:
            with os.fdopen(write_end, "wb") as out:
                pickle.dump(check(repo, ctx, HALF), out)
        except BaseException:
            code = 1
        os._exit(code)
    os.close(write_end)
    findings = check(repo, ctx, other)
    with os.fdopen(read_end, "rb") as incoming:
        data = incoming.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        return findings + check(repo, ctx, HALF)
    child: list[Finding] = pickle.loads(data)
    return findings + child


def validate(
    path: str,
    today: date,
    actor: str | None = None,
    files: Iterable[str] | None = None,
    context: Context | None = None,
) -> Validation:
    with gc_paused():
        loaded = load(path, files)
        ctx = context or Context(today=today, actor=actor)
        findings = Positions().resolve(run_rules(loaded, ctx))
    findings.sort(key=sort_key)
    return Validation(loaded, findings)
