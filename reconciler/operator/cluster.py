"""Custom objects read from the cluster → the same Repo the loader builds from files.

Each object becomes one document whose `Source.file` is `Kind/name`, so every finding the
rules make points back at the object it is about. Only the fields of a desired-state document
are kept: the server's metadata (uid, resourceVersion, finalizers, kubectl's annotations)
is not part of the desired state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.findings import Finding
from reconciler.load import Loaded, validate_document
from reconciler.model.repo import Ref, Repo, Source

Body = Mapping[str, Any]


def plain(value: Any) -> Any:
    """A kopf Body (read-only mappings and sequences) → plain JSON-like data."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def ref_of(body: Body) -> Ref:
    return Ref(str(body.get("kind", "")), str((body.get("metadata") or {}).get("name", "")))


def source_of(ref: Ref) -> Source:
    return Source(f"{ref.kind}/{ref.name}", 0)


def ref_of_source(source: Source | None) -> Ref | None:
    if source is None or "/" not in source.file:
        return None
    kind, name = source.file.split("/", 1)
    return Ref(kind, name)


def deleting(body: Body) -> bool:
    return bool((body.get("metadata") or {}).get("deletionTimestamp"))


def document_of(body: Body) -> dict[str, Any]:
    meta = body.get("metadata") or {}
    doc: dict[str, Any] = {
        "apiVersion": body.get("apiVersion"),
        "kind": body.get("kind"),
        "metadata": {"name": meta.get("name")},
        "spec": plain(body.get("spec") or {}),
    }
    if meta.get("labels"):
        doc["metadata"]["labels"] = plain(meta["labels"])
    if body.get("status"):
        doc["status"] = plain(body["status"])
    return doc


@dataclass
class Snapshot:
    """The cluster's objects as a loaded repo; `parked`: objects left out, with the reason."""

    loaded: Loaded
    bodies: dict[Ref, Body] = field(default_factory=dict)
    parked: dict[Ref, str] = field(default_factory=dict)

    @property
    def repo(self) -> Repo:
        return self.loaded.repo

    def refs_of(self, findings: Iterable[Finding]) -> dict[Ref, list[Finding]]:
        out: dict[Ref, list[Finding]] = {}
        for finding in findings:
            ref = ref_of_source(finding.source)
            if ref is not None:
                out.setdefault(ref, []).append(finding)
        return out


def snapshot(
    bodies: Iterable[Body], leaving: Iterable[Ref] = (), replace: Body | None = None
) -> Snapshot:
    """Objects being deleted (and `leaving`) are left out; so are the contracts and services
    of an occupier that is absent or leaving: in a cluster they may arrive before their
    occupier (kubectl applies files in name order) or outlive it, and they wait, parked,
    without blocking the rest. `replace`: an incoming object (admission) in place of its
    stored version."""
    gone = set(leaving)
    by_ref: dict[Ref, Body] = {}
    for body in bodies:
        by_ref[ref_of(body)] = body
    if replace is not None:
        by_ref[ref_of(replace)] = replace
    out = Snapshot(Loaded(Repo(), root="cluster"))
    occupiers = {
        ref.name
        for ref, body in by_ref.items()
        if ref.kind == "Occupier" and ref not in gone and not deleting(body)
    }
    for ref in sorted(by_ref, key=lambda r: (r.kind, r.name)):
        body = by_ref[ref]
        out.bodies[ref] = body
        if ref in gone or deleting(body):
            out.parked[ref] = "being deleted"
            continue
        occupier = (body.get("spec") or {}).get("occupier")
        if ref.kind in ("Contract", "Service") and occupier not in occupiers:
            out.parked[ref] = f"waiting for Occupier {occupier}"
            continue
        doc = validate_document(document_of(body), source_of(ref), out.loaded.findings)
        if doc is not None:
            out.loaded.repo.add(doc, source_of(ref))
    out.loaded.repo.index()
    return out
