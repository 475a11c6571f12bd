"""`tenantry report`, `tenantry catalogue` and `tenantry site`: read-only views of the
desired state and the ledger — tables, what an occupier may add, the static dashboard."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

import click

from reconciler import output
from reconciler.cli.billing import add_lifetime, charges_report
from reconciler.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    checked_ref,
    day_of,
    loaded_repo,
    names,
    rules_context,
    validated,
)
from reconciler.cli.options import (
    actor_option,
    approvers_option,
    ledger_option,
    path_argument,
    table_format_option,
    today_option,
)

REPORTS = ("services", "pools", "charges")


@click.command()
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
    what, rest = (args[0], args[1:]) if args and args[0] in REPORTS else ("services", args)
    if len(rest) > 1:
        raise click.UsageError(f"unexpected arguments: {' '.join(rest[1:])}")
    path = rest[0] if rest else "."
    if not os.path.exists(path):
        raise click.UsageError(f"path {path!r} does not exist")
    day = day_of(today)
    if what == "charges":  # from the billing history alone: never from today's documents
        if month is None:
            raise click.UsageError("report charges needs --month YYYY-MM")
        return charges_report(month, fmt, state)
    # imported past `report charges`, which reads the ledger alone: no models, no documents
    from reconciler import report as reports
    from reconciler.app import App

    repo = loaded_repo(path, day)
    app = App(state)
    ledger = app.existing_ledger()
    holdings = app.holdings()
    rows: list[dict[str, object]]
    if what == "pools":
        rows = app.pools(repo)  # flagged from plan.pools.POOL_WARNING
    else:
        recorded = app.recorded("Service")
        activated = {n: date.fromisoformat(s) for n, (s, _) in app.recorded("Activated").items()}
        names = {"occupier": occupier_name, "site": site_name, "contract": contract_name}
        found = reports.services(
            repo, day, holdings, recorded, history, activated, ledger is not None
        )
        rows = [
            vars(r) for r in found if reports.keep_row(r, contract_status, service_status, names)
        ]
        if history:
            add_lifetime(rows, ledger, day)
    click.echo(output.table(rows, fmt))
    return EXIT_OK


@click.command("catalogue")
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

    day = day_of(today)
    repo = loaded_repo(path, day)
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


@click.command("site")
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
@approvers_option
def site_command(
    path: str,
    out: str,
    plan_base: str | None,
    state: str,
    today: str | None,
    actor: str | None,
    approved_by: str | None,
) -> int:
    """Build the static dashboard: an index of every site, one page per site and per occupier
    (and a plan page with --plan-base). Self-contained HTML: works from file://, offline."""
    from reconciler import baseline, gitbase
    from reconciler.dashboard import render
    from reconciler.ledger import LedgerError, open_ledger

    day = day_of(today)
    findings: list[str] = []
    base_repo = None
    if plan_base is not None:  # a pull request: the rules hold, and warnings go on its page
        context = rules_context(state, day, actor, names(approved_by))
        # P1 judges what the pull request changes, as `validate --base` does
        context = context._replace(base_ref=checked_ref(path, plan_base, "--plan-base"))
        try:
            checked = validated(path, day, actor, state, context)
            base_repo = baseline.repo_at(checked.loaded, plan_base)[0]
        except gitbase.GitError as exc:
            raise click.UsageError(f"--plan-base {plan_base}: {exc}") from None
        repo, findings = checked.repo, [f.text() for f in checked.findings]
    else:
        repo = loaded_repo(path, day)
    try:
        snapshot = render.read_snapshot(open_ledger(state, create=False), day)
        plan = (
            render.plan_against(plan_base, repo, base_repo, snapshot, day, findings)
            if plan_base is not None and base_repo is not None
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
