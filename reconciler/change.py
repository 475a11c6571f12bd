"""What a change touches: the difference between two desired states (P1).

A state is summarised per document as a `Mark`: a digest of its spec, the sites it touches and,
for a Site, its admins. That is all P1 needs, and all the ledger keeps of the state `apply`
last applied, so the same comparison serves a pull request (base = the target branch) and an
apply after merge (base = the last applied state). Pure: no I/O.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from reconciler.model.base import Document
from reconciler.model.repo import Ref, Repo

ADDED, EDITED, DELETED = "added", "edited", "deleted"


@dataclass(frozen=True, slots=True)
class Mark:
    """One document as P1 sees it."""

    digest: str
    sites: tuple[str, ...]
    file: str = ""  # relative to the desired-state root
    admins: tuple[str, ...] = ()  # Site documents only


State = Mapping[Ref, Mark]


@dataclass(frozen=True, slots=True)
class Touch:
    """A document the change adds, edits or deletes, and the sites it touches before and
    after (an occupier moving between sites touches both)."""

    ref: Ref
    how: str
    sites: tuple[str, ...]
    file: str = ""  # where it is, or was (deleted)


@dataclass(frozen=True)
class Change:
    """What a change touches (documents, by ref) and who may approve it per site: what P1
    judges."""

    touches: Mapping[Ref, Touch]
    # Who may approve for each touched site: the admins the base knew (adding yourself to a
    # site's admins in the same change does not count); for a new site, its own admins.
    admins: Mapping[str, tuple[str, ...]]
    base: str = ""  # what the change is measured from, for messages

    @property
    def refs(self) -> frozenset[Ref]:
        return frozenset(self.touches)

    @property
    def sites(self) -> tuple[str, ...]:
        return tuple(sorted({s for t in self.touches.values() for s in t.sites}))


def digest(doc: Document) -> str:
    """A short hash of the document's spec: what makes it a different desired state.
    (hashlib, which loads OpenSSL, is imported by the commands that digest, not by all.)"""
    import hashlib

    return hashlib.sha256(doc.spec.model_dump_json(by_alias=True).encode()).hexdigest()[:16]  # type: ignore[attr-defined]


def sites_of(repo: Repo, doc: Document) -> tuple[str, ...]:
    """The sites a document touches: a Site itself; a Contract or Service its site; an
    Occupier every site where it has a contract or names in its spec; a ServiceDefinition
    every site where a service uses it."""
    spec = doc.spec  # type: ignore[attr-defined]
    if doc.kind == "Site":
        return (doc.name,)
    if doc.kind in ("Contract", "Service"):
        return (spec.site,)
    if doc.kind == "Occupier":
        named = {a.site for a in spec.activations.floor_ports}
        named |= {n.site for n in spec.activations.numbers}
        named |= {d.site for d in spec.wifi_devices} | {m.site for m in spec.main_numbers}
        return tuple(sorted(named | set(repo.sites_of(doc.name))))
    if doc.kind == "ServiceDefinition":
        return tuple(sorted(_definition_sites(repo).get(doc.name, ())))
    return ()


def _definition_sites(repo: Repo) -> dict[str, set[str]]:
    key = ("definition_sites",)
    if key not in repo.memo:
        out: dict[str, set[str]] = {}
        for service in repo.services.values():
            names = {service.spec.definition} | {
                c.definition for c in service.spec.changes if c.definition
            }
            for name in names:
                out.setdefault(name, set()).add(service.spec.site)
        repo.memo[key] = out
    return repo.memo[key]  # type: ignore[return-value]


def state(repo: Repo, root: str = "", only: Iterable[Ref] | None = None) -> dict[Ref, Mark]:
    """The marks of a repo's documents (or of `only`); files relative to `root`. The whole
    repo's are remembered: P1 measures the change with them, and an apply then records them
    (a digest per document: a second or so at 10,000 occupiers)."""
    if only is None:
        key = ("state", root)
        if key not in repo.memo:
            repo.memo[key] = _marks(repo, repo.all_documents(), root)
        return repo.memo[key]  # type: ignore[return-value]
    return _marks(repo, list(_lookup(repo, only)), root)


def _marks(repo: Repo, docs: Iterable[Document], root: str) -> dict[Ref, Mark]:
    out: dict[Ref, Mark] = {}
    prefix = root.rstrip("/") + "/" if root else ""
    for doc in docs:
        ref = Ref(doc.kind, doc.name)
        source = repo.sources.get(ref)
        file = source.file if source else ""
        if prefix and file.startswith(prefix):
            file = file[len(prefix) :]
        admins = tuple(doc.spec.admins) if doc.kind == "Site" else ()  # type: ignore[attr-defined]
        out[ref] = Mark(digest(doc), sites_of(repo, doc), file, admins)
    return out


def _lookup(repo: Repo, refs: Iterable[Ref]) -> Iterable[Document]:
    for ref in refs:
        doc = repo.get(ref)
        if doc is not None:
            yield doc


def between(before: State, after: State, base: str = "", root: str = "") -> Change:
    """The documents added, edited or deleted from `before` to `after`, with the sites each
    touches in either state. Untouched documents are not in it. Files are joined to `root`."""
    touches: dict[Ref, Touch] = {}
    for ref, now in after.items():
        old = before.get(ref)
        if old is None:
            touches[ref] = Touch(ref, ADDED, now.sites, posixpath.join(root, now.file))
        elif old.digest != now.digest:
            sites = tuple(sorted(set(old.sites) | set(now.sites)))
            touches[ref] = Touch(ref, EDITED, sites, posixpath.join(root, now.file))
    for ref, old in before.items():
        if ref not in after:
            touches[ref] = Touch(ref, DELETED, old.sites, posixpath.join(root, old.file))
    admins = {r.name: m.admins for r, m in after.items() if r.kind == "Site"}
    admins |= {r.name: m.admins for r, m in before.items() if r.kind == "Site"}
    return Change(touches, admins, base)
