"""Incremental validation: `tenantry validate --changed-since REF`.

The rules stay pure and untouched; they run on a *partial* repo made of the documents the change
can affect and everything those documents' findings depend on, and only the findings located in
the affected ("covered") files are reported. For those files they are the findings of a full run.

`scope` (pure) decides which files from the documents' keys; `index` keeps those keys in a
SQLite cache and asks git what changed (through `reconciler.gitbase`). If a file outside the
context does not load (a schema error stops every rule in a full run), the full validation
runs instead.
"""

# Annotations are objects (no `from __future__ import annotations`): `reconciler.refs` says why.
import os
from typing import TYPE_CHECKING, NamedTuple

from reconciler.findings import Finding, sort_key
from reconciler.gitbase import GitError
from reconciler.incremental.index import INDEX_FILE, Changes, _load_files, current_index
from reconciler.incremental.scope import discover_order, discovered, scope
from reconciler.load import Loaded, Positions, gc_paused
from reconciler.rules import Context

if TYPE_CHECKING:
    from reconciler.change import Change

__all__ = ["INDEX_FILE", "Incremental", "discovered", "validate_changed"]


def since(ref: str, loaded: Loaded, seen: Changes, start: str = "", label: str = "") -> "Change":
    """P1's change since where HEAD's branch left REF (`start`, when it is not where the
    change was listed from: a pull request's base), measured on the partial repo: its files
    that differ since are read as git has them there. That is REF itself in a pre-commit
    hook (`--changed-since HEAD`: git was asked already); otherwise only the files this run
    covers count: those it loaded and those deleted since REF (what others merged into REF
    is not the actor's change, and findings are reported for these files only)."""
    from reconciler import baseline

    start = start or seen.fork or seen.commit
    if start == seen.commit:
        changed, files = seen.changed, seen.files
    else:
        root = loaded.root
        changed, files = baseline.changed_since(root, start)
        here = {os.path.relpath(path, root) for path in loaded.files} | seen.changed
        changed &= here
        files = {name: data for name, data in files.items() if name in here}
    then, refs = baseline.then_and_now(loaded, changed, files)
    return baseline.measured(loaded, then, refs, label or f"{ref} ({start[:12]})")


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
    return context._replace(base=base)


def _judged_since(
    context: Context, ref: str, judged_from: str, loaded: Loaded, seen: Changes
) -> Context:
    """The context with P1's change since `judged_from` (`since`): REF itself, or a pull
    request's base."""
    from reconciler import baseline
    from reconciler.gitbase import fork_point

    try:
        if judged_from == ref:
            return context._replace(change=since(ref, loaded, seen))
        start = fork_point(loaded.root, judged_from)
        named = baseline.label(loaded.root, judged_from, start)
        return context._replace(change=since(judged_from, loaded, seen, start, named))
    except GitError as exc:
        option = "--changed-since" if judged_from == ref else "--base"
        raise ValueError(f"{option} {judged_from}: {exc}") from None


class Incremental(NamedTuple):
    """The findings of a `--changed-since` run, and what it loaded to find them."""

    findings: list[Finding]
    documents: int  # documents in the covered files
    covered: list[str]  # covered files, as findings name them
    loaded: Loaded
    full: bool  # the full validation ran instead


def validate_changed(
    path: str, ref: str, context: Context, judged_from: str | None = None
) -> Incremental:
    """Findings of the documents changed since `ref` below `path` and of those that depend on
    them, equal to a full run's findings for those files. `judged_from`: P1 (with an actor)
    measures the change since where HEAD's branch left this ref: `ref` itself (the CLI's
    --changed-since) or a pull request's base (--base)."""
    from reconciler.validate import run_rules, validate

    def full() -> Incremental:
        # P1 measures from the fork point once the repo is loaded (`baseline.repo_at`)
        judged = context._replace(base_ref=judged_from) if judged_from else context
        try:
            result = validate(path, context.today, context.actor, context=judged)
        except GitError as exc:
            raise ValueError(f"--changed-since {ref}: {exc}") from None
        files = sorted({source.file for source in result.repo.sources.values()})
        return Incremental(result.findings, len(result.repo.sources), files, result.loaded, True)

    if not os.path.isdir(path):
        return full()
    judging = judged_from is not None and context.actor is not None  # P1 needs an actor
    try:
        index, seen = current_index(path, ref, fork=judging and judged_from == ref)
    except GitError as exc:
        raise ValueError(f"--changed-since {ref}: {exc}") from None
    if index is None:
        return full()  # the cache cannot be written (a read-only checkout)
    with index.closing():
        where = scope(index, seen.changed, seen.old)
        # a file that does not load stops every rule of a full run, so does a document
        # declared twice
        stopped = any(f not in where.context for f in index.broken()) or any(
            not set(files) <= where.context for files in index.duplicates()
        )
        documents = sum(len(index.docs(f)) for f in where.covered)
    if stopped:
        return full()
    files = sorted(where.context, key=discover_order)
    # a deleted file is covered too: P1 says there who may not delete its documents
    covered = frozenset(os.path.join(path, f) for f in where.covered | seen.changed)
    with gc_paused():
        loaded = _load_files(path, files)
        if judging and judged_from:
            context = _judged_since(context, ref, judged_from, loaded, seen)
        reported = _partial_base(context, loaded, seen)._replace(reported=covered)
        found = run_rules(loaded, reported)
    # located only there: the file a finding is placed at, or else its document's
    kept = Positions().resolve(
        f for f in found if (f.file or (f.source.file if f.source else "")) in covered
    )
    kept.sort(key=sort_key)
    return Incremental(kept, documents, sorted(covered), loaded, False)
