"""What `tenantry validate` and `tenantry pre-commit` do, without click.

The click commands (`cli.validate`) call these functions, and so does the entry point when the
command line is one click would accept as it is (`entry.run_quickly`): importing click, and the
`inspect` module it brings, would be a fifth of a `validate --changed-since` run on a one-file
change. Where something is wrong with the command line, click says it: the functions raise
click's own errors (importing click only then), and the entry point hands such a command line
back to click, which runs the command again and says what is wrong in its words. Nothing is
written before that: every such error comes before any output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler import output
from reconciler.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    LEDGER,
    checked_ref,
    day_of,
    echo,
    names,
    note,
    read_ledger,
    rules_context,
)
from reconciler.cli.entry import parsed_ahead
from reconciler.parse import start as start_parsing

if TYPE_CHECKING:
    from reconciler.findings import Finding
    from reconciler.load import Loaded
    from reconciler.rules import Context


def validate(
    path: str,
    fmt: str = "human",
    today: str | None = None,
    actor: str | None = None,
    state: str = LEDGER,
    changed_since: str | None = None,
    base_ref: str | None = None,
    approved_by: str | None = None,
    writes: tuple[str, ...] = (),
    horizon: str | None = None,
) -> int:
    """`tenantry validate`: the findings of every document below PATH (with --changed-since,
    of those the change can affect), in `fmt`; the exit code."""
    day = day_of(today)
    targets = _write_targets(writes)
    # A large repo's files are parsed in a forked child (from before the models were
    # imported, if the entry point could tell the path) while this process imports the models
    # (a third of a second) and reads the ledger.
    # (never with --changed-since, which checks only some files: the entry point leaves it)
    parsing = parsed_ahead(path) or (start_parsing(path) if changed_since is None else None)
    from reconciler.validate import validate as run_validate

    # P1's base is read once the repo is loaded, from the documents that did not change and
    # git's copy of those that did (with --changed-since, by validate_changed)
    context = rules_context(state, day, actor, names(approved_by))
    if horizon is not None:
        context = context._replace(horizon=day_of(horizon))
    if actor is not None and base_ref:
        context = context._replace(base_ref=checked_ref(path, base_ref))
    partial = None
    if changed_since is not None:
        from reconciler.incremental import validate_changed

        judged_from = context.base_ref if base_ref else changed_since
        try:
            partial = validate_changed(
                path, changed_since, context._replace(base_ref=None), judged_from
            )
        except ValueError as exc:
            from reconciler.baseline import unborn

            if not unborn(path):
                import click

                raise click.UsageError(str(exc)) from None
            # no commit yet: everything is new, check it all
            if actor is not None and not base_ref:
                context = context._replace(base={}, base_label="nothing (no commit yet)")
    if partial is not None:
        findings, checked = partial.findings, partial.documents
        loaded, covered = partial.loaded, set(partial.covered)
    else:
        from reconciler.gitbase import GitError

        try:
            result = run_validate(path, day, actor, context=context, fork=True, parsing=parsing)
        except GitError as exc:  # reading the files that changed since --base
            import click

            raise click.UsageError(f"--base {base_ref}: {exc}") from None
        findings, checked = result.findings, len(result.repo.sources)
        loaded, covered = result.loaded, None
    findings = findings + _ledger_only(state, loaded, context, findings, covered)
    for target_fmt, file in targets:  # first: a file that cannot be written is an error
        try:
            with open(file, "w") as written:  # (Path.write_text: pathlib is not imported)
                written.write(output.render(findings, target_fmt, checked=checked) + "\n")
        except OSError as exc:
            import click

            raise click.ClickException(f"--write {file}: {exc.strerror or exc}") from None
    note(loaded.repo, context)
    text = output.render(findings, fmt, checked=checked)
    if text:
        echo(text)
    return EXIT_FAILED if any(f.is_error for f in findings) else EXIT_OK


def pre_commit(files: tuple[str, ...], root: str = ".", today: str | None = None) -> int:
    """`tenantry pre-commit`: `validate --changed-since HEAD` of `root`, or all of it when the
    repository has no commit yet or FILES are not what the commit changes (`--all-files`)."""
    from reconciler.baseline import beyond_change

    full = beyond_change(root, files)
    return validate(root, today=today, changed_since=None if full else "HEAD")


def _write_targets(writes: tuple[str, ...]) -> list[tuple[str, str]]:
    targets = []
    for item in writes:
        fmt, sep, file = item.partition("=")
        if not sep or fmt not in output.FORMATS or not file:
            import click

            raise click.BadParameter(
                f"{item!r}: expected FORMAT=FILE, FORMAT one of {', '.join(output.FORMATS)}",
                param_hint="--write",
            )
        targets.append((fmt, file))
    return targets


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
        import click

        raise click.ClickException(str(exc)) from None
    return [f for f in found if covered is None or f.file in covered]
