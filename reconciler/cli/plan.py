"""`tenantry plan`: what `apply` would allocate, configure and release, through the App (the
ledger is opened there, read only); it never writes anything."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from reconciler import output
from reconciler.cli.common import (
    EXIT_CHANGES,
    EXIT_FAILED,
    EXIT_OK,
    checked_ref,
    day_of,
    names,
    note,
    rules_context,
)
from reconciler.cli.drift import drift_report
from reconciler.cli.options import (
    actor_option,
    approvers_option,
    drivers_option,
    ledger_option,
    mass_release_option,
    out_option,
    path_argument,
    report_format_option,
    today_option,
)

if TYPE_CHECKING:
    from reconciler.app import Planned
    from reconciler.change import State
    from reconciler.load import Loaded


@click.command()
@path_argument
@click.option(
    "--base",
    "base_ref",
    metavar="GIT_REF",
    help="Plan only what changed since this commit (a pull request's base).",
)
@report_format_option
@click.option(
    "--refresh",
    is_flag=True,
    help="Also read every device: its drift from the last apply, which apply repairs.",
)
@drivers_option
@out_option
@mass_release_option
@ledger_option
@today_option
@actor_option
@approvers_option
def plan(
    path: str,
    base_ref: str | None,
    fmt: str,
    refresh: bool,
    drivers: str,
    out: str,
    allow_mass_release: bool,
    state: str,
    today: str | None,
    actor: str | None,
    approved_by: str | None,
) -> int:
    """Show what `apply` would allocate, configure and release. Never writes anything.
    Exit 0: no changes; 2: changes (or drift, with --refresh); 1: invalid input, or a device
    --refresh could not read. P1 judges the change since --base."""
    args = (path, base_ref, fmt, allow_mass_release, state, today, actor, names(approved_by))
    if not refresh:
        return run_plan(*args)
    return _refreshed(args, drivers, out)


def _refreshed(args: tuple[Any, ...], drivers: str, out: str) -> int:
    """The plan, then the drift `apply` will also repair (JSON: one document, key `drift`)."""
    import contextlib
    import io
    import json

    from reconciler import drift
    from reconciler.app import App

    planned = io.StringIO()
    with contextlib.redirect_stdout(planned):
        code = run_plan(*args)
    if code == EXIT_FAILED:
        click.echo(planned.getvalue(), nl=False)
        return code
    path, state, fmt = args[0], args[4], args[2]
    report = drift_report(path, App(state, drivers, out), 4, required=False)
    if not report.devices:  # nothing applied yet: the plan is all there is
        click.echo(planned.getvalue(), nl=False)
        return code
    if fmt == "json":
        doc = json.loads(planned.getvalue())
        click.echo(json.dumps({**doc, "drift": json.loads(drift.as_json(report))}, indent=2))
    else:
        click.echo(planned.getvalue() + drift.FORMATS[fmt](report))
    return report.exit_code or code


def run_plan(
    path: str,
    base_ref: str | None,
    fmt: str,
    allow_mass_release: bool,
    state: str,
    today: str | None,
    actor: str | None,
    approvers: frozenset[str],
    given_base: tuple[State, str] | None = None,
) -> int:
    """`plan`; `given_base`: P1's base when it is not a git ref (`decommission`)."""
    from reconciler.parse import start

    parsing = start(path)  # a large repo's files parse in a child while the rest loads
    from reconciler import baseline, gitbase, guards, present
    from reconciler.app import App
    from reconciler.load import Positions
    from reconciler.plan.pools import pool_usage
    from reconciler.report import case_notes, plan_usage
    from reconciler.validate import validate_and

    day = day_of(today)
    if base_ref is not None:
        checked_ref(path, base_ref)
    app = App(state)

    def planning(loaded: Loaded) -> Planned:
        """Read-only: the ledger, the base (if any), the plan; runs while the rules do."""
        before = baseline.repo_at(loaded, base_ref)[0] if base_ref is not None else None
        result, changes, holdings = app.plan(loaded, context, before)
        if app.existing_ledger() is not None and not result.errors:
            phases = {n: status for n, (status, _) in app.recorded("Occupier").items()}
            result.findings += guards.g1_releases(
                loaded.repo,
                result,
                holdings,
                day,
                guards.recorded_contracts(app.recorded("Contract")),
                phases,
                allow_mass_release,
                path,
            )
        return result, changes, holdings

    context = rules_context(state, day, actor, approvers, given_base)
    if base_ref is not None and given_base is None:  # P1 measures from it, once loaded
        context = context._replace(base_ref=base_ref)
    try:
        head, planned = validate_and(path, context, planning, parsing)
    except gitbase.GitError as exc:
        raise click.UsageError(f"--base {base_ref}: {exc}") from None
    note(head.repo, context)
    if planned is None:
        click.echo(output.render(head.findings, "human", checked=len(head.repo.sources)))
        return EXIT_FAILED
    result, changes, holdings = planned
    findings = Positions().resolve([f for f in head.findings if not f.is_error] + result.findings)
    existing = set(holdings.by_key)
    pairs = [(a.site, a.holder) for a in result.allocations]
    pairs += [(r.allocation.site, r.allocation.holder) for r in result.releases]
    usage = plan_usage(head.repo, result.after, pairs, day)
    active = {n for n, status in context.service_status.items() if status == "Active"}
    notes = case_notes(head.repo, result.services, active)
    if fmt == "json":
        click.echo(present.as_json(result, changes, existing, findings))
    elif fmt == "markdown":
        pools = pool_usage(head.repo, result.after)
        click.echo(present.markdown(result, changes, existing, findings, pools, usage, notes))
    else:
        click.echo(present.text(result, changes, existing, findings, usage, notes))
    if result.errors:
        return EXIT_FAILED
    return EXIT_CHANGES if (result.changes or changes) else EXIT_OK
