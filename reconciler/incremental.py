"""Incremental validation: `tenantry validate --changed-since REF`.

The rules stay pure and untouched; they run on a *partial* repo made of the documents the change
can affect and everything those documents' findings depend on, and only the findings located in
the affected ("covered") files are reported. For those files they are the findings of a full run.

What one document depends on is read from a small cache, `<root>/.tenantry/index.sqlite`: per file,
its stat and, per document, kind, name, owning occupier, the names it refers to and the unique
keys it claims (a phone number, a MAC at a site, a floor port at a site, a leased space, the
service it replaces), plus reverse maps key → files. The cache is built from one full load and
afterwards refreshed file by file: in a git work tree only the files git reports as differing
from the commit the cache was built at are stat-checked; elsewhere every file is.

covered  = the changed files, the files of documents that refer to a changed document or claim
           one of its keys (old and new version), every document of each occupier concerned
           (its Occupier, Contracts and Services: S1/S5/S7 read them together), and all Sites
           when a Site changed (N2: public pools must not overlap across sites)
context  = covered + what covered documents refer to + the other claimants of their keys
           (T2/T3/N3 uniqueness across occupiers) + the whole catalogue + the Sites referred to
If a file outside the context does not load (a schema error stops every rule in a full run),
the full validation runs instead.
"""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from reconciler.findings import Finding, sort_key
from reconciler.load import SKIP_DIRS, Loaded, Positions, _add, _documents, _parse, gc_paused
from reconciler.model.repo import Repo
from reconciler.rules import Context

INDEX_FILE = os.path.join(".tenantry", "index.sqlite")
FORMAT = 1
REBUILD_AFTER = 5_000  # candidate files; beyond this a fresh full build is as cheap

# One document in the index: kind, name, owner (occupier), refs ("Kind/name"), claims.
Doc = tuple[str, str, str, tuple[str, ...], tuple[str, ...]]
# One file: mtime_ns, size, loads cleanly, documents.
Entry = tuple[int, int, bool, list[Doc]]


class GitError(Exception):
    pass


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


# ---------------------------------------------------------------- the index


class Index:
    """A SQLite cache: per file (relative to the root) its Entry, and key → files for the keys
    `D|Kind/name` declared by, `R|Kind/name` referred to by, `C|claim` claimed by,
    `O|occupier` owned by (Occupier, Contracts, Services), `K|Kind` every file of a kind.
    Every question asked of it is a point lookup, so its cost does not grow with the repo."""

    SCHEMA = """
        CREATE TABLE IF NOT EXISTS files (file TEXT PRIMARY KEY, mtime INTEGER, size INTEGER,
                                          ok INTEGER, docs BLOB) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS broken ON files(file) WHERE ok = 0;
        CREATE TABLE IF NOT EXISTS keys (key TEXT, file TEXT, PRIMARY KEY (key, file))
            WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS twice (key TEXT PRIMARY KEY) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID;
    """

    def __init__(self, db: Any) -> None:
        self.db = db
        self._docs: dict[str, list[Doc]] = {}

    @classmethod
    def open(cls, location: str, fresh: bool = False) -> Index | None:
        import sqlite3

        try:
            if fresh and os.path.exists(location):
                os.remove(location)
            db = sqlite3.connect(location, isolation_level=None, timeout=30)
            db.execute("PRAGMA journal_mode = WAL")
            db.executescript(cls.SCHEMA)
            index = cls(db)
            if fresh:
                index.set_meta("format", FORMAT)
            elif index.meta("format") != FORMAT:
                db.close()
                return None
            return index
        except (sqlite3.Error, OSError):
            return None

    def meta(self, name: str) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return marshal.loads(row[0]) if row else None

    def set_meta(self, name: str, value: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, marshal.dumps(value)))

    @property
    def commit(self) -> str:
        return self.meta("commit") or ""

    @property
    def dirty(self) -> tuple[str, ...]:
        return tuple(self.meta("dirty") or ())

    @staticmethod
    def doc_index_keys(doc: Doc) -> Iterator[str]:
        kind, name, owner, refs, claims = doc
        yield f"D|{kind}/{name}"
        yield f"K|{kind}"
        if owner:
            yield f"O|{owner}"
        for r in refs:
            yield f"R|{r}"
        for c in claims:
            yield f"C|{c}"

    def entry(self, file: str) -> tuple[int, int] | None:
        row = self.db.execute("SELECT mtime, size FROM files WHERE file = ?", (file,)).fetchone()
        return (row[0], row[1]) if row else None

    def stats(self) -> dict[str, tuple[int, int]]:
        return {f: (m, s) for f, m, s in self.db.execute("SELECT file, mtime, size FROM files")}

    def put(self, file: str, entry: Entry | None) -> None:
        """Replace what the index knows of `file` (None: the file is gone). Call in a
        transaction (`with index:`)."""
        touched: set[str] = set()
        old = self.docs(file) if self.entry(file) is not None else []
        old_keys = {k for doc in old for k in self.doc_index_keys(doc)}
        self.db.executemany(
            "DELETE FROM keys WHERE key = ? AND file = ?", [(k, file) for k in old_keys]
        )
        self.db.execute("DELETE FROM files WHERE file = ?", (file,))
        touched |= {k for k in old_keys if k.startswith("D|")}
        if entry is not None:
            mtime, size, ok, docs = entry
            self.db.execute(
                "INSERT INTO files VALUES (?, ?, ?, ?, ?)",
                (file, mtime, size, int(ok), marshal.dumps(docs)),
            )
            new_keys = {k for doc in docs for k in self.doc_index_keys(doc)}
            self.db.executemany("INSERT INTO keys VALUES (?, ?)", [(k, file) for k in new_keys])
            touched |= {k for k in new_keys if k.startswith("D|")}
            self._docs[file] = docs
        else:
            self._docs.pop(file, None)
        for key in touched:
            if len(self.get(key)) > 1:
                self.db.execute("INSERT OR IGNORE INTO twice VALUES (?)", (key,))
            else:
                self.db.execute("DELETE FROM twice WHERE key = ?", (key,))

    def __enter__(self) -> Index:
        self.db.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, *exc: object) -> None:
        self.db.execute("COMMIT" if exc[0] is None else "ROLLBACK")

    def get(self, key: str) -> list[str]:
        return [f for (f,) in self.db.execute("SELECT file FROM keys WHERE key = ?", (key,))]

    def docs(self, file: str) -> list[Doc]:
        if file not in self._docs:
            row = self.db.execute("SELECT docs FROM files WHERE file = ?", (file,)).fetchone()
            self._docs[file] = marshal.loads(row[0]) if row else []
        return self._docs[file]

    def has(self, file: str) -> bool:
        return self.entry(file) is not None

    def broken(self) -> list[str]:
        """Files that do not load cleanly."""
        return [f for (f,) in self.db.execute("SELECT file FROM files WHERE ok = 0")]

    def duplicates(self) -> list[list[str]]:
        """For each identity declared more than once, the files declaring it."""
        keys = [k for (k,) in self.db.execute("SELECT key FROM twice")]
        return [self.get(k) for k in keys]


def _entry(path: str, raw_docs: list[Any], errors: bool) -> Entry:
    stat = os.stat(path)
    docs = [d for d in (doc_keys(raw) for raw in raw_docs) if d is not None]
    twice = len({(d[0], d[1]) for d in docs}) != len(docs)  # within the file
    return stat.st_mtime_ns, stat.st_size, not (errors or twice), docs


def _load_files(root: str, rel_files: Iterable[str], index: Index | None = None) -> Loaded:
    """load() of the given files (in this order), recording each file in `index` if given."""
    paths = [os.path.join(root, rel) for rel in rel_files]
    loaded = Loaded(Repo(), files=paths, root=root)
    with gc_paused():
        for rel, path in zip(rel_files, paths, strict=True):
            before = len(loaded.findings)
            raws: list[Any] = []
            for raw, source in _documents(path, loaded.findings):
                raws.append(raw)
                _add(loaded, raw, source)
            if index is not None and os.path.exists(path):
                # a document declared twice is a repo-wide matter: see `duplicates`
                errors = any(f.is_error and f.rule != "duplicate" for f in loaded.findings[before:])
                index.put(rel, _entry(path, raws, errors))
        loaded.repo.index()
    return loaded


def discover_rel(root: str) -> list[str]:
    """reconciler.load.discover, relative to root."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        rel = os.path.relpath(dirpath, root)
        found.extend(
            name if rel == "." else os.path.join(rel, name)
            for name in sorted(filenames)
            if name.endswith((".yaml", ".yml")) and not name.startswith(".")
        )
    return found


def discovered(rel: str) -> bool:
    """Whether discover() would find this relative path."""
    parts = rel.split("/")
    return rel.endswith((".yaml", ".yml")) and not any(
        p in SKIP_DIRS or p.startswith(".") for p in parts
    )


def discover_order(rel: str) -> tuple[tuple[int, str], ...]:
    """Sort key giving discover()'s order: a directory's files before its subdirectories."""
    parts = rel.split(os.sep)
    return (*((1, p) for p in parts[:-1]), (0, parts[-1]))


# ---------------------------------------------------------------- git


def _git(root: str, *args: str, stdin: bytes | None = None) -> bytes:
    return _wait(_start(root, *args), stdin)


def _start(root: str, *args: str) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            ["git", *args],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except FileNotFoundError:
        raise GitError("git is not installed") from None


def _wait(process: subprocess.Popen[bytes], stdin: bytes | None = None) -> bytes:
    out, err = process.communicate(stdin)
    if process.returncode != 0:
        raise GitError(err.decode(errors="replace").strip() or "git failed")
    return out


def _names(data: bytes) -> list[str]:
    return [n for n in data.decode(errors="surrogateescape").split("\0") if n]


@dataclass
class Changes:
    commit: str  # what REF names
    changed: set[str]  # discoverable files below root that differ from REF, untracked included
    old: dict[str, list[Doc]]  # the index documents of those files at REF (if they existed)
    since_index: set[str] | None  # files that differ from the index's commit (None: unknown)


def changes(root: str, ref: str, index_commit: str) -> Changes:
    """What differs between REF and the work tree below root, with three git commands (the
    first ones in parallel)."""
    untracked = _start(root, "ls-files", "-z", "--others", "--exclude-standard")
    diff = _start(root, "diff", "--name-status", "-z", "--no-renames", "--relative", ref, "--")
    since = (
        _start(root, "diff", "--name-only", "-z", "--relative", index_commit, "--")
        if index_commit
        else None
    )
    new = {n for n in _names(_wait(untracked)) if discovered(n)}
    status = _names(_wait(diff))
    since_index: set[str] | None = None
    if since is not None:
        try:
            since_index = {n for n in _names(_wait(since)) if discovered(n)} | new
        except GitError:
            since_index = None  # the commit is gone (history rewritten): rebuild
    changed = set(new)
    existed: list[str] = []
    for code, name in zip(status[::2], status[1::2], strict=False):
        if discovered(name):
            changed.add(name)
            if code != "A":
                existed.append(name)
    commit, old = _at(root, ref, sorted(existed))
    return Changes(commit, changed, old, since_index)


def _at(root: str, ref: str, names: list[str]) -> tuple[str, dict[str, list[Doc]]]:
    """The commit REF names, and the index documents of each file as it was there."""
    request = "".join(f"{ref}:./{name}\n" for name in names).encode()
    data = _git(root, "cat-file", "--batch", stdin=f"{ref}^{{commit}}\n".encode() + request)
    out: dict[str, list[Doc]] = {}
    position = 0
    commit = ""
    for name in [None, *names]:
        end = data.index(b"\n", position)
        header = data[position:end].split()
        position = end + 1
        if len(header) < 3:
            if name is None:
                raise GitError(f"{ref} is not a commit")
            out[name] = []
            continue
        size = int(header[2])
        body = data[position : position + size]
        position += size + 1
        if name is None:
            commit = header[0].decode()
            continue
        text = body.decode("utf-8", errors="replace")
        docs = [doc_keys(raw) for raw, _ in _parse(text, name, [])]
        out[name] = [d for d in docs if d is not None]
    return commit, out


# ---------------------------------------------------------------- keeping the index fresh


def _stat_differs(root: str, rel: str, known: tuple[int, int] | None) -> bool:
    try:
        stat = os.stat(os.path.join(root, rel))
    except OSError:
        return known is not None
    return known is None or (stat.st_mtime_ns, stat.st_size) != known


def _location(root: str) -> str:
    return os.path.join(root, INDEX_FILE)


def _build(root: str, seen: Changes) -> Index | None:
    """One full load of the work tree into a new index; None if it cannot be written."""
    try:
        os.makedirs(os.path.dirname(_location(root)), exist_ok=True)
    except OSError:
        return None
    index = Index.open(_location(root), fresh=True)
    if index is None:
        return None
    with index:
        _load_files(root, discover_rel(root), index)
        index.set_meta("commit", seen.commit)
        index.set_meta("dirty", sorted(seen.changed))
    return index


def _refresh(root: str, index: Index, seen: Changes) -> bool:
    """Bring the index up to date with the work tree; False if it must be rebuilt. The index
    remembers a commit and the files that differed from it: only those, and what differs
    from that commit now, can have changed since."""
    if seen.since_index is None:
        return False
    candidates = seen.since_index | set(index.dirty)
    if len(candidates) > REBUILD_AFTER:
        return False
    stale = sorted(c for c in candidates if _stat_differs(root, c, index.entry(c)))
    with index:
        if stale:
            present = [c for c in stale if os.path.isfile(os.path.join(root, c))]
            for gone in set(stale) - set(present):
                index.put(gone, None)
            _load_files(root, present, index)
        # from now on the index is relative to REF: next time one `git diff` serves both
        if (seen.commit, sorted(seen.changed)) != (index.commit, list(index.dirty)):
            index.set_meta("commit", seen.commit)
            index.set_meta("dirty", sorted(seen.changed))
    return True


def current_index(root: str, ref: str) -> tuple[Index | None, Changes]:
    """The index, brought up to date (or built), and what changed since REF."""
    index = Index.open(_location(root)) if os.path.exists(_location(root)) else None
    seen = changes(root, ref, index.commit if index else "")
    if index is not None and _refresh(root, index, seen):
        return index, seen
    return _build(root, seen), seen


# ---------------------------------------------------------------- what to check


@dataclass
class Scope:
    covered: set[str]
    context: set[str]


def scope(index: Index, changed: set[str], old: dict[str, list[Doc]]) -> Scope:
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


def _partial_base(context: Context, loaded: Loaded, seen: Changes) -> Context:
    """P1's base, cut to the partial repo: a document absent from it is deleted only if its
    file changed; otherwise it is simply outside what this run loaded."""
    if context.base is None:
        return context
    base = {
        ref: mark
        for ref, mark in context.base.items()
        if ref in loaded.repo.sources or mark.file in seen.changed
    }
    return replace(context, base=base)


@dataclass
class Incremental:
    findings: list[Finding]
    documents: int  # documents in the covered files
    covered: list[str]  # covered files, as findings name them
    loaded: Loaded
    full: bool  # the full validation ran instead


def validate_changed(path: str, ref: str, context: Context) -> Incremental:
    """Findings of the documents changed since `ref` below `path` and of those that depend on
    them, equal to a full run's findings for those files."""
    from reconciler.validate import run_rules, validate

    def full() -> Incremental:
        result = validate(path, context.today, context.actor, context=context)
        files = sorted({source.file for source in result.repo.sources.values()})
        return Incremental(result.findings, len(result.repo.sources), files, result.loaded, True)

    if not os.path.isdir(path):
        return full()
    try:
        index, seen = current_index(path, ref)
    except GitError as exc:
        raise ValueError(f"--changed-since {ref}: {exc}") from None
    if index is None:
        return full()  # the cache cannot be written (a read-only checkout)
    where = scope(index, seen.changed, seen.old)
    if any(f not in where.context for f in index.broken()):
        return full()  # a file that does not load stops every rule of a full run
    if any(not set(files) <= where.context for files in index.duplicates()):
        return full()  # so does a document declared twice
    files = sorted(where.context, key=discover_order)
    with gc_paused():
        loaded = _load_files(path, files)
        findings = Positions().resolve(run_rules(loaded, _partial_base(context, loaded, seen)))
    covered = {os.path.join(path, f) for f in where.covered}
    kept = [f for f in findings if f.file in covered]
    kept.sort(key=sort_key)
    documents = sum(len(index.docs(f)) for f in where.covered)
    return Incremental(kept, documents, sorted(covered), loaded, False)
