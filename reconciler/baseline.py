"""Where P1's base comes from (a shell: git and the ledger). A pull request is judged against
its target branch (`--base REF`); an apply against the desired state the last apply carried
out, which the ledger records (the commit and one mark per document)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler import gitbase
from reconciler.change import Change, Mark, State, between, state
from reconciler.incremental.index import untracked
from reconciler.incremental.scope import discover_order, discovered
from reconciler.inputs import loadable_text
from reconciler.load import Loaded, _add, _parse, load
from reconciler.model.repo import Ref, Repo

if TYPE_CHECKING:  # the ledger's SQL is not imported by `validate --changed-since`
    from reconciler.ledger.protocol import LedgerTransaction
    from reconciler.ledger.sql import DesiredRow, SqlLedger


def at_ref(path: str, ref: str) -> tuple[State, str]:
    """The state of the desired state below `path` as it was at the git `ref`."""
    tmp, where = gitbase.checkout(path, ref)
    try:
        marks = state(load(where).repo, where)
    finally:
        tmp.cleanup()
    return marks, label(path, ref)


def change_since(loaded: Loaded, ref: str) -> Change:
    """What the desired state `loaded` holds changes since `ref`'s fork point (P1's change of
    a pull request), as `between(at_ref(...), state(...))` measures it."""
    then, refs, label_ = repo_at(loaded, ref)
    return measured(loaded, then, refs, label_)


def measured(loaded: Loaded, then: Repo, refs: set[Ref], label_: str) -> Change:
    """The change from `then` to the loaded repo, where only the documents `refs` can differ
    (`then_and_now`): only they are digested, the others being the same objects."""
    before = state(then, loaded.root, only=refs)
    return between(before, state(loaded.repo, loaded.root, only=refs), label_, loaded.root)


def repo_at(loaded: Loaded, ref: str) -> tuple[Repo, set[Ref], str]:
    """The desired state below `loaded.root` as it was at `ref`'s fork point (a pull
    request's base: P1's and the plan's), with the documents of the files that differ since
    (then and now) and how notes name it. Only those files are read, from git; every other
    document is the loaded one. (A checkout loaded in full took longer than the validation
    itself.) Remembered on the loaded repo: P1 and the plan ask for it alike."""
    key = ("repo at", ref)
    if key not in loaded.repo.memo:
        loaded.repo.memo[key] = _repo_at(loaded, ref)
    return loaded.repo.memo[key]  # type: ignore[return-value]


def _repo_at(loaded: Loaded, ref: str) -> tuple[Repo, set[Ref], str]:
    root = loaded.root
    if not os.path.isdir(root):  # one file: its checkout is small
        tmp, where = gitbase.checkout(root, ref)
        try:
            whole = load(where).repo
        finally:
            tmp.cleanup()
        return whole, set(whole.sources) | set(loaded.repo.sources), label(root, ref)
    fork = gitbase.fork_point(root, ref)
    changed, files = changed_since(root, fork)
    return (*then_and_now(loaded, changed, files), label(root, ref, fork))


def changed_since(root: str, commit: str) -> tuple[set[str], dict[str, bytes]]:
    """The desired-state files below `root` (relative to it) that differ between `commit`
    and the work tree, and what those that existed there held."""
    listing = gitbase.start(root, *gitbase.UNTRACKED)
    diff = gitbase.start(root, "diff", "--name-only", "-z", "--no-renames", "--relative", commit)
    changed = untracked(root, gitbase.names(gitbase.wait(listing)))
    changed |= {name for name in gitbase.names(gitbase.wait(diff)) if discovered(name)}
    return changed, gitbase.files_at(root, commit, sorted(changed))[1]


def then_and_now(
    loaded: Loaded, changed: set[str], files: dict[str, bytes]
) -> tuple[Repo, set[Ref]]:
    """The loaded repo as it was before the files `changed` (relative to its root) changed,
    `files` being what those that existed then held, with the documents of those files then
    and now. Pure: the other documents are the loaded ones, the same objects."""
    root = loaded.root
    paths = {os.path.join(root, name) for name in changed}
    now = [r for r, source in loaded.repo.sources.items() if source.file in paths]
    then = loaded.repo.copy()
    for gone in now:
        then.drop(gone)
    parsed = Loaded(Repo(), root=root)
    for name in sorted(files, key=discover_order):
        text = loadable_text(files[name]) or ""  # read as load reads a file
        for raw, source in _parse(text, os.path.join(root, name), parsed.findings):
            _add(parsed, raw, source, text)
    prefix = len(os.path.join(root, ""))
    for doc in parsed.repo.all_documents():
        source = parsed.repo.sources[Ref(doc.kind, doc.name)]
        kept = then.add(doc, source)  # declared twice then: the first in load()'s order counts
        if kept is not None and discover_order(source.file[prefix:]) < discover_order(
            kept.file[prefix:]
        ):
            then.add(doc, source, replace=True)
    return then.index(), {*now, *parsed.repo.sources}


def label(path: str, ref: str, fork: str | None = None) -> str:
    """How notes name the base: the ref and the commit the change is measured from (`fork`,
    `gitbase.fork_point`'s answer when it is known already)."""
    try:
        if fork is None:
            fork = gitbase.fork_point(gitbase.folder_of(path), ref)
        commit = commit_of(path, fork)
    except (gitbase.GitError, OSError):
        commit = ""
    return f"{ref} ({commit[:12]})" if commit else ref


def recorded(ledger: SqlLedger | None) -> tuple[State, str]:
    """The state the last apply recorded; none recorded: an empty one (everything is new)."""
    found = ledger.desired() if ledger is not None else None
    if found is None:
        return {}, "nothing (no apply recorded a desired state yet)"
    commit, rows = found
    marks = {_ref(key): _mark(row) for key, row in rows.items()}
    return marks, f"the last apply (commit {commit[:12]})" if commit else "the last apply"


def record(
    tx: LedgerTransaction, repo: Repo, root: str, rows: dict[str, DesiredRow] | None = None
) -> None:
    """Remember, in the apply's last transaction, the desired state it carried out: the base
    of the next apply's P1. `rows`: desired_rows(repo, root), when computed already (the
    CLI, meanwhile)."""
    found = rows if rows is not None else desired_rows(repo, root)
    tx.record_desired(commit_of(root, "HEAD"), found)


def desired_rows(repo: Repo, root: str) -> dict[str, DesiredRow]:
    """What the ledger keeps of a desired state: one mark per document."""
    return {
        str(ref): (m.digest, ",".join(m.sites), ",".join(m.admins), m.file)
        for ref, m in state(repo, root).items()
    }


def commit_of(path: str, ref: str) -> str:
    """The commit `ref` names in the git work tree holding `path`; '' outside git."""
    try:
        named = f"{gitbase.as_ref(ref)}^{{commit}}"
    except gitbase.GitError:
        return ""  # an option, not a ref
    return _git(path, "rev-parse", "--verify", "-q", named).strip()


def unborn(path: str) -> bool:
    """Inside a git repository that has no commit yet (a fresh `git init`)."""
    return not commit_of(path, "HEAD") and bool(_git(path, "rev-parse", "--git-dir").strip())


def beyond_change(root: str, files: tuple[str, ...]) -> bool:
    """Whether pre-commit asks for more than the change since HEAD: no HEAD yet, or FILES
    (relative to the repository's top, as pre-commit passes them) below `root` that differ
    in nothing from HEAD (`--all-files`, `--files`)."""
    asked = {name: _started(root, args) for name, args in gitbase.what_a_commit_changes().items()}
    said = {name: _said(process) for name, process in asked.items()}
    if not said["head"] and said["git-dir"]:
        return True  # no commit yet
    top = Path(said["top"].strip() or ".")
    changed = set(said["diff"].split("\0")) | set(said["untracked"].split("\0"))
    below = Path(root).resolve()
    for name in files:
        path = (top / name).resolve()
        inside = path.is_relative_to(below) and discovered(path.relative_to(below).as_posix())
        if inside and path.relative_to(top).as_posix() not in changed:
            return True
    return False


def _started(where: str | Path, args: tuple[str, ...]) -> gitbase.Running | None:
    """A git command started in the work tree holding `where`; None if git is missing."""
    try:
        return gitbase.start(gitbase.folder_of(where), *args)
    except (gitbase.GitError, OSError):
        return None  # git is missing


def _said(process: gitbase.Running | None) -> str:
    """What a git command said; '' if it failed."""
    try:
        return gitbase.wait(process).decode(errors="surrogateescape") if process else ""
    except (gitbase.GitError, OSError):
        return ""


def _git(where: str | Path, *args: str) -> str:
    """git's output in the work tree holding `where`; '' if git fails or is missing."""
    return _said(_started(where, args))


def _ref(key: str) -> Ref:
    kind, _, name = key.partition("/")
    return Ref(kind, name)


def _mark(row: DesiredRow) -> Mark:
    digest, sites, admins, file = row
    return Mark(digest, _split(sites), file, _split(admins))


def _split(text: str) -> tuple[str, ...]:
    return tuple(x for x in text.split(",") if x)
