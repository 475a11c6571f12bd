"""The planner: (repo, holdings, today) → what to allocate, release and configure. Pure.

It decides, occupier by occupier and site by site in name order, what each occupier needs on
`today` (plan.needs), keeps what it already holds (N4: nothing moves unless released), takes
the lowest free value for what is missing (plan.allocation), and releases the rest. Device
intents are then derived from the holdings as they will be (plan.intents), so the drivers
converge every device on that one picture.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import date, timedelta

from reconciler.catalogue import decommissioned
from reconciler.ledger.model import Allocation, Holdings, Kind, Release, State
from reconciler.model.kinds import Site
from reconciler.model.repo import Repo
from reconciler.plan.allocation import Request, SiteState, allocate_site
from reconciler.plan.intents import intents
from reconciler.plan.needs import needs
from reconciler.plan.pools import pool_warnings
from reconciler.plan.result import Plan


def make_plan(
    repo: Repo, holdings: Holdings, today: date, active: Collection[str] = frozenset()
) -> Plan:
    """`active`: services a previous apply recorded Active (for S8)."""
    plan = Plan()
    wanted = needs(repo, today, active)
    for key, wants in wanted.items():
        for service in wants.services:
            plan.services[service] = key[1]
    holders_at: dict[str, set[str]] = defaultdict(set)
    for site_name, holder in holdings.of:  # (site, holder) of every row, once each
        holders = holders_at[site_name]  # only cooling-off numbers (holder ""): still ends them
        if holder:
            holders.add(holder)
    for occupier_name, site_name in wanted:
        holders_at[site_name].add(occupier_name)
    for site_name in sorted(holders_at):
        site = repo.sites.get(site_name)
        cooling, freed = _cooling_off(plan, holdings, site_name, today)
        state = SiteState.of(site, holdings, cooling, freed, today) if site else None
        occupiers = sorted(holders_at[site_name])
        if state is not None:
            state.reserve(repo, (o for o in occupiers if (o, site_name) in wanted))
        for occupier in occupiers:
            held = holdings.of.get((site_name, occupier), [])
            need = wanted.get((occupier, site_name))
            doc = repo.occupiers.get(occupier)
            if state is None or need is None or decommissioned(doc, today):
                if held and decommissioned(doc, today) and occupier not in plan.decommissions:
                    plan.decommissions.append(occupier)
                _release_all(plan, held, site, today)
                continue
            allocate_site(plan, repo, state, Request(occupier, doc, need, held))
    plan.after = _after(holdings, plan)
    plan.intents, plan.sites_of_device = intents(repo, plan.after, today)
    if plan.allocations or plan.releases:
        plan.findings.extend(pool_warnings(repo, holdings, plan.after))
    return plan


def _cooling_off(
    plan: Plan, holdings: Holdings, site: str, today: date
) -> tuple[dict[str, date], set[str]]:
    """T2: numbers whose cooling-off has ended go back to available (free in this run already);
    the others stay out of reach until their date."""
    cooling: dict[str, date] = {}
    freed: set[str] = set()
    for row in holdings.at.get(site, ()):
        if row.state is State.COOLING_OFF and row.until:
            if row.until <= today:
                plan.releases.append(Release(row))
                freed.add(row.value)
            else:
                cooling[row.value] = row.until
    return cooling, freed


def _release_all(plan: Plan, held: Iterable[Allocation], site: Site | None, today: date) -> None:
    cooling_days = site.spec.cooling_off_days if site else 0
    for row in sorted(held, key=lambda a: (a.kind, a.value)):
        until = today + timedelta(days=cooling_days) if row.kind is Kind.NUMBER else None
        plan.releases.append(Release(row, until))


def _after(holdings: Holdings, plan: Plan) -> Holdings:
    if not plan.releases and not plan.allocations:
        return holdings  # the no-op run of every cron tick: nothing to rebuild
    rows = dict(holdings.by_key)
    for release in plan.releases:
        row = release.allocation
        if row.kind is Kind.NUMBER and release.until is not None:
            rows[row.key] = Allocation(
                row.site, row.kind, row.value, "", State.COOLING_OFF, "", release.until
            )
        else:
            rows.pop(row.key, None)
    for row in plan.allocations:
        rows[row.key] = row
    return Holdings.of_rows(rows[k] for k in sorted(rows))
