"""`tenantry apply` and `tenantry decommission`: the commands that change something — the
ledger and the devices (through the App), or an occupier's document."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.change import state as state_of
from reconciler.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    day_of,
    names,
    read_ledger,
    rules_context,
    validated,
    validated_and,
)
from reconciler.cli.options import (
    actor_option,
    approvers_option,
    drivers_option,
    ledger_option,
    mass_release_option,
    out_option,
    parallel_option,
    path_argument,
    today_option,
)
from reconciler.cli.plan import run_plan
from reconciler.load import Positions, load

if TYPE_CHECKING:
    from reconciler.apply import Ahead, ApplyResult
    from reconciler.ledger.protocol import LedgerTransaction
    from reconciler.ledger.sql import DesiredRow
    from reconciler.model.repo import Repo


@click.command("apply")
@path_argument
@drivers_option
@out_option
@parallel_option
@click.option(
    "--transcript",
    "transcript_file",
    type=click.Path(dir_okay=False),
    help="Write what each device was sent (sessions, reads, configuration commands) and "
    "each device failure as JSON to this file.",
)
@click.option(
    "--only-drift",
    is_flag=True,
    help="Only repair drift: give each device back the intent of the last apply; allocate, "
    "release and send nothing else.",
)
@mass_release_option
@ledger_option
@today_option
@actor_option
@approvers_option
def apply_command(
    path: str,
    drivers: str,
    out: str,
    parallel: int,
    transcript_file: str | None,
    only_drift: bool,
    allow_mass_release: bool,
    state: str,
    today: str | None,
    actor: str | None,
    approved_by: str | None,
) -> int:
    """Validate, plan, then allocate in the ledger and configure every device. P1 judges the
    change since the desired state the last apply carried out (recorded in the ledger)."""
    from reconciler.parse import start

    # a large repo's files parse in a child while the rest loads (not for --only-drift,
    # which validates on its own)
    parsing = None if only_drift else start(path)
    from reconciler import baseline
    from reconciler.app import App
    from reconciler.apply import Guard
    from reconciler.ledger import LedgerError
    from reconciler.memory import gc_paused

    day = day_of(today)
    base = baseline.recorded(read_ledger(state))
    context = rules_context(state, day, actor, names(approved_by), base)
    guard = Guard(allow_mass_release, _apply_wait(), os.path.abspath(path), actor or "", path)
    app = App(state, drivers, out)  # opens the ledger, the drivers and the credentials
    ahead: Ahead | None = None
    desired: Callable[[], dict[str, DesiredRow] | None] | None = None
    if only_drift:
        head = validated(path, day, actor, state, context)
    else:
        # planned while the rules run (the apply plans again if the ledger changes meanwhile)
        head, ahead = validated_and(
            path, context, lambda loaded: app.plan_ahead(loaded.repo, day), parsing
        )
        # what the ledger keeps of this desired state (P1's next base), computed in a child
        # while the ledger allocates (the other core's idle time)
        desired = _desired_meanwhile(head.repo, path)

    def progress(device: str, outcome: str) -> None:
        click.echo(f"  {device}: {outcome}", err=True)

    try:
        with gc_paused():  # the plan, the intents, the records: acyclic, freed at the end
            if only_drift:
                result = app.repair(head.repo, parallel, progress, guard)
            else:
                # the desired state carried out is recorded with the statuses (P1's next base)
                def record_desired(tx: LedgerTransaction) -> None:
                    baseline.record(tx, head.repo, path, desired() if desired else None)

                result = app.apply(
                    head.repo,
                    day,
                    parallel,
                    progress,
                    guard=guard,
                    ahead=ahead,
                    fork=True,
                    also=record_desired,
                )
    except LedgerError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_FAILED
    repairs = [(d, r) for d, t in sorted(result.transcripts.items()) for r in t.repairs]
    for device, (resource, found, restored) in repairs:
        click.echo(f"repaired {device} {resource}: {found} -> {restored}")
    if only_drift:
        for device, reason in sorted(result.failures.items()):
            click.echo(f"FAILED {device}: {reason}")
        _write_transcript(transcript_file, result)
        click.echo(
            f"Repaired: {len(repairs)} drifted resource(s) on {len({d for d, _ in repairs})} "
            f"device(s), {len(result.failures)} failed, in {result.seconds:.2f}s."
        )
        return EXIT_OK if result.ok else EXIT_FAILED
    findings = Positions().resolve(result.plan.findings)
    for finding in findings:
        click.echo(finding.text())
    if result.plan.errors:
        click.echo("nothing applied: the plan has errors")
        return EXIT_FAILED
    for device, reason in sorted(result.failures.items()):
        click.echo(f"FAILED {device}: {reason}")
    _write_transcript(transcript_file, result)
    click.echo(
        f"Applied: {len(result.plan.allocations)} allocated or changed, {result.released} "
        f"released, {result.commands} commands to {len(result.transcripts)} devices, "
        f"{len(result.failures)} failed, in {result.seconds:.2f}s."
    )
    return EXIT_OK if result.ok else EXIT_FAILED


def _write_transcript(file: str | None, result: ApplyResult) -> None:
    """--transcript: what each device was sent, the drift it repaired, and the failures."""
    if not file:
        return
    devices = {
        name: {
            "sessions": t.sessions,
            "reads": t.reads,
            "commands": t.commands,
            "repairs": [list(r) for r in t.repairs],
        }
        for name, t in sorted(result.transcripts.items())
    }
    record = {"devices": devices, "failures": dict(sorted(result.failures.items()))}
    Path(file).write_text(json.dumps(record, indent=2) + "\n")


def _desired_meanwhile(repo: Repo, path: str) -> Callable[[], dict[str, DesiredRow] | None]:
    """The desired state's rows for the ledger, computed in a forked child while the apply
    runs here (a large repo: a digest per document); None from the returned function when
    there was no child or it failed (then they are computed here)."""
    from reconciler import baseline
    from reconciler.forked import in_child
    from reconciler.validate import PARALLEL_FROM

    if len(repo.sources) < PARALLEL_FROM or not hasattr(os, "fork"):
        return lambda: None
    return in_child(lambda: baseline.desired_rows(repo, path))


def _apply_wait() -> float:
    """How long an apply waits for another apply of the same ledger (G2)."""
    try:
        return float(os.environ.get("TENANTRY_APPLY_WAIT", "600"))
    except ValueError:
        raise click.UsageError("TENANTRY_APPLY_WAIT must be a number of seconds") from None


@click.command("decommission")
@click.argument("occupier")
@click.argument("path", default=".", type=click.Path(exists=True))
@click.option("--at", "at", metavar="YYYY-MM-DD", help="Schedule it for this day (D1).")
@ledger_option
@today_option
@actor_option
@approvers_option
def decommission_command(
    occupier: str,
    path: str,
    at: str | None,
    state: str,
    today: str | None,
    actor: str | None,
    approved_by: str | None,
) -> int:
    """Write the decommission request (D1) into OCCUPIER's document, then show the plan,
    judging (P1, D2) the request it wrote. Commit the change and open a pull request: that
    is the confirmation step."""
    from reconciler import edits
    from reconciler.model.repo import Ref

    loaded = load(path)
    before = (state_of(loaded.repo, path), "before the request")
    doc = loaded.repo.occupiers.get(occupier)
    source = loaded.repo.sources.get(Ref("Occupier", occupier))
    if doc is None or source is None:
        raise click.UsageError(f"no Occupier named {occupier!r} below {path}")
    if doc.spec.decommission is not None:
        click.echo(f"{source.file}: {occupier} already has a decommission request")
        return EXIT_FAILED
    when = day_of(at) if at else None
    try:
        edits.request_decommission(source, doc.spec.display_name, when)
    except edits.EditError as exc:
        click.echo(f"{source.file}: {exc}")
        return EXIT_FAILED
    click.echo(
        f"{source.file}: decommission of {occupier} requested"
        + (f" for {when}" if when else "")
        + "\n"
    )
    return run_plan(path, None, "human", False, state, today, actor, names(approved_by), before)
