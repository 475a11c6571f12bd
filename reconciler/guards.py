"""G1: nothing is released or deprovisioned except what a person asked for. Pure.

The planner releases whatever the desired state no longer needs; these checks stand between
that plan and the ledger (Terraform's `prevent_destroy`, Argo CD's prune confirmation):

- a site missing from the desired state keeps everything it holds (an empty or partial
  checkout must never free every VLAN, prefix and address);
- an occupier deleted from the desired state while a contract of its is Active or Scheduled
  (as the ledger recorded it) is refused: an occupier leaves through D1–D5;
- a plan that would release more than MASS_RELEASE_SHARE of a site's holdings (and more than
  MASS_RELEASE_FLOOR values) stops, unless
  the person says `--allow-mass-release`; releases a decommission request asked for, and
  numbers whose cooling-off ended, do not count.
"""

from __future__ import annotations

import json
import os.path
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date

from reconciler.findings import Finding, error
from reconciler.ledger.model import Holdings
from reconciler.model.repo import Repo
from reconciler.plan.result import Plan

MASS_RELEASE_SHARE = 0.10
MASS_RELEASE_FLOOR = 5  # a small site's routine change (a voice line removed) is no mass release
UNDER_WAY = ("DecommissionPending", "Decommissioned", "DecommissionFailed")


@dataclass(frozen=True)
class ContractRecord:
    """A contract as the last apply saw it: enough to tell, once its documents are gone,
    whether it was still running."""

    occupier: str
    site: str
    start: date
    end: date | None
    file: str  # where the last apply read it, when outside the desired state's folder
    path: str = ""  # its place within the desired state's folder: the same in every checkout

    def encode(self) -> str:
        return json.dumps(
            {
                "occupier": self.occupier,
                "site": self.site,
                "start": self.start.isoformat(),
                "end": self.end.isoformat() if self.end else None,
                **({"path": self.path} if self.path else {"file": self.file}),
            },
            sort_keys=True,
        )

    def where(self, root: str) -> str:
        """The file in the checkout read now (`root`), not in the one the last apply read."""
        return os.path.join(root, self.path) if self.path else self.file or "."

    @classmethod
    def decode(cls, text: str) -> ContractRecord | None:
        try:
            data = json.loads(text)
            return cls(
                data["occupier"],
                data["site"],
                date.fromisoformat(data["start"]),
                date.fromisoformat(data["end"]) if data.get("end") else None,
                str(data.get("file", "")),
                str(data.get("path", "")),
            )
        except (ValueError, KeyError, TypeError):
            return None

    def status(self, today: date) -> str:
        if self.start > today:
            return "Scheduled"
        return "Active" if self.end is None or self.end >= today else "Inactive"


def contract_records(repo: Repo, root: str = ".") -> dict[str, ContractRecord]:
    """What an apply records of each contract in the desired state read from `root`."""
    records = {}
    prefix = root if root.endswith("/") else root + "/"
    for name, c in repo.contracts.items():
        source = repo.source(c)
        file = source.file if source else ""
        path = file[len(prefix) :] if file.startswith(prefix) else ""
        records[name] = ContractRecord(
            c.spec.occupier, c.spec.site, c.spec.start, c.spec.end, "" if path else file, path
        )
    return records


def recorded_contracts(statuses: Mapping[str, tuple[str, str]]) -> dict[str, ContractRecord]:
    """The ledger's Contract statuses (name → (status, reason)) back to records."""
    out = {}
    for name, (_, reason) in statuses.items():
        record = ContractRecord.decode(reason)
        if record is not None:
            out[name] = record
    return out


def g1_releases(
    repo: Repo,
    plan: Plan,
    holdings: Holdings,
    today: date,
    contracts: Mapping[str, ContractRecord],
    occupier_phases: Mapping[str, str],
    allow_mass_release: bool = False,
    root: str = ".",
    allow_departures: bool = False,
) -> list[Finding]:
    """The G1 findings on a plan; any of them stops the apply before the ledger is touched.
    `root`: the path the desired state was read from, where site-level findings point.
    `allow_departures`: a deleted occupier was itself the request (the operator's finalizer
    runs only once someone deleted the Occupier object)."""
    findings = list(_missing_sites(repo, plan, holdings, root))
    if not allow_departures:
        findings += _departed_occupiers(repo, plan, today, contracts, occupier_phases, root)
    if not findings and not allow_mass_release:
        findings += _mass_release(repo, plan, holdings)
    return findings


def _missing_sites(repo: Repo, plan: Plan, holdings: Holdings, root: str) -> Iterator[Finding]:
    gone = Counter(
        r.allocation.site
        for r in plan.releases
        if r.allocation.holder and r.allocation.site not in repo.sites
    )
    for site, count in sorted(gone.items()):
        held = sum(1 for row in holdings.at.get(site, ()) if row.holder)
        yield error(
            "G1",
            None,
            (),
            f"site {site} is not in the desired state but the ledger holds {held} values there; "
            f"nothing is released ({count} would have been) — is this the whole repo?",
            "restore the Site document, or check the path given to tenantry",
        ).at(root, 1, 1)


def _departed_occupiers(
    repo: Repo,
    plan: Plan,
    today: date,
    contracts: Mapping[str, ContractRecord],
    occupier_phases: Mapping[str, str],
    root: str,
) -> Iterator[Finding]:
    releasing = {r.allocation.holder for r in plan.releases if r.allocation.holder}
    for name, record in sorted(contracts.items()):
        occupier = record.occupier
        if (
            occupier not in releasing
            or occupier in repo.occupiers
            or name in repo.contracts
            or occupier_phases.get(occupier) in UNDER_WAY
        ):
            continue
        status = record.status(today)
        if status == "Inactive":
            continue
        runs = f"runs to {record.end}" if record.end else "has no end date"
        yield error(
            "G1",
            None,
            (),
            f"occupier {occupier} was deleted from the desired state while its contract "
            f"{name} at {record.site} is {status} and {runs}; nothing of it is released: an "
            "occupier leaves through a decommission request (D1)",
            f"restore its documents and run `tenantry decommission {occupier}`",
        ).at(record.where(root), 1, 1)


def _mass_release(repo: Repo, plan: Plan, holdings: Holdings) -> Iterator[Finding]:
    asked = set(plan.decommissions)
    released = Counter(
        r.allocation.site
        for r in plan.releases
        if r.allocation.holder and r.allocation.holder not in asked
    )
    for site, count in sorted(released.items()):
        held = sum(1 for row in holdings.at.get(site, ()) if row.holder)
        if count > MASS_RELEASE_FLOOR and count > MASS_RELEASE_SHARE * held:
            doc = repo.sites.get(site)
            found = error(
                "G1",
                repo.source(doc) if doc else None,
                (),
                f"the plan releases {count} of the {held} values held at {site} "
                f"(more than {MASS_RELEASE_SHARE:.0%}); nothing was applied",
                "check the plan; if it is what you want, apply with --allow-mass-release",
            )
            yield found if doc else found.at(".", 1, 1)
