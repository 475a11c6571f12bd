"""The planner's answer on a generated repo is exactly what it was before its speed work: the
allocations, releases, findings, device intents and holdings-after of a plan from an empty
ledger, of the no-op re-plan, and of a re-plan after a ledger was churned (values gone,
foreign holders, cooling-off numbers, extra VLANs, wrong-size public blocks, a decommission,
a Stopped line, exhausted and nearly full pools, public blocks).

The digests were produced by the planner as it was on main before it was made faster
(commit 6badbe9). A deliberate change of what the planner decides changes them: check the
difference is the one intended, then update them with `python tests/test_plan_golden.py`.
"""

from __future__ import annotations

import hashlib
import sys
from datetime import date, timedelta
from pathlib import Path

from reconciler.findings import Finding
from reconciler.ledger.model import Allocation, Holdings, Kind, State
from reconciler.load import load
from reconciler.model.repo import Repo
from reconciler.plan import Plan, make_plan

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from generate import generate  # noqa: E402

TODAY = date(2026, 11, 23)

EXTRA_CATALOGUE = """\
apiVersion: tenantry.dev/v1alpha1
kind: ServiceDefinition
metadata:
  name: public-block-29
spec:
  category: public-ip
  description: Eight public addresses
  cost: "20.00"
  rrp: "60.00"
  quantity: {min: 1, max: 2}
  infrastructure: {publicPrefixLength: 29}
---
apiVersion: tenantry.dev/v1alpha1
kind: ServiceDefinition
metadata:
  name: public-block-30
spec:
  category: public-ip
  description: Four public addresses
  cost: "10.00"
  rrp: "30.00"
  quantity: {min: 1, max: 2}
  infrastructure: {publicPrefixLength: 30}
"""


def _service(name: str, occupier: str, site: str, definition: str, extra: str = "") -> str:
    return (
        "---\napiVersion: tenantry.dev/v1alpha1\nkind: Service\n"
        f"metadata:\n  name: {name}\nspec:\n  occupier: {occupier}\n  site: {site}\n"
        f"  definition: {definition}\n  quantity: 1\n{extra}"
    )


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


def scenario_repo(root: Path) -> Repo:
    """4 sites of 12 occupiers, bent so that every branch of the planner has work: site-001's
    public pool is a /28 and its supernet holds 8 prefixes (both exhausted), site-002's
    public pool is a /26 with excluded addresses, site-000 and site-002 have a SIP server and
    a RADIUS server, site-003 has 10 VLANs (exhausted); public blocks, scheduled changes, a
    Stopped line and occupier, a decommissioned occupier."""
    generate(root, 4, 48)
    (root / "catalogue" / "extra.yaml").write_text(EXTRA_CATALOGUE)
    sites = root / "sites"
    _edit(sites / "site-001.yaml", "cidr: 100.64.4.0/22", "cidr: 100.64.4.0/28")
    _edit(
        sites / "site-001.yaml",
        "cidr: 10.65.0.0/16, prefixLength: 24",
        "cidr: 10.65.0.0/26, prefixLength: 29",
    )
    _edit(
        sites / "site-002.yaml",
        "cidr: 10.66.0.0/16, prefixLength: 24",
        "cidr: 10.66.0.0/20, prefixLength: 24",
    )
    _edit(
        sites / "site-002.yaml",
        "cidr: 100.64.8.0/22, gateway: 100.64.8.1}",
        "cidr: 100.64.8.0/26, gateway: 100.64.8.1, exclude: [100.64.8.9, 100.64.8.33]}",
    )
    for site in ("site-000", "site-002"):  # the generator's sites have neither
        _edit(
            sites / f"{site}.yaml",
            "\n  switches:\n",
            f"\n  telephony: {{name: {site}-sip, platform: kamailio, host: 192.0.2.30}}"
            f"\n  wifi: {{name: {site}-radius, platform: freeradius, host: 192.0.2.31}}"
            "\n  switches:\n",
        )
    _edit(
        sites / "site-003.yaml",
        'range: "100-3999", reserved: [100, 101]',
        'range: "100-111", reserved: [100, 105]',
    )
    occupiers = root / "occupiers"
    for site in range(4):
        for slot in (1, 4, 7):
            name = f"occ-{site:03d}-{slot:03d}"
            path = occupiers / f"site-{site:03d}" / f"occ-{slot:03d}.yaml"
            block = "public-block-29" if slot != 4 else "public-block-30"
            with path.open("a") as out:
                out.write(_service(f"{name}-block", name, f"site-{site:03d}", block))
    first = occupiers / "site-000"
    with (first / "occ-002.yaml").open("a") as out:
        out.write(
            _service(
                "occ-000-002-more",
                "occ-000-002",
                "site-000",
                "internet-lan-100",
                "  changes:\n    - {on: 2026-06-01, quantity: 3}\n",
            )
        )
        out.write(
            _service(
                "occ-000-002-later",
                "occ-000-002",
                "site-000",
                "voice-line",
                "  changes:\n    - {on: 2027-01-01, quantity: 4}\n",
            )
        )
    _edit(
        first / "occ-003.yaml",
        "  definition: voice-line\n",
        "  definition: voice-line\n  status: Stopped\n",
    )
    _edit(
        first / "occ-005.yaml",
        "  displayName: Occupier 0-5 Ltd\n",
        "  displayName: Occupier 0-5 Ltd\n  status: Stopped\n",
    )
    _edit(
        first / "occ-006.yaml",
        "  displayName: Occupier 0-6 Ltd\n",
        "  displayName: Occupier 0-6 Ltd\n"
        "  decommission: {confirm: Occupier 0-6 Ltd, irreversible: true, at: 2026-11-01}\n",
    )
    loaded = load(str(root))
    assert loaded.repo.occupiers and not [f for f in loaded.findings if f.is_error], [
        f.text() for f in loaded.findings
    ]
    return loaded.repo


def churned(after: Holdings) -> Holdings:
    """The ledger as a busy month leaves it: every fifth value gone, values held by an occupier
    no document names, cooling-off numbers (ended and not), a second VLAN for one occupier, a
    /30 where a /32 was asked, and another occupier on a floor port and a number that
    documents name."""
    rows = [r for i, r in enumerate(after.rows) if i % 5]
    rows += [
        Allocation("site-000", Kind.VLAN, "3000", "ghost", State.HELD),
        Allocation("site-000", Kind.PREFIX, "10.64.200.0/24", "ghost", State.HELD),
        Allocation("site-000", Kind.PREFIX, "10.64.1.128/25", "ghost", State.HELD),
        Allocation("site-000", Kind.NUMBER, "+442070000900", "", State.COOLING_OFF, "", TODAY),
        Allocation(
            "site-000",
            Kind.NUMBER,
            "+442070000901",
            "",
            State.COOLING_OFF,
            "",
            TODAY + timedelta(days=30),
        ),
        Allocation(
            "site-001",
            Kind.NUMBER,
            "+442070010003",
            "",
            State.COOLING_OFF,
            "",
            TODAY + timedelta(days=30),
        ),
        Allocation("site-000", Kind.VLAN, "2999", "occ-000-008", State.HELD),
        Allocation("site-000", Kind.PUBLIC, "100.64.0.200/30", "occ-000-009", State.HELD),
        Allocation("site-002", Kind.PORT, "FP-0012", "occ-002-010", State.RESERVED, "internet"),
        Allocation("site-003", Kind.NUMBER, "+442070030005", "occ-003-011", State.ACTIVE),
        Allocation("gone-site", Kind.VLAN, "200", "occ-000-000", State.HELD),
        Allocation("site-000", Kind.VLAN, "2998", "occ-000-006", State.HELD),
        Allocation("site-000", Kind.NUMBER, "+442070000006", "occ-000-006", State.ACTIVE, "main"),
    ]
    keyed = {r.key: r for r in rows}
    return Holdings.of_rows(keyed[k] for k in sorted(keyed))


def _finding(finding: Finding, root: str) -> tuple[object, ...]:
    source = finding.source
    where = (source.file.removeprefix(root), source.index) if source is not None else None
    return (finding.rule, finding.severity, finding.message, where, finding.path, finding.hint)


def digests(plan: Plan, root: Path) -> dict[str, str]:
    where = str(root) + "/"
    parts: dict[str, object] = {
        "allocations": plan.allocations,
        "releases": plan.releases,
        "findings": [_finding(f, where) for f in plan.findings],
        "intents": sorted(plan.intents.items()),
        "after": plan.after.rows,
        "services": sorted(plan.services.items()),
        "decommissions": plan.decommissions,
        "devices": sorted(plan.sites_of_device.items()),
    }
    return {k: hashlib.sha256(repr(v).encode()).hexdigest()[:16] for k, v in parts.items()}


def plans(root: Path) -> dict[str, dict[str, str]]:
    repo = scenario_repo(root)
    first = make_plan(repo, Holdings(source=[]), TODAY)
    active = frozenset(first.services)
    again = make_plan(repo, first.after, TODAY, active)
    busy = make_plan(repo, churned(first.after), TODAY, active)
    later = make_plan(repo, busy.after, date(2027, 2, 1), active)
    return {
        "from empty": digests(first, root),
        "no-op": digests(again, root),
        "churned": digests(busy, root),
        "later": digests(later, root),
    }


GOLDEN: dict[str, dict[str, str]] = {
    "from empty": {
        "allocations": "3a047e600ee64e93",
        "releases": "4f53cda18c2baa0c",
        "findings": "f9c7a80a7c641d12",
        "intents": "aed77cdaabf97d6b",
        "after": "d77a5e4f1d00eac5",
        "services": "cf3e3aaab5d4e593",
        "decommissions": "4f53cda18c2baa0c",
        "devices": "2b7ac2da0bc83715",
    },
    "no-op": {
        "allocations": "4f53cda18c2baa0c",
        "releases": "4f53cda18c2baa0c",
        "findings": "cc2c53d621d13b37",
        "intents": "aed77cdaabf97d6b",
        "after": "d77a5e4f1d00eac5",
        "services": "cf3e3aaab5d4e593",
        "decommissions": "4f53cda18c2baa0c",
        "devices": "2b7ac2da0bc83715",
    },
    "churned": {
        "allocations": "e3ffaa1793ff6c02",
        "releases": "588187316902507f",
        "findings": "6a3135d0a5693a89",
        "intents": "c2bc35420d568d47",
        "after": "19ae607931bad525",
        "services": "cf3e3aaab5d4e593",
        "decommissions": "d95e188b21d66acc",
        "devices": "2b7ac2da0bc83715",
    },
    "later": {
        "allocations": "3a0ec2e8bc208bed",
        "releases": "963e924a91f56ea8",
        "findings": "a470d9abda45ce03",
        "intents": "e08de812ab8edb57",
        "after": "19ba97a42a56a6ee",
        "services": "cf3e3aaab5d4e593",
        "decommissions": "4f53cda18c2baa0c",
        "devices": "2b7ac2da0bc83715",
    },
}


def test_n4_plan_on_a_generated_repo_is_unchanged(tmp_path: Path) -> None:
    assert plans(tmp_path / "repo") == GOLDEN


if __name__ == "__main__":  # print the digests of this tree's planner
    import pprint
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        pprint.pprint(plans(Path(tmp) / "repo"), sort_dicts=False)
