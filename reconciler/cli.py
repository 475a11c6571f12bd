"""The `tenantry` command line. Exit codes: 0 ok / no changes, 1 invalid input or failure,
2 `plan` found changes, 64 usage error."""

from __future__ import annotations

import json
import os
import random
import sys
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reconciler import output
from reconciler.change import state as state_of
from reconciler.extras import missing_extra
from reconciler.load import Positions, load
from reconciler.rules import Context
from reconciler.validate import Validation, ledger_context
from reconciler.validate import validate as run_validate

if TYPE_CHECKING:
    from reconciler.app import App
    from reconciler.billing.charges import Closed
    from reconciler.billing.history import Event
    from reconciler.change import State
    from reconciler.drift import DriftReport
    from reconciler.findings import Finding
    from reconciler.ledger.protocol import Ledger
    from reconciler.ledger.sql import SqlLedger
    from reconciler.load import Loaded
    from reconciler.model.repo import Repo

# Modules that only some commands need are imported inside them: `tenantry validate` (the
# pre-commit hook) starts in a fraction of the time.
# The CLI uses no pydantic plugins: looking for them reads every installed package's metadata.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

EXIT_OK, EXIT_FAILED, EXIT_CHANGES, EXIT_USAGE = 0, 1, 2, 64


class Tenantry(click.Group):
    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
            sys.exit(EXIT_USAGE)
        except click.UsageError as exc:
            exc.show()
            sys.exit(EXIT_USAGE)
        except click.exceptions.Abort:
            sys.exit(EXIT_FAILED)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(EXIT_FAILED)
        except Exception as exc:
            from reconciler.ledger.sql import LedgerError

            if not isinstance(exc, LedgerError):
                raise
            # a fault of the ledger (or the disk under it) is one line, never a traceback
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_FAILED)
        sys.exit(code if isinstance(code, int) else EXIT_OK)


def _today(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


path_argument = click.argument("path", default=".", type=click.Path(exists=True))
today_option = click.option(
    "--today", "today", metavar="YYYY-MM-DD", help="Evaluate dates as of this day (default: today)."
)
actor_option = click.option(
    "--actor",
    envvar="TENANTRY_ACTOR",
    help="Who makes the change (P1, D2); in CI the pull-request author. Without it P1 and "
    "D2's admin check are not run (the output says so).",
)
approvers_option = click.option(
    "--approved-by",
    "approved_by",
    envvar="TENANTRY_APPROVERS",
    metavar="NAME,NAME",
    help="Who approved the change: an approver who is admin of a touched site stands in for "
    "the actor there (P1, D2); in CI the pull request's approving reviewers.",
)


def _names(text: str | None) -> frozenset[str]:
    return frozenset(n.strip() for n in (text or "").replace(" ", ",").split(",") if n.strip())


@click.group(cls=Tenantry, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tenantry")
def main() -> None:
    """GitOps for flexible-workspace operators: occupiers, contracts and services as YAML."""


@main.command()
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
    from reconciler.baseline import unborn

    day = _today(today)
    targets = _write_targets(writes)
    if changed_since is not None and unborn(path):
        changed_since = None  # no commit yet: everything is new, check it all
        base_ref = base_ref or ""
    ref = base_ref if base_ref is not None else changed_since
    context = _context(state, day, actor, _names(approved_by), _base(path, actor, ref))
    if horizon is not None:
        context = replace(context, horizon=_today(horizon))
    if changed_since is not None:
        from reconciler.incremental import validate_changed

        try:
            partial = validate_changed(path, changed_since, context)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        findings, checked = partial.findings, partial.documents
        loaded, covered = partial.loaded, set(partial.covered)
    else:
        result = run_validate(path, day, actor, context=context, fork=True)
        findings, checked = result.findings, len(result.repo.sources)
        loaded, covered = result.loaded, None
    findings = findings + _ledger_only(state, loaded, context, findings, covered)
    repo = loaded.repo
    _note(repo, context)
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


def _base(path: str, actor: str | None, ref: str | None) -> tuple[State, str] | None:
    """P1's base from a git ref (only needed with an actor). '' : no commit yet, empty."""
    if actor is None or ref is None:
        return None
    if ref == "":
        return {}, "nothing (no commit yet)"
    from reconciler import baseline, gitbase

    try:
        return baseline.at_ref(path, ref)
    except gitbase.GitError as exc:
        raise click.UsageError(f"{ref}: {exc}") from None


def _note(repo: Repo, context: Context) -> None:
    """One line on stderr: what P1 judged, or that it did not run."""
    from reconciler.baseline import summary
    from reconciler.validate import measured_change

    click.echo(summary(measured_change(repo), context.actor, context.approvers), err=True)


@main.command("pre-commit")
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


@main.command("schemas")
@click.option("--out", type=click.Path(file_okay=False), default="schemas", show_default=True)
@click.option("--check", is_flag=True, help="Exit 1 if the files are not up to date.")
def schemas_command(out: str, check: bool) -> int:
    """Write one JSON Schema per kind (for editors and CI)."""
    from reconciler.schemas import render_all

    return _write_or_check(Path(out), render_all(), check, "tenantry schemas")


def _write_or_check(directory: Path, files: dict[str, str], check: bool, command: str) -> int:
    """Generated, checked-in files: write what changed, or with --check fail on stale ones."""
    from reconciler import generated

    if check:
        stale = generated.stale(directory, files)
        for name in stale:
            click.echo(f"{directory / name}: out of date; run `{command}`")
        return EXIT_FAILED if stale else EXIT_OK
    for path in generated.write(directory, files):
        click.echo(f"wrote {path}")
    return EXIT_OK


@main.command("init")
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Write into a directory that is not empty.")
def init_command(directory: str, force: bool) -> int:
    """Scaffold a desired-state repo in DIRECTORY: a site, a catalogue, an occupier, the JSON
    Schemas, GitHub Actions and GitLab CI, pre-commit. It passes `tenantry validate` at once."""
    from reconciler import scaffold

    try:
        written = scaffold.init(Path(directory), force)
    except scaffold.InitError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_FAILED
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"\nNext: cd {directory} && git init && tenantry validate && pre-commit install")
    return EXIT_OK


@main.command("comment")
@click.argument("plan_file", metavar="FILE", type=click.File("r"))
@click.option("--repo", envvar="GITHUB_REPOSITORY", required=True, help="OWNER/NAME.")
@click.option("--pr", "pr", type=int, required=True, help="Pull-request number.")
def comment_command(plan_file: Any, repo: str, pr: int) -> int:
    """Post FILE (`tenantry plan --format markdown`) as the pull request's tenantry comment:
    the existing one (found by its `<!-- tenantry-plan -->` marker) is updated, not duplicated.
    Uses the `gh` CLI (GH_TOKEN)."""
    from reconciler import comment

    try:
        action = comment.upsert(plan_file.read(), repo, pr)
    except (RuntimeError, OSError, ValueError) as exc:
        if comment.read_only(str(exc)):
            # a pull request from a fork gets a read-only token: the plan is in the job
            # summary (the Plan step wrote it there), which is where readers are sent
            click.echo(
                f"warning: cannot comment on pull request {pr} with a read-only token (a "
                "pull request from a fork?); the plan is in the job summary",
                err=True,
            )
            return EXIT_OK
        click.echo(f"error: {exc}", err=True)
        return EXIT_FAILED
    click.echo(f"{'updated' if action.method == 'PATCH' else 'created'}: {action.path}")
    return EXIT_OK


@main.command("approvals")
@click.option("--repo", envvar="GITHUB_REPOSITORY", help="GitHub: OWNER/NAME (uses `gh`).")
@click.option("--pr", "--mr", "pr", type=int, help="The pull (merge) request number.")
@click.option("--commit", metavar="SHA", help="The merged commit: find its pull request.")
@click.option("--gitlab", is_flag=True, help="GitLab: the merge request's approvals.")
@click.option("--project", envvar="CI_PROJECT_ID", help="GitLab: the project id or path.")
@click.option("--api", envvar="CI_API_V4_URL", help="GitLab: the API URL (CI_API_V4_URL).")
def approvals_command(
    repo: str | None,
    pr: int | None,
    commit: str | None,
    gitlab: bool,
    project: str | None,
    api: str | None,
) -> int:
    """Print TENANTRY_ACTOR (the author) and TENANTRY_APPROVERS (approving reviewers) of a
    pull request, or of the one a merged commit came from, for `>> $GITHUB_ENV` or
    `export $(…)` (P1). GitLab reads TENANTRY_GITLAB_TOKEN (read_api), else CI_JOB_TOKEN."""
    from reconciler import approvals

    if (pr is None) == (commit is None):
        raise click.UsageError("give exactly one of --pr (--mr) and --commit")
    try:
        if gitlab:
            if not project or not api:
                raise click.UsageError("--gitlab needs --project and --api (CI_API_V4_URL)")
            token = os.environ.get("TENANTRY_GITLAB_TOKEN") or (
                "job:" + os.environ.get("CI_JOB_TOKEN", "")
            )
            found = approvals.from_gitlab(project, pr, commit, approvals.gitlab_fetch(api, token))
        else:
            if not repo:
                raise click.UsageError("--repo OWNER/NAME is needed (or GITHUB_REPOSITORY)")
            found = approvals.from_github(repo, pr, commit)
    except (RuntimeError, OSError, ValueError, KeyError) as exc:
        click.echo(f"error: approvals: {exc}", err=True)
        return EXIT_FAILED
    click.echo(found.env())
    return EXIT_OK


def run() -> None:
    """Console entry point. After the work is done the process exits without tearing down
    the loaded repo object by object (tens of thousands of models: a quarter of a second)."""
    try:
        main()
        code = EXIT_OK
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _context(
    state: str | None,
    today: date,
    actor: str | None,
    approvers: frozenset[str] = frozenset(),
    base: tuple[State, str] | None = None,
) -> Context:
    """The recorded statuses the rules need, who acts and approves, and P1's base."""
    context = ledger_context(_read_ledger(state), today, actor)
    if base is not None:
        context = replace(context, base=base[0], base_label=base[1])
    return replace(context, approvers=approvers)


def _read_ledger(state: str | None) -> SqlLedger | None:
    """The ledger, read only. No ledger yet is fine (None); a ledger that is there but
    cannot be read is a LedgerError (one line, exit 1), never silently ignored."""
    if not state or not ("://" in state or state.startswith("sqlite:") or os.path.lexists(state)):
        return None
    from reconciler.ledger import open_ledger

    return open_ledger(state, create=False)


def _ledger_only(
    state: str | None,
    loaded: Loaded,
    context: Context,
    findings: list[Finding],
    covered: set[str] | None,
) -> list[Finding]:
    """validate --state: what only the ledger knows (cooling-off numbers, floor ports in use,
    exhausted pools), for valid input; with --changed-since only on the covered files."""
    ledger = _read_ledger(state)
    if ledger is None or any(f.is_error for f in [*loaded.findings, *findings] if f.rule == "ref"):
        return []  # the planner needs documents that load and refer to each other
    if any(f.is_error for f in loaded.findings):
        return []
    from reconciler.ledger import LedgerError
    from reconciler.validate import ledger_findings

    try:
        found = Positions().resolve(ledger_findings(loaded.repo, ledger, context))
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from None
    return [f for f in found if covered is None or f.file in covered]


mass_release_option = click.option(
    "--allow-mass-release",
    is_flag=True,
    help="Let the plan release more than 10% of a site's holdings (G1).",
)
ledger_option = click.option(
    "--state",
    "state",
    envvar="TENANTRY_LEDGER",
    default=".tenantry/state.db",
    show_default=True,
    help="The ledger: a SQLite file, or a postgresql:// URL.",
)


def _validated(
    path: str,
    today: date,
    actor: str | None,
    state: str | None = None,
    context: Context | None = None,
) -> Validation:
    """Validation happens before anything else: invalid input never reaches a device."""
    context = context or _context(state, today, actor)
    result = run_validate(path, today, actor, context=context, fork=True)
    if context.actor is not None or context.base is not None:
        _note(result.repo, context)
    if not result.ok:
        click.echo(output.render(result.findings, "human", checked=len(result.repo.sources)))
        raise SystemExit(EXIT_FAILED)
    return result


@main.command()
@path_argument
@click.option(
    "--base",
    "base_ref",
    metavar="GIT_REF",
    help="Plan only what changed since this commit (a pull request's base).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["human", "json", "markdown"]),
    default="human",
    show_default=True,
)
@click.option("--refresh", is_flag=True,
              help="Also read every device: drift from the last apply, which apply repairs.")
@click.option("--drivers", type=click.Choice(["render", "devices"]), default="render",
              envvar="TENANTRY_DRIVERS", show_default=True,
              help="How --refresh reads the devices (as for apply).")
@click.option("--out", default="rendered", show_default=True, type=click.Path(file_okay=False),
              help="Where the render driver wrote (--refresh).")
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
    args = (path, base_ref, fmt, allow_mass_release, state, today, actor, _names(approved_by))
    if not refresh:
        return _plan(*args)
    import contextlib
    import io

    from reconciler import drift
    from reconciler.app import App

    planned = io.StringIO()
    with contextlib.redirect_stdout(planned):  # one JSON document: the plan and its drift
        code = _plan(*args)
    if code == EXIT_FAILED:
        click.echo(planned.getvalue(), nl=False)
        return code
    report = _drift_report(path, App(state, drivers, out), 4, required=False)
    if not report.devices:  # nothing applied yet: the plan is all there is
        click.echo(planned.getvalue(), nl=False)
        return code
    if fmt == "json":
        doc = json.loads(planned.getvalue())
        click.echo(json.dumps({**doc, "drift": json.loads(drift.as_json(report))}, indent=2))
    else:
        click.echo(planned.getvalue() + drift.FORMATS[fmt](report))
    return report.exit_code or code


def _plan(
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
    from reconciler import baseline, gitbase, guards, present
    from reconciler.ledger import Holdings, open_ledger
    from reconciler.plan import DeviceChange, Plan, device_changes, items_of, make_plan, pool_usage
    from reconciler.report import case_notes, plan_usage
    from reconciler.validate import validate_and

    day = _today(today)
    base_path = None
    base_repo: Repo | None = None
    base = given_base
    if base_ref is not None:
        try:
            tmp, base_path = gitbase.checkout(path, base_ref)
        except gitbase.GitError as exc:
            raise click.UsageError(f"--base {base_ref}: {exc}") from None
        if actor is not None and base is None:
            # P1 needs the base before the rules run; otherwise it loads while they do
            base_repo = load(base_path).repo
            commit = baseline.commit_of(path, base_ref)[:12]
            base = (state_of(base_repo, base_path), f"{base_ref} ({commit})")

    def planning(loaded: Loaded) -> tuple[Plan, list[DeviceChange], Holdings]:
        """Read-only: the ledger, the base (if any), the plan; runs while the rules do."""
        ledger = open_ledger(state, create=False)
        holdings = ledger.holdings() if ledger else Holdings()
        applied = ledger.applied() if ledger else {}
        # statuses were read once already, for the rules (D2, D5, S4)
        active = {n for n, status in context.service_status.items() if status == "Active"}
        if base_path is not None:
            before = base_repo if base_repo is not None else load(base_path).repo
            base_plan = make_plan(before, holdings, day, active)
            holdings = base_plan.after
            applied = {name: items_of(intent) for name, intent in base_plan.intents.items()}
        result = make_plan(loaded.repo, holdings, day, active)
        if ledger is not None and not result.errors:
            recorded = {n: (r.status, r.reason) for n, r in ledger.statuses("Contract").items()}
            phases = {n: r.status for n, r in ledger.statuses("Occupier").items()}
            result.findings += guards.g1_releases(
                loaded.repo,
                result,
                holdings,
                day,
                guards.recorded_contracts(recorded),
                phases,
                allow_mass_release,
                path,
            )
        return result, device_changes(result, applied), holdings

    context = _context(state, day, actor, approvers, base)
    try:
        head, planned = validate_and(path, context, planning)
    finally:
        if base_ref is not None:
            tmp.cleanup()
    _note(head.repo, context)
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


@main.command("apply")
@path_argument
@click.option(
    "--drivers",
    type=click.Choice(["render", "devices"]),
    default="render",
    envvar="TENANTRY_DRIVERS",
    show_default=True,
    help="render: write each device's configuration to --out; devices: use each "
    "device's platform driver (SSH, RPC, SQL).",
)
@click.option(
    "--out",
    default="rendered",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where the render driver writes.",
)
@click.option(
    "--parallel",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Devices configured at the same time.",
)
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
    from reconciler import baseline
    from reconciler.app import App
    from reconciler.apply import Guard
    from reconciler.ledger import LedgerError, SqlLedger

    day = _today(today)
    base = baseline.recorded(_read_ledger(state))
    context = _context(state, day, actor, _names(approved_by), base)
    head = _validated(path, day, actor, state, context)
    guard = Guard(allow_mass_release, _apply_wait(), os.path.abspath(path), actor or "", path)
    app = App(state, drivers, out)  # opens the ledger, the drivers and the credentials

    def progress(device: str, outcome: str) -> None:
        click.echo(f"  {device}: {outcome}", err=True)

    try:
        if only_drift:
            result = app.repair(head.repo, parallel, progress, guard)
        else:
            result = app.apply(head.repo, day, parallel, progress, guard=guard)
    except LedgerError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_FAILED
    repairs = [(d, r) for d, t in sorted(result.transcripts.items()) for r in t.repairs]
    for device, (resource, found, restored) in repairs:
        click.echo(f"repaired {device} {resource}: {found} -> {restored}")
    if only_drift:
        for device, reason in sorted(result.failures.items()):
            click.echo(f"FAILED {device}: {reason}")
        click.echo(f"Repaired: {len(repairs)} drifted resource(s) on "
                   f"{len({d for d, _ in repairs})} device(s), {len(result.failures)} failed, "
                   f"in {result.seconds:.2f}s.")
        return EXIT_OK if result.ok else EXIT_FAILED
    findings = Positions().resolve(result.plan.findings)
    for finding in findings:
        click.echo(finding.text())
    if result.plan.errors:
        click.echo("nothing applied: the plan has errors")
        return EXIT_FAILED
    recorded = app.ledger()
    assert isinstance(recorded, SqlLedger)  # the desired state is recorded in SQL ledgers
    _record_desired(recorded, head.repo, path)
    for device, reason in sorted(result.failures.items()):
        click.echo(f"FAILED {device}: {reason}")
    if transcript_file:
        devices = {
            name: {"sessions": t.sessions, "reads": t.reads, "commands": t.commands,
                   "repairs": [list(r) for r in t.repairs]}
            for name, t in sorted(result.transcripts.items())
        }
        record = {"devices": devices, "failures": dict(sorted(result.failures.items()))}
        Path(transcript_file).write_text(json.dumps(record, indent=2) + "\n")
    click.echo(
        f"Applied: {len(result.plan.allocations)} allocated or changed, {result.released} "
        f"released, {result.commands} commands to {len(result.transcripts)} devices, "
        f"{len(result.failures)} failed, in {result.seconds:.2f}s."
    )
    return EXIT_OK if result.ok else EXIT_FAILED


def _record_desired(ledger: SqlLedger, repo: Repo, path: str) -> None:
    """The desired state this apply carried out: the next apply's P1 base. A failure to
    record it is said, not fatal (the next apply then judges a larger change)."""
    from reconciler import baseline
    from reconciler.ledger import LedgerError

    try:
        baseline.record(ledger, repo, path)
    except LedgerError as exc:
        click.echo(f"warning: the applied desired state was not recorded: {exc}", err=True)


def _apply_wait() -> float:
    """How long an apply waits for another apply of the same ledger (G2)."""
    try:
        return float(os.environ.get("TENANTRY_APPLY_WAIT", "600"))
    except ValueError:
        raise click.UsageError("TENANTRY_APPLY_WAIT must be a number of seconds") from None


@main.command("drift")
@path_argument
@click.option("--format", "fmt", type=click.Choice(["human", "json", "markdown"]),
              default="human", show_default=True)
@click.option("--drivers", type=click.Choice(["render", "devices"]), default="render",
              envvar="TENANTRY_DRIVERS", show_default=True,
              help="How the devices are read (as for apply).")
@click.option("--out", default="rendered", show_default=True, type=click.Path(file_okay=False),
              help="Where the render driver wrote.")
@click.option("--parallel", default=4, show_default=True, type=click.IntRange(1, 64),
              help="Devices read at the same time.")
@ledger_option
def drift_command(path: str, fmt: str, drivers: str, out: str, parallel: int, state: str
                  ) -> int:
    """Read every device and list what differs from the intent of the last apply: someone's
    change by hand. Nothing is sent. Exit 0: in sync; 2: drift; 1: a device could not be
    read (it is named; the others are still checked)."""
    from reconciler.app import App
    from reconciler.drift import FORMATS

    report = _drift_report(path, App(state, drivers, out), parallel)
    click.echo(FORMATS[fmt](report))
    return report.exit_code


def _drift_report(path: str, app: App, parallel: int, required: bool = True) -> DriftReport:
    """The desired state's devices read against the ledger's record of the last apply;
    without one, an error (`drift`) or a note (`plan --refresh`: nothing applied yet)."""
    loaded = load(path)
    errors = [f for f in loaded.findings if f.is_error]
    if errors:
        click.echo(output.render(errors, "human", checked=len(loaded.repo.sources)))
        raise SystemExit(EXIT_FAILED)
    report = app.drift(loaded.repo, parallel)
    if not report.devices and report.unapplied and not required:
        click.echo(f"note: no apply recorded in {app.state}: no drift to read", err=True)
    elif not report.devices and report.unapplied:
        click.echo(f"error: no apply recorded in {app.state} for {', '.join(report.unapplied)}:"
                   " nothing to compare the devices with (run tenantry apply, or give --state)",
                   err=True)
        raise SystemExit(EXIT_FAILED)
    return report


@main.command("decommission")
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
    when = _today(at) if at else None
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
    return _plan(path, None, "human", False, state, today, actor, _names(approved_by), before)


REPORTS = ("services", "pools", "charges")


table_format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
)


@main.command()
@click.argument("args", nargs=-1, metavar="[services|pools|charges] [PATH]")
@table_format_option
@click.option(
    "--contract-status",
    type=click.Choice(["Active", "Scheduled", "Active and Scheduled", "Inactive", "All"]),
    default="All",
    show_default=True,
    help="Only services whose contract has this status (S9); Scheduled: a future start or a "
    "future change.",
)
@click.option(
    "--service-status",
    type=click.Choice(["Active", "Scheduled", "Inactive", "Updating", "Failed", "Stopped", "All"]),
    default="All",
    show_default=True,
    help="Only services with this status (S9); Scheduled includes a future change.",
)
@click.option("--occupier", "occupier_name", metavar="NAME", help="Only this occupier.")
@click.option("--site", "site_name", metavar="NAME", help="Only this site.")
@click.option("--contract", "contract_name", metavar="NAME", help="Only this contract.")
@click.option("--month", metavar="YYYY-MM", help="The month of `report charges`.")
@click.option(
    "--history",
    is_flag=True,
    help="Include decommissioned occupiers: contracts, services, charges (D4).",
)
@ledger_option
@today_option
def report(
    args: tuple[str, ...],
    fmt: str,
    contract_status: str,
    service_status: str,
    occupier_name: str | None,
    site_name: str | None,
    contract_name: str | None,
    month: str | None,
    history: bool,
    state: str,
    today: str | None,
) -> int:
    """Reports: `services` (seed 000's Manage services: definition, description, start,
    quantity, price, cost, rrp, total, status, bill date, next change, infrastructure X/Y), `pools`
    (utilization per site, ≥ 90 % flagged), `charges --month YYYY-MM` (prorated)."""
    from reconciler import report as reports
    from reconciler.app import App

    what, rest = (args[0], args[1:]) if args and args[0] in REPORTS else ("services", args)
    if len(rest) > 1:
        raise click.UsageError(f"unexpected arguments: {' '.join(rest[1:])}")
    path = rest[0] if rest else "."
    if not os.path.exists(path):
        raise click.UsageError(f"path {path!r} does not exist")
    day = _today(today)
    if what == "charges":  # from the billing history alone: never from today's documents
        if month is None:
            raise click.UsageError("report charges needs --month YYYY-MM")
        return _charges_report(month, fmt, state)
    loaded = load(path)
    if any(f.is_error for f in loaded.findings):
        _validated(path, day, None)
    app = App(state)
    ledger = app.existing_ledger()
    holdings = app.holdings()
    rows: list[dict[str, object]]
    if what == "pools":
        rows = app.pools(loaded.repo)  # flagged from plan.POOL_WARNING
    else:
        recorded = (
            {n: (r.status, r.reason) for n, r in ledger.statuses("Service").items()}
            if ledger
            else {}
        )
        activated = (
            {name: date.fromisoformat(r.status) for name, r in ledger.statuses("Activated").items()}
            if ledger
            else {}
        )
        names = {"occupier": occupier_name, "site": site_name, "contract": contract_name}
        found = reports.services(
            loaded.repo, day, holdings, recorded, history, activated, ledger is not None
        )
        rows = [
            vars(r) for r in found if reports.keep_row(r, contract_status, service_status, names)
        ]
        if history:
            _add_lifetime(rows, ledger, day)
    click.echo(output.table(rows, fmt))
    return EXIT_OK


@main.command("catalogue")
@click.argument("occupier")
@click.argument("path", default=".", type=click.Path(exists=True))
@click.option("--site", "site_name", metavar="NAME", help="The site (default: its only one).")
@table_format_option
@today_option
def catalogue_command(
    occupier: str, path: str, site_name: str | None, fmt: str, today: str | None
) -> int:
    """Seed 000's Available services: what OCCUPIER may still add at the site, with each
    definition's description; for the others, the rule that forbids them; and the case to
    raise for those that need one (IVR, conference bridge)."""
    from reconciler.offers import offers

    day = _today(today)
    loaded = load(path)
    if any(f.is_error for f in loaded.findings):
        _validated(path, day, None)
    repo = loaded.repo
    if occupier not in repo.occupiers:
        raise click.UsageError(f"no Occupier named {occupier!r} below {path}")
    sites = repo.sites_of(occupier)
    if site_name is None:
        if len(sites) != 1:
            raise click.UsageError(
                f"{occupier} has contracts at {len(sites)} sites ({', '.join(sites) or 'none'}): "
                "choose one with --site"
            )
        site_name = sites[0]
    if site_name not in repo.sites:
        raise click.UsageError(f"no Site named {site_name!r} below {path}")
    rows = [vars(o) for o in offers(repo, occupier, site_name, day)]
    if fmt == "table":
        click.echo(_offers_text(rows, occupier, site_name))
    else:
        click.echo(output.table(rows, fmt))
    return EXIT_OK


def _offers_text(rows: list[dict[str, Any]], occupier: str, site: str) -> str:
    lines = [f"Available services for {occupier} at {site}:"]
    for row in rows:
        if row["available"]:
            lines.append(f"  + {row['definition']:<22} {row['description']} (rrp {row['rrp']})")
            if row["case"]:
                lines.append(f"      note: {row['case']}")
    lines.append("Not available:")
    for row in rows:
        if not row["available"]:
            lines.append(f"  - {row['definition']:<22} {row['reason']}")
    return "\n".join(lines)


@main.command("site")
@path_argument
@click.option(
    "--out",
    default="site",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where the static site is written.",
)
@click.option(
    "--plan-base",
    "plan_base",
    metavar="GIT_REF",
    help="Also write plan.html: what a pull request changes against this commit.",
)
@ledger_option
@today_option
@actor_option
def site_command(
    path: str, out: str, plan_base: str | None, state: str, today: str | None, actor: str | None
) -> int:
    """Build the static dashboard: an index of every site, one page per site and per occupier
    (and a plan page with --plan-base). Self-contained HTML: works from file://, offline."""
    from reconciler import gitbase
    from reconciler.dashboard import render
    from reconciler.ledger import LedgerError, open_ledger

    day = _today(today)
    findings: list[str] = []
    if plan_base is not None:  # a pull request: the rules hold, and warnings go on its page
        checked = _validated(path, day, actor, state)
        repo, findings = checked.repo, [f.text() for f in checked.findings]
    else:
        loaded = load(path)
        if any(f.is_error for f in loaded.findings):
            _validated(path, day, None)
        repo = loaded.repo
    try:
        snapshot = render.read_snapshot(open_ledger(state, create=False))
        plan = (
            render.plan_against(path, plan_base, repo, snapshot, day, findings)
            if plan_base is not None
            else None
        )
        written = render.build_site(repo, snapshot, day, Path(out), plan)
    except gitbase.GitError as exc:
        raise click.UsageError(f"--plan-base {plan_base}: {exc}") from None
    except (LedgerError, render.SiteError) as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_FAILED
    click.echo(
        f"wrote {written.pages} pages to {out}/ (largest: {written.largest.name}, "
        f"{written.largest_bytes / 1024:.0f} KiB); open {Path(out) / 'index.html'}"
    )
    return EXIT_OK


def _charges_report(month: str, fmt: str, state: str) -> int:
    """`report charges`: one row per occupier, line and day-range, then each occupier's
    total (Decimal; rounded once per row, ROUND_HALF_UP to the cent)."""
    from reconciler.billing import charges
    from reconciler.ledger import LedgerError, open_ledger
    from reconciler.load import gc_paused

    year, mon = _month(month)
    with gc_paused():  # tens of thousands of small acyclic records: nothing to collect
        try:
            events, closes = _billing_state(open_ledger(state, create=False))
        except LedgerError as exc:
            click.echo(f"error: {exc}", err=True)
            return EXIT_FAILED
        rows = charges.charges(events, year, mon, closes)
        if fmt == "csv" and rows:
            click.echo(charges.csv_text(rows))
        else:
            click.echo(output.table([r.record() for r in rows], fmt))
    return EXIT_OK


def _billing_state(ledger: Ledger | None) -> tuple[list[Event], dict[str, Closed]]:
    """The billing history and the closed months, read from the ledger."""
    from reconciler.billing import charges, history

    if ledger is None:
        return [], {}
    events = [history.event_of(row) for row in ledger.billing_rows()]
    closes = {m: charges.thawed(m, stamp, rows) for m, _, stamp, rows in ledger.billing_closes()}
    return events, closes


def _add_lifetime(rows: list[dict[str, object]], ledger: Ledger | None, today: date) -> None:
    """D4: with --history each line shows its charged days and what it was charged in all."""
    from reconciler.billing import charges, history

    events, _ = _billing_state(ledger)
    spans = charges.lifetime(history.fold(events), today)
    for row in rows:
        first, last, total = spans.get(str(row["service"]), (None, None, None))
        row["billed_from"], row["billed_to"], row["charged"] = first or "", last or "", total or ""


@main.group("billing")
def billing_group() -> None:
    """Billing: close a month so that its charges never change again."""


@billing_group.command("close")
@click.argument("month", metavar="YYYY-MM")
@ledger_option
@today_option
def billing_close(month: str, state: str, today: str | None) -> int:
    """Freeze MONTH's charges as `report charges` shows them now. Later corrections to it
    appear in the next open month as reversal and correction rows."""
    from reconciler.billing import charges
    from reconciler.ledger import LedgerError, open_ledger

    year, mon = _month(month)
    day = _today(today)
    if date(year, mon, 1) > day.replace(day=1) or (year, mon) == (day.year, day.month):
        click.echo(
            f"error: {month} has not ended on {day}; close it from the 1st of the next month"
        )
        return EXIT_FAILED
    try:
        ledger = open_ledger(state)
        assert ledger is not None
        events, closes = _billing_state(ledger)
        rows = charges.charges(events, year, mon, closes)
        stamp = max((e.stamp for e in events), default=0)
        done = ledger.close_billing(month, day.isoformat(), stamp, charges.frozen(rows))
    except LedgerError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_FAILED
    if not done:
        click.echo(f"error: {month} is already closed; a closed month never changes")
        return EXIT_FAILED
    total = sum((r.amount for r in rows if r.kind == charges.TOTAL), Decimal(0))
    occupiers = sum(1 for r in rows if r.kind == charges.TOTAL)
    click.echo(f"closed {month}: {occupiers} occupiers, total {total}")
    return EXIT_OK


def _month(value: str) -> tuple[int, int]:
    try:
        year, mon = (int(x) for x in value.split("-"))
        date(year, mon, 1)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not YYYY-MM", param_hint="MONTH") from None
    return year, mon


@main.group("ledger")
def ledger_group() -> None:
    """Inspect the ledger."""


@ledger_group.command("check")
@click.argument("path", required=False, type=click.Path(exists=True))
@ledger_option
def ledger_check(path: str | None, state: str) -> int:
    """Verify the ledger's invariants: schema current and complete, no value held twice (or
    overlapping), states consistent; with PATH, every holder and Active service exists in the
    desired state there. One line per problem; exit 1 if any."""
    from reconciler.ledger import open_ledger
    from reconciler.ledger.invariants import problems
    from reconciler.ledger.sql import SCHEMA_VERSION

    ledger = open_ledger(state, create=False)
    if ledger is None:
        click.echo(f"error: no ledger at {state}", err=True)
        return EXIT_FAILED
    with ledger.reading() as cursor:
        version = ledger.version(cursor)
    holdings = ledger.holdings()
    statuses = {
        kind: {name: r.status for name, r in ledger.statuses(kind).items()}
        for kind in ("Service", "Occupier")
    }
    repo = None
    if path is not None:
        loaded = load(path)
        if any(f.is_error for f in loaded.findings):
            _validated(path, date.today(), None)
        repo = loaded.repo
    gone = frozenset(n for n, s in statuses["Occupier"].items() if s == "Decommissioned")
    found = problems(holdings, statuses, repo, gone)
    if version < SCHEMA_VERSION:
        found.insert(0, f"schema version {version}; the next apply migrates it to {SCHEMA_VERSION}")
    for line in found:
        click.echo(f"{ledger.display}: {line}")
    checked = sum(len(v) for v in statuses.values())
    click.echo(
        f"{len(holdings.rows)} allocations and {checked} statuses checked: {len(found)} problem(s)"
    )
    return EXIT_FAILED if found else EXIT_OK


# ---------------------------------------------------------------- Kubernetes (issue 6)


@main.command("crds")
@click.option(
    "--out", type=click.Path(file_okay=False), default="charts/tenantry/crds", show_default=True
)
@click.option("--check", is_flag=True, help="Exit 1 if the files are not up to date.")
def crds_command(out: str, check: bool) -> int:
    """Write the CustomResourceDefinitions generated from the models (for the Helm chart)."""
    from reconciler.crds import render_all

    return _write_or_check(Path(out), render_all(), check, "tenantry crds")


@main.command("operator", context_settings={"ignore_unknown_options": True})
@click.option("--standalone", is_flag=True, help="No peering: the only replica (development).")
@click.option(
    "--peering", "peering", metavar="NAME", help="kopf peering object (several replicas)."
)
@click.option(
    "--priority", type=int, default=None, help="Peering priority (default: random per replica)."
)
@click.option(
    "--liveness", metavar="URL", help="kopf liveness endpoint, e.g. http://0.0.0.0:8080/healthz"
)
def operator_command(
    standalone: bool, peering: str | None, priority: int | None, liveness: str | None
) -> int:
    """Run the Kubernetes operator and its admission webhook (settings: TENANTRY_* env)."""
    try:
        import kopf

        import reconciler.operator.handlers  # noqa: F401 - registers the handlers
    except ModuleNotFoundError as exc:
        line = missing_extra(exc, "tenantry operator")
        if line is None:
            raise
        click.echo(f"error: {line}", err=True)
        return EXIT_FAILED
    if peering and priority is None:
        # Replicas of one Deployment share their arguments; kopf pauses every replica when
        # two have the same priority, so each takes its own at random (kopf's advice).
        priority = random.randint(1, 2**31 - 1)
    kopf.configure(verbose=bool(os.environ.get("TENANTRY_VERBOSE")))
    kopf.run(
        clusterwide=True,
        standalone=standalone or None,
        peering_name=peering,
        priority=priority or 0,
        liveness_endpoint=liveness,
    )
    return EXIT_OK


if __name__ == "__main__":
    run()
