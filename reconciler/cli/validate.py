"""`tenantry validate` and `tenantry pre-commit`: the rules over the desired state (and, with
--state, what only the ledger knows), as findings in the chosen format."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler import output
from reconciler.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    actor_option,
    approvers_option,
    checked_ref,
    day_of,
    names,
    note,
    path_argument,
    read_ledger,
    rules_context,
    today_option,
)
from reconciler.cli.entry import parsed_ahead
from reconciler.parse import start as start_parsing

if TYPE_CHECKING:
    from reconciler.change import State
    from reconciler.findings import Finding
    from reconciler.load import Loaded
    from reconciler.rules import Context


@click.command()
@path_argument
@click.option(
    "--format", "fmt", type=click.Choice(output.FORMATS), default="human", show_default=True
)
@today_option
@actor_option
@click.option(
    "--state",
    "state",
    envvar="TENANTRY_LEDGER",
    default=".tenantry/state.db",
    show_default=True,
    help="The ledger, read (never written) for recorded statuses.",
)
@click.option(
    "--changed-since",
    "changed_since",
    metavar="GIT_REF",
    help="Check only the documents changed since this commit (work tree included) and those "
    "that depend on them; same findings as a full run for those files (pre-commit, CI). "
    "P1 judges the change since it. A repository without commits is checked in full.",
)
@click.option(
    "--base",
    "base_ref",
    metavar="GIT_REF",
    help="P1 judges the change from this commit (a pull request's base) to PATH.",
)
@approvers_option
@click.option(
    "--write",
    "writes",
    multiple=True,
    metavar="FORMAT=FILE",
    help="Also write the findings in FORMAT to FILE (e.g. sarif=tenantry.sarif); repeatable.",
)
@click.option(
    "--horizon",
    "horizon",
    metavar="YYYY-MM-DD",
    help="Check every date of change up to this day (default: the last contract start or end, "
    "scheduled change or decommission); findings of later dates say `on DATE`.",
)
def validate(
    path: str,
    fmt: str,
    today: str | None,
    actor: str | None,
    state: str,
    changed_since: str | None,
    base_ref: str | None,
    approved_by: str | None,
    writes: tuple[str, ...],
    horizon: str | None,
) -> int:
    """Check every document below PATH against the schema and the catalogue rules, today and
    on every later date where the desired state changes."""
    day = day_of(today)
    targets = _write_targets(writes)
    base: tuple[State, str] | None = None  # P1's base, when not read from git
    if changed_since is not None:
        from reconciler.baseline import unborn  # git and the index: only for this option

        if unborn(path):
            changed_since = None  # no commit yet: everything is new, check it all
            if actor is not None and not base_ref:
                base = ({}, "nothing (no commit yet)")
    # A large repo's files are parsed in a forked child (from before click was imported, if
    # the entry point could tell the path) while this process imports the models (a third
    # of a second) and reads the ledger.
    # (never with --changed-since, which checks only some files: the entry point leaves it)
    parsing = parsed_ahead(path) or (start_parsing(path) if changed_since is None else None)
    from reconciler.validate import validate as run_validate

    # P1's base is read once the repo is loaded, from the documents that did not change and
    # git's copy of those that did (with --changed-since, by validate_changed)
    context = rules_context(state, day, actor, names(approved_by), base)
    if horizon is not None:
        context = replace(context, horizon=day_of(horizon))
    if actor is not None and base_ref:
        context = replace(context, base_ref=checked_ref(path, base_ref))
    if changed_since is not None:
        from reconciler.incremental import validate_changed

        judged_from = context.base_ref if base_ref else changed_since
        try:
            partial = validate_changed(
                path, changed_since, replace(context, base_ref=None), judged_from
            )
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        findings, checked = partial.findings, partial.documents
        loaded, covered = partial.loaded, set(partial.covered)
    else:
        from reconciler.gitbase import GitError

        try:
            result = run_validate(path, day, actor, context=context, fork=True, parsing=parsing)
        except GitError as exc:  # reading the files that changed since --base
            raise click.UsageError(f"--base {base_ref}: {exc}") from None
        findings, checked = result.findings, len(result.repo.sources)
        loaded, covered = result.loaded, None
    findings = findings + _ledger_only(state, loaded, context, findings, covered)
    repo = loaded.repo
    note(repo, context)
    text = output.render(findings, fmt, checked=checked)
    if text:
        click.echo(text)
    for target_fmt, file in targets:
        Path(file).write_text(output.render(findings, target_fmt, checked=checked) + "\n")
    return EXIT_FAILED if any(f.is_error for f in findings) else EXIT_OK


def _write_targets(writes: tuple[str, ...]) -> list[tuple[str, str]]:
    targets = []
    for item in writes:
        fmt, sep, file = item.partition("=")
        if not sep or fmt not in output.FORMATS or not file:
            raise click.BadParameter(
                f"{item!r}: expected FORMAT=FILE, FORMAT one of {', '.join(output.FORMATS)}",
                param_hint="--write",
            )
        targets.append((fmt, file))
    return targets


@click.command("pre-commit")
@click.argument("files", nargs=-1, type=click.Path())
@click.option(
    "--path",
    "root",
    default=".",
    show_default=True,
    type=click.Path(exists=True, file_okay=False),
    help="Where the desired state is (a subfolder of the repository).",
)
@today_option
@click.pass_context
def pre_commit_command(
    ctx: click.Context, files: tuple[str, ...], root: str, today: str | None
) -> int:
    """The pre-commit hook: validate what the commit changes and what depends on it (the
    findings of a full run for those files). Everything is checked when the repository has no
    commit yet, or when pre-commit passes FILES the commit does not change (`pre-commit run
    --all-files`)."""
    from reconciler.baseline import beyond_change

    full = beyond_change(root, files)
    result: int = ctx.invoke(
        validate,
        path=root,
        fmt="human",
        today=today,
        actor=None,
        state=".tenantry/state.db",
        changed_since=None if full else "HEAD",
        base_ref=None,
        approved_by=None,
        writes=(),
    )
    return result


def _ledger_only(
    state: str | None,
    loaded: Loaded,
    context: Context,
    findings: list[Finding],
    covered: set[str] | None,
) -> list[Finding]:
    """validate --state: what only the ledger knows (cooling-off numbers, floor ports in use,
    exhausted pools), for valid input; with --changed-since only on the covered files."""
    ledger = read_ledger(state)
    if ledger is None or any(f.is_error for f in [*loaded.findings, *findings] if f.rule == "ref"):
        return []  # the planner needs documents that load and refer to each other
    if any(f.is_error for f in loaded.findings):
        return []
    from reconciler.ledger import LedgerError
    from reconciler.load import Positions
    from reconciler.validate import ledger_findings

    try:
        found = Positions().resolve(ledger_findings(loaded.repo, ledger, context))
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from None
    return [f for f in found if covered is None or f.file in covered]
