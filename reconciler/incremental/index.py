"""The cache behind incremental validation: `<root>/.tenantry/index.sqlite`, and what git
says changed. All the I/O of `validate --changed-since` is here; the decision of what to check
is `reconciler.incremental.scope` (pure).

The cache holds, per file, its stat and the `doc_keys` of its documents, plus reverse maps
key → files. It is built from one full load and afterwards refreshed file by file: in a git
work tree only the files git reports as differing from the commit the cache was built at are
stat-checked.
"""

# Annotations are objects (no `from __future__ import annotations`): `reconciler.refs` says why.
import contextlib
import marshal
import os
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from reconciler.gitbase import (
    CONTENTS,
    GitError,
    Running,
    commit_named,
    files_of,
    names,
    start,
    stop,
    wait,
    what_changed,
)
from reconciler.incremental.scope import Doc, discovered, doc_keys, index_keys, walked
from reconciler.load import SKIP_DIRS, Loaded, _add, _documents, _parse, gc_paused
from reconciler.model.repo import Repo

INDEX_FILE = os.path.join(".tenantry", "index.sqlite")
FORMAT = 1
REBUILD_AFTER = 5_000  # candidate files; beyond this a fresh full build is as cheap

# One file: mtime_ns, size, loads cleanly, documents.
Entry = tuple[int, int, bool, list[Doc]]


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
    def open(cls, location: str, fresh: bool = False) -> "Index | None":
        import sqlite3

        db = None
        try:
            if fresh:  # the old file and its write-ahead log: a stale log is not replayed
                for stale in (location, f"{location}-wal", f"{location}-shm"):
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(stale)
            db = sqlite3.connect(location, isolation_level=None, timeout=30)
            index = cls(db)
            if fresh:
                db.execute("PRAGMA journal_mode = WAL")  # (kept in the file)
                db.executescript(cls.SCHEMA)
                index.set_meta("format", FORMAT)
            elif index.meta("format") != FORMAT:  # another format's, or not an index
                index.close()
                return None
            return index
        except (sqlite3.Error, OSError):
            if db is not None:
                db.close()
            return None

    @contextlib.contextmanager
    def closing(self) -> "Iterator[Index]":
        """The index for a run, closed after it. Closing the last connection folds SQLite's
        write-ahead log back into the file and removes it; left open (the CLI ends with
        os._exit), the log stays, and the next process reads all of it on opening: after a
        build, a whole index (20 MB, 12 ms at 10,000 occupiers) on every run."""
        try:
            yield self
        finally:
            self.close()

    def close(self) -> None:
        self.db.close()

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
        old_keys = {k for doc in old for k in index_keys(doc)}
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
            new_keys = {k for doc in docs for k in index_keys(doc)}
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

    def __enter__(self) -> "Index":
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
            for raw, source, text in _documents(path, loaded.findings):
                raws.append(raw)
                _add(loaded, raw, source, text)
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


# ---------------------------------------------------------------- git


def untracked(root: str, listing: list[str]) -> set[str]:
    """The desired-state files (relative to root) in git's listing of what it does not track
    below root (`gitbase.UNTRACKED`), ignored ones included as a full load reads them: a
    folder listed whole is walked as discover() walks it."""
    found: set[str] = set()
    for name in listing:
        if not name.endswith("/"):
            if discovered(name):
                found.add(name)
            continue
        folder = os.path.normpath(name)  # "./": root itself is not tracked
        if folder == ".":
            found.update(discover_rel(root))
        elif walked(folder):
            inside = discover_rel(os.path.join(root, folder))
            found.update(os.path.join(folder, rel) for rel in inside)
    return found


class Changes(NamedTuple):
    """What git says differs from REF, and what those files held there."""

    commit: str  # what REF names
    changed: set[str]  # discoverable files below root that differ from REF, untracked included
    old: dict[str, list[Doc]]  # the index documents of those files at REF (if they existed)
    since_index: set[str] | None  # files that differ from the index's commit (None: unknown)
    files: dict[str, bytes]  # what each changed file that existed at REF held there
    fork: str  # `git merge-base REF HEAD` (if asked): where P1 measures the change from


def changes(root: str, ref: str, index_commit: str, fork: bool = False) -> Changes:
    """What differs between REF and the work tree below root, with git's commands in
    parallel (`what_changed`; the CLI starts them before it imports the models); `fork`: and
    where HEAD's branch left REF (P1's base)."""
    running = {name: start(root, *args) for name, args in what_changed(ref, fork).items()}
    contents = start(root, *CONTENTS)  # the commit REF names, then what files held there
    try:
        commit, changed, existed, since_index, fork_point = _differences(
            root, ref, index_commit, running, contents
        )
    except BaseException:
        stop(contents)
        raise
    old, files = _at(contents, commit, existed)
    return Changes(commit, changed, old, since_index, files, fork_point)


def _differences(
    root: str, ref: str, index_commit: str, running: dict[str, Running], contents: Running
) -> tuple[str, set[str], list[str], set[str] | None, str]:
    """The commit REF names, the files that differ from it (and those of them that existed
    there), those that differ from the index's commit, and where HEAD's branch left REF."""
    try:
        named = commit_named(contents, ref)
    except GitError:
        named = ""  # REF's diff says why
    # what differs from the index's commit: REF's diff when that is the commit REF names
    # (a pre-commit hook's HEAD after the last run), else one more diff
    since = (
        start(root, "diff", "--name-only", "-z", "--relative", index_commit, "--")
        if index_commit and index_commit != named
        else None
    )
    new = untracked(root, names(wait(running["untracked"])))
    status = names(wait(running["diff"]))
    changed = set(new)
    existed: list[str] = []
    for code, name in zip(status[::2], status[1::2], strict=False):
        if discovered(name):
            changed.add(name)
            if code != "A":
                existed.append(name)
    since_index: set[str] | None = set(changed) if index_commit else None
    if since is not None:
        try:
            since_index = {n for n in names(wait(since)) if discovered(n)} | new
        except GitError:
            since_index = None  # the commit is gone (history rewritten): rebuild
    try:
        fork_point = wait(running["fork"]).decode().strip() if "fork" in running else ""
    except GitError:
        fork_point = ""  # no shared history
    if not named:  # REF's diff worked: a tree, not a commit
        raise GitError(f"{ref} is not a commit")
    return named, changed, sorted(existed), since_index, fork_point


def _at(
    contents: Running, commit: str, names: list[str]
) -> tuple[dict[str, list[Doc]], dict[str, bytes]]:
    """The index documents and the bytes of each file as it was at the commit, asked of
    `cat-file` (which then ends)."""
    files = files_of(contents, commit, names)
    out: dict[str, list[Doc]] = {}
    for name in names:
        text = files.get(name, b"").decode("utf-8", errors="replace")  # its keys, if it has any
        docs = [doc_keys(raw) for raw, _ in _parse(text, name, [])]
        out[name] = [d for d in docs if d is not None]
    return out, files


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


def current_index(root: str, ref: str, fork: bool = False) -> tuple[Index | None, Changes]:
    """The index, brought up to date (or built), and what changed since REF (`fork`: and
    where HEAD's branch left it)."""
    index = Index.open(_location(root)) if os.path.exists(_location(root)) else None
    try:
        seen = changes(root, ref, index.commit if index else "", fork)
    except GitError:
        if index is not None:
            index.close()
        raise
    if index is not None:
        if _refresh(root, index, seen):
            return index, seen
        index.close()  # before its file is replaced
    return _build(root, seen), seen
