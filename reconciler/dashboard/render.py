"""The shell of `tenantry site`: read the ledger into a snapshot, plan against a base for the
pull-request page, and write the page model as static HTML through Jinja2 templates shipped
with the package. Every page is self-contained (inline CSS, inline SVG, a few lines of inline
script): nothing is fetched when it is viewed, and it works from file://."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from reconciler.billing import charges
from reconciler.dashboard.occupier import HISTORY_MONTHS, last_months
from reconciler.dashboard.pages import (
    Dashboard,
    PlanPage,
    build,
    page_file,
    paginate,
    plan_page,
)
from reconciler.dashboard.snapshot import MonthCharge, Snapshot
from reconciler.decommission import Record
from reconciler.ledger.sql import SqlLedger
from reconciler.load import gc_paused
from reconciler.model.repo import Repo

OCCUPIERS_DIR = "occupiers"
SITES_DIR = "sites"


class SiteError(Exception):
    """The output folder cannot be written: one line for the user."""


def read_snapshot(ledger: SqlLedger | None, today: date) -> Snapshot:
    """Everything the pages need from the ledger, read once. No ledger: documents only."""
    if ledger is None:
        return Snapshot()
    activated = {}
    for name, record in ledger.statuses("Activated").items():
        try:
            activated[name] = date.fromisoformat(record.status)
        except ValueError:
            continue
    return Snapshot(
        recorded=True,
        holdings=ledger.holdings(),
        services=ledger.statuses("Service"),
        activated=activated,
        occupiers={
            n: Record.decode(r.status, r.reason) for n, r in ledger.statuses("Occupier").items()
        },
        applied=ledger.applied(),
        devices=ledger.statuses("Device"),
        billed=billed_months(ledger, today),
    )


def billed_months(
    ledger: SqlLedger, today: date, count: int = HISTORY_MONTHS
) -> dict[str, tuple[MonthCharge, ...]] | None:
    """Each occupier's charges for the last `count` months up to today's, from the ledger's
    billing history and closes as `tenantry report charges` computes them (a closed month as
    it was closed, an open one with the corrections of the closed months before it). None
    when no apply has recorded a billing history yet."""
    events, closes = charges.recorded(ledger)
    if not events:
        return None
    first = min((e.effective for e in events if e.terms.billable), default=today).replace(day=1)
    months = [(y, m) for y, m in last_months(today, count) if date(y, m, 1) >= first]
    totals = charges.monthly_totals(events, months, closes)
    return {
        occupier: tuple(
            MonthCharge(month, amount, closed) for month, (amount, closed) in sorted(by.items())
        )
        for occupier, by in totals.items()
    }


def plan_against(
    base_ref: str,
    repo: Repo,
    base_repo: Repo,
    snapshot: Snapshot,
    today: date,
    findings: list[str],
) -> PlanPage:
    """What `tenantry plan --base REF` prints, as the pull request's page (`base_repo`: the
    desired state at REF's fork point, `baseline.repo_at`)."""
    from reconciler import present
    from reconciler.findings import Finding
    from reconciler.load import Positions
    from reconciler.plan.changes import device_changes, items_of
    from reconciler.plan.planner import make_plan
    from reconciler.plan.pools import pool_usage

    active = {n for n, r in snapshot.services.items() if r.status == "Active"}
    base_plan = make_plan(base_repo, snapshot.holdings, today, active)
    applied = {name: items_of(intent) for name, intent in base_plan.intents.items()}
    result = make_plan(repo, base_plan.after, today, active)
    changes = device_changes(result, applied)
    planned: list[Finding] = Positions().resolve(result.findings)
    return plan_page(
        base_ref,
        present.summary(result, changes),
        bool(result.changes or changes),
        present.decommission_lines(result),
        findings + [f.text() for f in planned],
        present.grouped(result, changes, set(base_plan.after.by_key)),
        pool_usage(repo, result.after),
    )


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("reconciler.dashboard", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = _money
    env.globals["page_file"] = page_file
    return env


def build_site(
    repo: Repo, snapshot: Snapshot, today: date, out: Path, plan: PlanPage | None = None
) -> Written:
    """The page model, then the HTML; tens of thousands of small records that all live until
    the end, so the cyclic garbage collector is kept out of the way (as for loading)."""
    with gc_paused():
        return write(build(repo, snapshot, today, plan), out)


@dataclass(frozen=True)
class Written:
    """What the dashboard build wrote: how many pages, and the largest."""

    pages: int
    largest: Path
    largest_bytes: int


def write(dashboard: Dashboard, out: Path) -> Written:
    """Write every page below `out` (replacing what an earlier build left there)."""
    env = environment()
    try:
        for sub in (SITES_DIR, OCCUPIERS_DIR):
            shutil.rmtree(out / sub, ignore_errors=True)
            (out / sub).mkdir(parents=True, exist_ok=True)
        (out / "plan.html").unlink(missing_ok=True)
        count, largest, size = 0, out / "index.html", 0
        for relative, html in _pages(env, dashboard):
            target = out / relative
            data = html.encode("utf-8")
            target.write_bytes(data)
            count += 1
            if len(data) > size:
                largest, size = target, len(data)
    except OSError as exc:
        raise SiteError(f"{out}: cannot write the site: {exc.strerror or exc}") from None
    return Written(count, largest, size)


def _pages(env: Environment, dashboard: Dashboard) -> Iterator[tuple[str, str]]:
    common: dict[str, Any] = {"dashboard": dashboard, "today": dashboard.today}
    yield "index.html", env.get_template("index.html.j2").render(common, root="")
    site_template = env.get_template("site.html.j2")
    for site in dashboard.sites:
        for page in paginate(site.occupiers):
            yield (
                f"{SITES_DIR}/{page_file(site.name, page.number)}",
                site_template.render(common, root="../", site=site, page=page),
            )
    directory = env.get_template("occupiers.html.j2")
    for listing in paginate(dashboard.occupiers):
        yield (
            f"{OCCUPIERS_DIR}/{page_file('index', listing.number)}",
            directory.render(common, root="../", page=listing),
        )
    occupier_template = env.get_template("occupier.html.j2")
    for occupier in dashboard.occupiers:
        yield occupier.href, occupier_template.render(common, root="../", occupier=occupier)
    if dashboard.plan is not None:
        plan = env.get_template("plan.html.j2").render(common, root="", plan=dashboard.plan)
        yield "plan.html", plan
