"""Decommission lifecycle (D3–D5), pure: phases, one task per site, and the fingerprint that
keeps a decommissioned occupier read-only.

    Active → DecommissionScheduled (a future `at`) → DecommissionPending
           → Decommissioned | DecommissionFailed (a site task failed; the next run retries
             only what is left at that site)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from reconciler.catalogue import decommissioned
from reconciler.model.base import Document
from reconciler.model.repo import Repo

ACTIVE = "Active"
SCHEDULED = "DecommissionScheduled"
PENDING = "DecommissionPending"
DONE = "Decommissioned"
FAILED = "DecommissionFailed"
UNDER_WAY = (PENDING, DONE, FAILED)


@dataclass(frozen=True)
class Record:
    """What the ledger keeps for an occupier: its phase, its tasks, its documents' hashes."""

    phase: str = ACTIVE
    tasks: Mapping[str, str] = field(default_factory=dict)  # site → "pending" | "done" | reason
    docs: Mapping[str, str] = field(default_factory=dict)  # "Kind/name" → hash

    def encode(self) -> str:
        import json  # (here and below: validating a repo needs none of it)

        return json.dumps({"tasks": dict(self.tasks), "docs": dict(self.docs)}, sort_keys=True)

    @classmethod
    def decode(cls, phase: str, reason: str) -> Record:
        import json

        try:
            data = json.loads(reason) if reason else {}
        except json.JSONDecodeError:
            data = {}
        return cls(phase, data.get("tasks", {}), data.get("docs", {}))

    @property
    def failed(self) -> dict[str, str]:
        return {site: why for site, why in self.tasks.items() if why not in ("pending", "done")}


def own_documents(repo: Repo, occupier: str) -> list[Document]:
    docs: list[Document] = []
    if occupier in repo.occupiers:
        docs.append(repo.occupiers[occupier])
    docs += repo.contracts_of.get(occupier, [])
    docs += [
        s for (holder, _), lines in repo.services_at.items() if holder == occupier for s in lines
    ]
    return docs


def fingerprints(repo: Repo, occupier: str) -> dict[str, str]:
    """A hash per document of the occupier (its spec only), to notice any later edit."""
    import hashlib  # loads OpenSSL: only when a decommission is recorded or checked
    import json

    out = {}
    for doc in own_documents(repo, occupier):
        spec = doc.model_dump(mode="json", by_alias=True, include={"spec"})
        text = json.dumps(spec, sort_keys=True)
        out[f"{doc.kind}/{doc.name}"] = hashlib.sha256(text.encode()).hexdigest()[:16]
    return out


def starting(repo: Repo, today: date, recorded: Mapping[str, Record]) -> dict[str, Record]:
    """Occupiers whose decommission takes effect now (or is scheduled): their new record."""
    out = {}
    for name, occupier in repo.occupiers.items():
        request = occupier.spec.decommission
        before = recorded.get(name, Record())
        if request is None or before.phase in UNDER_WAY:
            continue
        if not decommissioned(occupier, today):
            if before.phase != SCHEDULED:
                out[name] = Record(SCHEDULED)
            continue
        tasks = dict.fromkeys(repo.sites_of(name), "pending")
        out[name] = Record(PENDING, tasks, fingerprints(repo, name))
    return out


def finishing(
    repo: Repo, today: date, recorded: Mapping[str, Record], failed_sites: Mapping[str, str]
) -> dict[str, Record]:
    """After the devices ran: each site task of an occupier under way is done, or failed with
    the reason of the device that failed there."""
    out = {}
    for name, before in recorded.items():
        if before.phase not in (PENDING, FAILED):
            continue
        tasks = {
            site: failed_sites.get(site, "done") if state != "done" else "done"
            for site, state in before.tasks.items()
        }
        phase = FAILED if any(t != "done" for t in tasks.values()) else DONE
        out[name] = Record(phase, tasks, before.docs)
    return out


def edited(repo: Repo, occupier: str, record: Record) -> list[str]:
    """Documents of a decommissioned occupier that changed since (D5: read-only)."""
    now = fingerprints(repo, occupier)
    return sorted(
        ref for ref, digest in now.items() if ref in record.docs and record.docs[ref] != digest
    )
