"""The `tenantry` command line. Exit codes: 0 ok / no changes, 1 invalid input or failure,
2 `plan` found changes, 64 usage error."""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reconciler import output

if TYPE_CHECKING:
    from reconciler.plan import Intent
    from reconciler.rules import Context
    from reconciler.validate import Validation

# Modules that only some commands need are imported inside them: `tenantry --version` needs
# only click, and `tenantry validate` (the pre-commit hook) never loads the planner, the
# ledger or the drivers. The CLI uses no pydantic plugins: looking for them would read the
# metadata of every installed package at start-up.
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
    help="Who makes the change (P1); in CI the pull-request author.",
)


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
    "that depend on them; same findings as a full run for those files (pre-commit, CI).",
)
def validate(
    path: str,
    fmt: str,
    today: str | None,
    actor: str | None,
    state: str,
    changed_since: str | None,
) -> int:
    """Check every document below PATH against the schema and the catalogue rules."""
    from reconciler.validate import validate as run_validate

    day = _today(today)
    context = _context(state, day, actor)
    if changed_since is not None:
        from reconciler.incremental import validate_changed

        try:
            partial = validate_changed(path, changed_since, context)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        findings, checked = partial.findings, partial.documents
    else:
        result = run_validate(path, day, actor, context=context, fork=True)
        findings, checked = result.findings, len(result.repo.sources)
    text = output.render(findings, fmt, checked=checked)
    if text:
        click.echo(text)
    return EXIT_FAILED if any(f.is_error for f in findings) else EXIT_OK


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
        click.echo(f"error: {exc}", err=True)
        return EXIT_FAILED
    click.echo(f"{'updated' if action.method == 'PATCH' else 'created'}: {action.path}")
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


def _context(state: str | None, today: date, actor: str | None) -> Context:
    from reconciler.validate import ledger_context

    if not state or not (state.startswith(("postgres", "sqlite:")) or os.path.exists(state)):
        return ledger_context(None, today, actor)
    from reconciler.ledger import LedgerError, open_ledger

    try:
        ledger = open_ledger(state, create=False)
    except LedgerError:
        ledger = None
    return ledger_context(ledger, today, actor)


ledger_option = click.option(
    "--state",
    "state",
    envvar="TENANTRY_LEDGER",
    default=".tenantry/state.db",
    show_default=True,
    help="The ledger: a SQLite file, or a postgresql:// URL.",
)


def _validated(path: str, today: date, actor: str | None, state: str | None = None) -> Validation:
    """Validation happens before anything else: invalid input never reaches a device."""
    from reconciler.validate import validate as run_validate

    result = run_validate(path, today, actor, context=_context(state, today, actor), fork=True)
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
@ledger_option
@today_option
@actor_option
def plan(
    path: str, base_ref: str | None, fmt: str, state: str, today: str | None, actor: str | None
) -> int:
    """Show what `apply` would allocate, configure and release. Never writes anything.
    Exit 0: no changes; 2: changes; 1: invalid input."""
    from reconciler import gitbase, present
    from reconciler.ledger import Holdings, open_ledger
    from reconciler.load import Loaded, Positions, load
    from reconciler.plan import DeviceChange, Plan, device_changes, items_of, make_plan, pool_usage
    from reconciler.validate import validate_and

    day = _today(today)
    base_path = None
    if base_ref is not None:
        try:
            tmp, base_path = gitbase.checkout(path, base_ref)
        except gitbase.GitError as exc:
            raise click.UsageError(f"--base {base_ref}: {exc}") from None

    def planning(loaded: Loaded) -> tuple[Plan, list[DeviceChange], Holdings]:
        """Read-only: the ledger, the base (if any), the plan; runs while the rules do."""
        ledger = open_ledger(state, create=False)
        holdings = ledger.holdings() if ledger else Holdings()
        applied = ledger.applied() if ledger else {}
        # statuses were read once already, for the rules (D2, D5, S4)
        active = {n for n, status in context.service_status.items() if status == "Active"}
        if base_path is not None:
            base_plan = make_plan(load(base_path).repo, holdings, day, active)
            holdings = base_plan.after
            applied = {name: items_of(intent) for name, intent in base_plan.intents.items()}
        result = make_plan(loaded.repo, holdings, day, active)
        return result, device_changes(result, applied), holdings

    context = _context(state, day, actor)
    try:
        head, planned = validate_and(path, context, planning)
    finally:
        if base_ref is not None:
            tmp.cleanup()
    if planned is None:
        click.echo(output.render(head.findings, "human", checked=len(head.repo.sources)))
        return EXIT_FAILED
    result, changes, holdings = planned
    findings = Positions().resolve([f for f in head.findings if not f.is_error] + result.findings)
    existing = set(holdings.by_key)
    if fmt == "json":
        click.echo(present.as_json(result, changes, existing, findings))
    elif fmt == "markdown":
        click.echo(
            present.markdown(
                result, changes, existing, findings, pool_usage(head.repo, result.after)
            )
        )
    else:
        click.echo(present.text(result, changes, existing, findings))
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
@ledger_option
@today_option
@actor_option
def apply_command(
    path: str,
    drivers: str,
    out: str,
    parallel: int,
    transcript_file: str | None,
    state: str,
    today: str | None,
    actor: str | None,
) -> int:
    """Validate, plan, then allocate in the ledger and configure every device."""
    from drivers.credentials import CredentialStore
    from drivers.registry import create_driver
    from drivers.render import RenderDriver
    from reconciler.apply import apply as apply_plan
    from reconciler.ledger import LedgerError, open_ledger
    from reconciler.load import Positions

    day = _today(today)
    head = _validated(path, day, actor, state)
    try:
        ledger = open_ledger(state)
    except LedgerError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_FAILED
    assert ledger is not None
    render = RenderDriver(out)

    def driver_for(intent: Intent) -> object:
        if drivers == "render":
            return render
        return create_driver(intent.endpoint.platform)

    store = CredentialStore()

    def progress(device: str, outcome: str) -> None:
        click.echo(f"  {device}: {outcome}", err=True)

    try:
        result = apply_plan(head.repo, ledger, day, driver_for, store.get, parallel, progress)
    except LedgerError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_FAILED
    findings = Positions().resolve(result.plan.findings)
    for finding in findings:
        click.echo(finding.text())
    if result.plan.errors:
        click.echo("nothing applied: the plan has errors")
        return EXIT_FAILED
    for device, reason in sorted(result.failures.items()):
        click.echo(f"FAILED {device}: {reason}")
    if transcript_file:
        devices = {
            name: {"sessions": t.sessions, "reads": t.reads, "commands": t.commands}
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


@main.command("decommission")
@click.argument("occupier")
@click.argument("path", default=".", type=click.Path(exists=True))
@click.option("--at", "at", metavar="YYYY-MM-DD", help="Schedule it for this day (D1).")
@ledger_option
@today_option
@actor_option
@click.pass_context
def decommission_command(
    ctx: click.Context,
    occupier: str,
    path: str,
    at: str | None,
    state: str,
    today: str | None,
    actor: str | None,
) -> int:
    """Write the decommission request (D1) into OCCUPIER's document, then show the plan.
    Commit the change and open a pull request: that is the confirmation step."""
    from reconciler import edits
    from reconciler.load import load
    from reconciler.model.repo import Ref

    loaded = load(path)
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
    result: int = ctx.invoke(
        plan, path=path, base_ref=None, fmt="human", state=state, today=today, actor=actor
    )
    return result


REPORTS = ("services", "pools", "charges")


@main.command()
@click.argument("args", nargs=-1, metavar="[services|pools|charges] [PATH]")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
)
@click.option(
    "--contract-status",
    type=click.Choice(["Active", "Scheduled", "Inactive"]),
    help="Only services whose contract has this status (S9).",
)
@click.option(
    "--service-status",
    type=click.Choice(["Active", "Scheduled", "Inactive", "Updating", "Failed"]),
    help="Only services with this status (S9).",
)
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
    contract_status: str | None,
    service_status: str | None,
    month: str | None,
    history: bool,
    state: str,
    today: str | None,
) -> int:
    """Reports: `services` (price, quantity, total, status, infrastructure X/Y), `pools`
    (utilization per site, ≥ 90 % flagged), `charges --month YYYY-MM` (prorated)."""
    from reconciler import report as reports
    from reconciler.ledger import Holdings, open_ledger
    from reconciler.load import load
    from reconciler.plan import pool_usage

    what, rest = (args[0], args[1:]) if args and args[0] in REPORTS else ("services", args)
    if len(rest) > 1:
        raise click.UsageError(f"unexpected arguments: {' '.join(rest[1:])}")
    path = rest[0] if rest else "."
    if not os.path.exists(path):
        raise click.UsageError(f"path {path!r} does not exist")
    day = _today(today)
    loaded = load(path)
    if any(f.is_error for f in loaded.findings):
        _validated(path, day, None)
    ledger = open_ledger(state, create=False)
    holdings = ledger.holdings() if ledger else Holdings()
    rows: list[dict[str, object]]
    if what == "pools":
        rows = [
            {
                "site": u.site,
                "pool": u.pool,
                "used": u.used,
                "size": u.size,
                "percent": round(u.ratio * 100, 1),
                "warning": u.ratio >= 0.9,
            }
            for u in pool_usage(loaded.repo, holdings)
        ]
    elif what == "charges":
        if month is None:
            raise click.UsageError("report charges needs --month YYYY-MM")
        try:
            year, mon = (int(x) for x in month.split("-"))
            date(year, mon, 1)
        except ValueError:
            raise click.BadParameter(f"{month!r} is not YYYY-MM", param_hint="--month") from None
        activated = (
            {name: date.fromisoformat(r.status) for name, r in ledger.statuses("Activated").items()}
            if ledger
            else {}
        )
        rows = [vars(r) for r in reports.charges(loaded.repo, year, mon, activated)]
    else:
        recorded = (
            {n: (r.status, r.reason) for n, r in ledger.statuses("Service").items()}
            if ledger
            else {}
        )
        rows = [
            vars(r)
            for r in reports.services(loaded.repo, day, holdings, recorded, history)
            if (contract_status is None or r.contract_status == contract_status)
            and (service_status is None or r.status == service_status)
        ]
    click.echo(output.table(rows, fmt))
    return EXIT_OK


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
@click.option("--priority", type=int, default=0, show_default=True, help="Peering priority.")
@click.option(
    "--liveness", metavar="URL", help="kopf liveness endpoint, e.g. http://0.0.0.0:8080/healthz"
)
def operator_command(
    standalone: bool, peering: str | None, priority: int, liveness: str | None
) -> int:
    """Run the Kubernetes operator and its admission webhook (settings: TENANTRY_* env)."""
    import kopf

    import reconciler.operator.handlers  # noqa: F401 - registers the handlers

    kopf.configure(verbose=bool(os.environ.get("TENANTRY_VERBOSE")))
    kopf.run(
        clusterwide=True,
        standalone=standalone or None,
        peering_name=peering,
        priority=priority,
        liveness_endpoint=liveness,
    )
    return EXIT_OK


if __name__ == "__main__":
    run()
