"""`tenantry validate` and `tenantry pre-commit`: the rules over the desired state (and, with
--state, what only the ledger knows), as findings in the chosen format. The commands' options
are here; what they do is `check`, which the entry point also runs without click."""

from __future__ import annotations

import click

from reconciler import output
from reconciler.cli import check
from reconciler.cli.common import LEDGER
from reconciler.cli.options import actor_option, approvers_option, path_argument, today_option


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
    default=LEDGER,
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
    return check.validate(
        path, fmt, today, actor, state, changed_since, base_ref, approved_by, writes, horizon
    )


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
def pre_commit_command(files: tuple[str, ...], root: str, today: str | None) -> int:
    """The pre-commit hook: validate what the commit changes and what depends on it (the
    findings of a full run for those files). Everything is checked when the repository has no
    commit yet, or when pre-commit passes FILES the commit does not change (`pre-commit run
    --all-files`)."""
    return check.pre_commit(files, root, today)
