"""What the command modules share: exit codes and the steps several commands begin with
(the date, the rules' context, validation first). The options several commands take are in
`options`.

Nothing is imported here at the top that `tenantry validate` does not need, click included:
`validate` runs without it when the command line is one click would accept as it is
(`entry.run_quickly`), and click is imported only to say what is wrong. Everything else is imported
by the helper that needs it, so a command loads no more than it uses.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from pathlib import Path

    from reconciler.change import Change, State
    from reconciler.ledger.sql import SqlLedger
    from reconciler.load import Loaded
    from reconciler.model.repo import Repo
    from reconciler.parse import Parsing
    from reconciler.rules import Context
    from reconciler.validate import Validation

EXIT_OK, EXIT_FAILED, EXIT_CHANGES, EXIT_USAGE = 0, 1, 2, 64
LEDGER = ".tenantry/state.db"  # --state when not given (nor TENANTRY_LEDGER)
T = TypeVar("T")


def echo(text: str, err: bool = False) -> None:
    """A line on stdout (stderr), written at once: what click.echo does with text."""
    stream = sys.stderr if err else sys.stdout
    stream.write(f"{text}\n")
    stream.flush()


def day_of(value: str | None) -> date:
    """--today (or --at): a YYYY-MM-DD day, today when not given."""
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        import click

        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


def names(text: str | None) -> frozenset[str]:
    """--approved-by NAME,NAME (or space-separated, as CI variables come)."""
    return frozenset(n.strip() for n in (text or "").replace(" ", ",").split(",") if n.strip())


def read_ledger(state: str | None) -> SqlLedger | None:
    """The ledger, read only. No ledger yet is fine (None); a ledger that is there but
    cannot be read is a LedgerError (one line, exit 1), never silently ignored."""
    if not state or not ("://" in state or state.startswith("sqlite:") or os.path.lexists(state)):
        return None
    from reconciler.ledger import open_ledger

    return open_ledger(state, create=False)


def rules_context(
    state: str | None,
    today: date,
    actor: str | None,
    approvers: frozenset[str] = frozenset(),
    base: tuple[State, str] | None = None,
) -> Context:
    """The recorded statuses the rules need, who acts and approves, and P1's base."""
    from reconciler.validate import ledger_context

    context = ledger_context(read_ledger(state), today, actor)
    if base is not None:
        context = context._replace(base=base[0], base_label=base[1])
    return context._replace(approvers=approvers)


def checked_ref(path: str, ref: str, option: str = "--base") -> str:
    """`--base REF`, once git knows it: checked before anything is loaded (the base itself
    is read once the work tree is, `baseline.repo_at`)."""
    from reconciler import gitbase

    try:
        gitbase.fork_point(gitbase.folder_of(path), ref)
    except gitbase.GitError as exc:
        import click

        raise click.UsageError(f"{option} {ref}: {exc}") from None
    return ref


def note(repo: Repo, context: Context) -> None:
    """One line on stderr: what P1 judged, or that it did not run."""
    from reconciler.validate import measured_change

    echo(summary(measured_change(repo), context.actor, context.approvers), err=True)


def summary(change: Change | None, actor: str | None, approvers: frozenset[str]) -> str:
    """The one line that says what P1 judged (or that it did not run)."""
    if actor is None:
        return (
            "note: P1 and D2's admin check not run: no --actor (TENANTRY_ACTOR) says who "
            "makes the change"
        )
    who = actor + (f" (approved by {', '.join(sorted(approvers))})" if approvers else "")
    if change is None:
        return f"note: P1 judged {who} on every document: no base to compare with (--base REF)"
    if not change.touches:
        return f"note: P1 checked nothing: no document changed since {change.base}"
    sites = ", ".join(change.sites) or "no site"
    return (
        f"note: P1 judged {who} on {len(change.touches)} document(s) changed since "
        f"{change.base}, touching {sites}"
    )


def validated(
    path: str,
    today: date,
    actor: str | None,
    state: str | None = None,
    context: Context | None = None,
) -> Validation:
    """Validation happens before anything else: invalid input never reaches a device."""
    from reconciler.validate import validate

    context = context or rules_context(state, today, actor)
    return _accepted(validate(path, today, actor, context=context, fork=True), context)


def validated_and(
    path: str, context: Context, then: Callable[[Loaded], T], parsing: Parsing | None = None
) -> tuple[Validation, T]:
    """`validated`, running `then` (read-only work, such as a plan) on the loaded repo while
    the rules run (validate_and): its result, only once the input is known valid.
    `parsing`: the files' parse, already started in a forked child."""
    from reconciler.validate import validate_and

    result, outcome = validate_and(path, context, then, parsing)
    _accepted(result, context, outcome is not None)
    assert outcome is not None  # _accepted exits otherwise
    return result, outcome


def _accepted(result: Validation, context: Context, usable: bool = True) -> Validation:
    """The result, after P1's note; invalid input (or unusable work) is shown, and the
    command ends with exit 1."""
    from reconciler import output

    if context.actor is not None or context.base is not None:
        note(result.repo, context)
    if not result.ok or not usable:
        echo(output.render(result.findings, "human", checked=len(result.repo.sources)))
        raise SystemExit(EXIT_FAILED)
    return result


def loaded_repo(path: str, today: date) -> Repo:
    """The repo for the read-only commands (report, catalogue, site, ledger check): loaded
    without running the rules, unless it does not load cleanly (then validation says why)."""
    from reconciler.load import load

    loaded = load(path)
    if any(f.is_error for f in loaded.findings):
        validated(path, today, None)
    return loaded.repo


def write_or_check(directory: Path, files: dict[str, str], check: bool, command: str) -> int:
    """Generated, checked-in files: write what changed, or with --check fail on stale ones."""
    from reconciler import generated

    if check:
        stale = generated.stale(directory, files)
        for name in stale:
            echo(f"{directory / name}: out of date; run `{command}`")
        return EXIT_FAILED if stale else EXIT_OK
    for path in generated.write(directory, files):
        echo(f"wrote {path}")
    return EXIT_OK
