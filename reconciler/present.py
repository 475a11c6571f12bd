"""Plans for people: terraform-like text, markdown for a pull-request comment, JSON."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence

from reconciler.findings import Finding
from reconciler.ledger.model import Allocation, Kind, Release, State
from reconciler.plan.changes import DeviceChange
from reconciler.plan.pools import POOL_WARNING, PoolUse
from reconciler.plan.result import Plan

_KIND_LABEL = {
    Kind.VLAN: "VLAN",
    Kind.PREFIX: "prefix",
    Kind.PUBLIC: "public",
    Kind.NUMBER: "number",
    Kind.PORT: "floor port",
}


def _allocation_line(row: Allocation, new: bool) -> str:
    sign = "+" if new else "~"
    extra = []
    if row.kind in (Kind.NUMBER, Kind.PORT) and row.state is not State.HELD:
        extra.append(str(row.state))
    if row.role:
        extra.append(row.role)
    tail = f" ({', '.join(extra)})" if extra else ""
    return f"{sign} {_KIND_LABEL[row.kind]} {row.value}{tail}"


def _release_line(release: Release) -> str:
    row = release.allocation
    if row.state is State.COOLING_OFF:
        return f"- {_KIND_LABEL[row.kind]} {row.value} (cooling-off ended: available again)"
    if release.until is not None:
        return f"- {_KIND_LABEL[row.kind]} {row.value} (cooling-off until {release.until})"
    return f"- {_KIND_LABEL[row.kind]} {row.value}"


def _device_line(change: DeviceChange) -> str:
    if change.old is None:
        return f"+ {change.item}: {change.new}"
    if change.new is None:
        return f"- {change.item}: {change.old}"
    return f"~ {change.item}: {change.old} → {change.new}"


def grouped(
    plan: Plan, changes: Sequence[DeviceChange], existing: set[tuple[str, str, str]]
) -> dict[str, dict[str, list[str]]]:
    """site → (occupier or device) → lines, in a stable order."""
    out: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in plan.allocations:
        out[row.site][f"occupier {row.holder}"].append(
            _allocation_line(row, row.key not in existing)
        )
    for release in plan.releases:
        row = release.allocation
        who = f"occupier {row.holder}" if row.holder else "cooling-off numbers"
        out[row.site][who].append(_release_line(release))
    for change in changes:
        site = plan.sites_of_device.get(change.device, "")
        out[site][f"device {change.device}"].append(_device_line(change))
    return {
        site: dict(sorted(groups.items(), key=lambda kv: (kv[0].startswith("device"), kv[0])))
        for site, groups in sorted(out.items())
    }


def summary(plan: Plan, changes: Sequence[DeviceChange]) -> str:
    devices = len({c.device for c in changes})
    return (
        f"{len(plan.allocations)} to allocate or change, {len(plan.releases)} to release, "
        f"{len(changes)} device changes on {devices} devices"
    )


def decommission_lines(plan: Plan) -> list[str]:
    """D3 in words, so a reviewer sees the whole effect before merging."""
    return [
        f"occupier {name}: decommission at every site — contracts end, services become "
        "inactive, numbers go to cooling-off, ports are parked, routes and public IPs removed, "
        "VLAN and prefix released, users' Wi-Fi accounts and Wi-Fi devices deleted"
        for name in sorted(plan.decommissions)
    ]


def _with_usage(who: str, site: str, usage: Mapping[tuple[str, str], str] | None) -> str:
    """ "occupier acme (switch ports 0/3, telephony 1/1, …)": S6's X/Y after the plan."""
    cell = (
        (usage or {}).get((site, who.removeprefix("occupier "))) if who.startswith("occ") else None
    )
    return f"{who} ({cell})" if cell else who


def text(
    plan: Plan,
    changes: Sequence[DeviceChange],
    existing: set[tuple[str, str, str]],
    findings: Sequence[Finding],
    usage: Mapping[tuple[str, str], str] | None = None,
    notes: Sequence[str] = (),
) -> str:
    lines = decommission_lines(plan)
    for site, groups in grouped(plan, changes, existing).items():
        lines.append(f"site {site}")
        for who, entries in groups.items():
            lines.append(f"  {_with_usage(who, site, usage)}")
            lines.extend(f"    {entry}" for entry in entries)
    lines.extend(f.text() for f in findings)
    lines.extend(f"note: {note}" for note in notes)
    if not plan.changes and not changes:
        lines.append("No changes. The devices and the ledger match the desired state.")
    else:
        lines.append(f"Plan: {summary(plan, changes)}.")
    return "\n".join(lines)


def markdown(
    plan: Plan,
    changes: Sequence[DeviceChange],
    existing: set[tuple[str, str, str]],
    findings: Sequence[Finding],
    pools: Sequence[PoolUse],
    usage: Mapping[tuple[str, str], str] | None = None,
    notes: Sequence[str] = (),
) -> str:
    lines = ["<!-- tenantry-plan -->", f"**tenantry plan:** {summary(plan, changes)}", ""]
    lines += [f"⚠️ {line}" for line in decommission_lines(plan)]
    lines += [f"📝 {note}" for note in notes]
    for finding in findings:
        icon = "❌" if finding.is_error else "⚠️"
        lines.append(
            f"{icon} `{finding.file}:{finding.line}` **{finding.rule}**{finding.when} "
            f"{finding.message}"
        )
    for site, groups in grouped(plan, changes, existing).items():
        lines.append(f"### {site}")
        for who, entries in groups.items():
            summary_text = _with_usage(who, site, usage)
            lines.append(f"<details open><summary>{summary_text}</summary>\n\n```diff")
            lines.extend(entries)
            lines.append("```\n</details>")
    touched = {row.site for row in plan.allocations} | {r.allocation.site for r in plan.releases}
    rows = [p for p in pools if p.site in touched and p.size]
    if rows:
        lines += ["", "| site | pool | used after | size | % |", "|---|---|---|---|---|"]
        for pool in rows:
            flag = " ⚠️" if pool.ratio >= POOL_WARNING else ""
            lines.append(
                f"| {pool.site} | {pool.pool} | {pool.used} | {pool.size} | "
                f"{pool.ratio:.0%}{flag} |"
            )
    return "\n".join(lines)


def as_json(
    plan: Plan,
    changes: Sequence[DeviceChange],
    existing: set[tuple[str, str, str]],
    findings: Sequence[Finding],
) -> str:
    return json.dumps(
        {
            "summary": summary(plan, changes),
            "allocate": [
                {
                    "site": a.site,
                    "kind": str(a.kind),
                    "value": a.value,
                    "occupier": a.holder,
                    "state": str(a.state),
                    "role": a.role,
                    "new": a.key not in existing,
                }
                for a in plan.allocations
            ],
            "release": [
                {
                    "site": r.allocation.site,
                    "kind": str(r.allocation.kind),
                    "value": r.allocation.value,
                    "occupier": r.allocation.holder,
                    "coolingOffUntil": r.until.isoformat() if r.until else None,
                }
                for r in plan.releases
            ],
            "devices": [
                {"device": c.device, "item": c.item, "old": c.old, "new": c.new} for c in changes
            ],
            "findings": [
                {
                    "rule": f.rule,
                    "severity": str(f.severity),
                    "file": f.file,
                    "line": f.line,
                    "message": f.message,
                    "on": f.on.isoformat() if f.on is not None else None,
                }
                for f in findings
            ],
        },
        indent=2,
    )
