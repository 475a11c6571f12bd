"""What a change can affect, decided from the documents' keys alone: pure, no I/O.

Each document is reduced to its kind, name, owning occupier, the names it refers to and the
unique keys it claims (`doc_keys`); `scope` walks those keys through a `DocIndex` (the SQLite
cache in `reconciler.incremental.index`, or anything answering the same three questions).

covered  = the changed files, the files of documents that refer to a changed document or claim
           one of its keys (old and new version), every document of each occupier concerned
           (its Occupier, Contracts and Services: S1/S5/S7 read them together), and all Sites
           when a Site changed (N2: public pools must not overlap across sites)
context  = covered + what covered documents refer to + the other claimants of their keys
           (T2/T3/N3 uniqueness across occupiers) + the whole catalogue + the Sites referred to
"""

# Annotations are objects (no `from __future__ import annotations`): `reconciler.refs` says why.
import os
import sys
from typing import Any, NamedTuple, Protocol

from reconciler.load import SKIP_DIRS

# One document in the index: kind, name, owner (occupier), refs ("Kind/name"), claims.
Doc = tuple[str, str, str, tuple[str, ...], tuple[str, ...]]


class DocIndex(Protocol):
    """The three questions `scope` asks: files holding a key, a file's documents, known?"""

    def get(self, key: str) -> list[str]: ...

    def docs(self, file: str) -> list[Doc]: ...

    def has(self, file: str) -> bool: ...


# ---------------------------------------------------------------- what a document refers to


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _items(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def doc_keys(raw: Any) -> Doc | None:
    """Kind, name, owner, refs and claims of one raw YAML document (valid or not)."""
    if not isinstance(raw, dict):
        return None
    kind, meta = _str(raw.get("kind")), raw.get("metadata")
    name = _str(meta.get("name")) if isinstance(meta, dict) else None
    if kind is None or name is None:
        return None
    spec = raw.get("spec")
    spec = spec if isinstance(spec, dict) else {}
    refs: list[str] = []
    claims: list[str] = []
    owner = ""

    def ref(kind_: str, value: Any) -> None:
        if isinstance(value, str):
            refs.append(f"{kind_}/{value}")

    if kind == "ServiceDefinition":
        for entry in spec.get("requires") or ():
            if isinstance(entry, dict):
                for n in entry.get("anyOf") or ():
                    ref("ServiceDefinition", n)
            else:
                ref("ServiceDefinition", entry)
        for n in spec.get("excludes") or () if isinstance(spec.get("excludes"), list) else ():
            ref("ServiceDefinition", n)
    elif kind == "Occupier":
        owner = name
        acts = spec.get("activations")
        acts = acts if isinstance(acts, dict) else {}
        for port in _items(acts.get("floorPorts")):
            ref("Site", port.get("site"))
            claims.append(f"fp:{port.get('site')}:{port.get('floorPort')}")
        for number in _items(acts.get("numbers")):
            ref("Site", number.get("site"))
            claims.append(f"num:{number.get('number')}")
        for device in _items(spec.get("wifiDevices")):
            ref("Site", device.get("site"))
            mac = str(device.get("mac")).replace("-", "").replace(":", "").lower()
            claims.append(f"mac:{device.get('site')}:{mac}")
        for main in _items(spec.get("mainNumbers")):
            ref("Site", main.get("site"))
        for user in _items(spec.get("users")):
            wifi = user.get("wifi")
            for site in wifi if isinstance(wifi, list) else ():
                ref("Site", site)
    elif kind in ("Contract", "Service"):
        owner = _str(spec.get("occupier")) or ""
        ref("Occupier", spec.get("occupier"))
        ref("Site", spec.get("site"))
        if kind == "Contract":
            for space in spec.get("spaces") or () if isinstance(spec.get("spaces"), list) else ():
                claims.append(f"space:{spec.get('site')}:{space}")
        else:
            ref("Contract", spec.get("contract"))
            ref("ServiceDefinition", spec.get("definition"))
            for change in _items(spec.get("changes")):
                ref("ServiceDefinition", change.get("definition"))
            if isinstance(spec.get("replaces"), str):
                ref("Service", spec["replaces"])
                claims.append(f"replaces:{spec['replaces']}")
    intern = sys.intern  # shared strings are written once by marshal and read back shared
    return (
        intern(kind),
        intern(name),
        intern(owner),
        tuple(intern(r) for r in dict.fromkeys(refs)),
        tuple(intern(c) for c in dict.fromkeys(claims)),
    )


def index_keys(doc: Doc) -> list[str]:
    """The keys a document is found under: `D|Kind/name` declared, `K|Kind`, `O|occupier`
    owned by, `R|Kind/name` referred to, `C|claim` claimed."""
    kind, name, owner, refs, claims = doc
    keys = [f"D|{kind}/{name}", f"K|{kind}"]
    if owner:
        keys.append(f"O|{owner}")
    keys += [f"R|{r}" for r in refs]
    keys += [f"C|{c}" for c in claims]
    return keys


def discovered(rel: str) -> bool:
    """Whether discover() would find this relative path."""
    return rel.endswith((".yaml", ".yml")) and walked(rel)


def walked(rel: str) -> bool:
    """Whether discover() walks into this relative folder (or reads this file): nothing
    hidden, nothing it skips."""
    return not any(p in SKIP_DIRS or p.startswith(".") for p in rel.split("/"))


def discover_order(rel: str) -> tuple[tuple[int, str], ...]:
    """Sort key giving discover()'s order: a directory's files before its subdirectories."""
    parts = rel.split(os.sep)
    return (*((1, p) for p in parts[:-1]), (0, parts[-1]))


# ---------------------------------------------------------------- what to check


class Scope(NamedTuple):
    """The files a change can affect (covered: findings reported there) and those their
    rules need (context: loaded)."""

    covered: set[str]
    context: set[str]


def scope(index: DocIndex, changed: set[str], old: dict[str, list[Doc]]) -> Scope:
    covered = {f for f in changed if index.has(f)}
    docs: list[Doc] = [d for f in covered for d in index.docs(f)]
    for previous in old.values():
        docs.extend(previous)
    any_site = False
    for kind, name, owner, _refs, claims in docs:
        ident = f"{kind}/{name}"
        covered.update(index.get(f"D|{ident}"))
        covered.update(index.get(f"R|{ident}"))
        for claim in claims:
            covered.update(index.get(f"C|{claim}"))
        if owner:
            covered.update(index.get(f"O|{owner}"))
        any_site |= kind == "Site"
    if any_site:
        covered.update(index.get("K|Site"))
    # every document of each occupier concerned, until nothing new comes in
    owners_done: set[str] = set()
    todo = list(covered)
    while todo:
        for doc in index.docs(todo.pop()):
            if doc[2] and doc[2] not in owners_done:
                owners_done.add(doc[2])
                new = [f for f in index.get(f"O|{doc[2]}") if f not in covered]
                covered.update(new)
                todo.extend(new)
    context = set(covered)
    for f in covered:
        for kind, name, _owner, refs, claims in index.docs(f):
            context.update(index.get(f"D|{kind}/{name}"))
            for r in refs:
                context.update(index.get(f"D|{r}"))
            for claim in claims:
                context.update(index.get(f"C|{claim}"))
            if kind == "Site":
                context.update(index.get("K|Site"))
    context.update(index.get("K|ServiceDefinition"))
    sites = {r for f in context for doc in index.docs(f) for r in doc[3] if r.startswith("Site/")}
    for site in sites:
        context.update(index.get(f"D|{site}"))
    return Scope(covered, context)
