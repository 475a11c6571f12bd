"""P1: a change that touches a site must come from, or be approved by, one of that site's
admins (seed 002: site permissions). The change is the difference from a base
(reconciler.change): documents nobody touched are never judged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from reconciler.findings import Finding, error
from reconciler.model.repo import Ref, Repo
from reconciler.rules.context import Context

if TYPE_CHECKING:  # (imported where a change is judged: a run without an actor needs none)
    from reconciler.change import Change, Touch


def change_of(repo: Repo, ctx: Context) -> Change:
    """The change being judged: the one the shell measured from a base, else the documents
    `ctx.changed` names, else every document (no base: all of it is new)."""
    if ctx.change is not None:
        return ctx.change
    key = ("change", ctx.changed)
    if key not in repo.memo:
        from dataclasses import replace

        from reconciler.change import between, state

        change = between({}, state(repo, only=ctx.changed))
        unknown = {ref: replace(t, how="changed") for ref, t in change.touches.items()}
        repo.memo[key] = replace(change, touches=unknown)
    return repo.memo[key]  # type: ignore[return-value]


def touched(repo: Repo, ctx: Context, ref: Ref) -> bool:
    return ref in change_of(repo, ctx).touches


def admins_of(repo: Repo, change: Change, site: str) -> tuple[str, ...] | None:
    """A site's admins as the base knew them (None: no such site, which `ref` reports)."""
    if site in change.admins:
        return change.admins[site]
    found = repo.sites.get(site)
    return tuple(found.spec.admins) if found is not None else None


def who(ctx: Context) -> str:
    approvers = sorted(ctx.approvers - {ctx.actor})
    if not approvers:
        return f"{ctx.actor} is not"
    return f"neither {ctx.actor} nor approver {', '.join(approvers)} is"


def p1_site_admins(repo: Repo, ctx: Context) -> Iterator[Finding]:
    """A change that touches a site must come from, or be approved by, one of its admins."""
    if ctx.actor is None:
        return
    change = change_of(repo, ctx)
    deciders = set(ctx.deciders)
    for ref in sorted(change.touches, key=lambda r: (r.kind, r.name)):
        touch = change.touches[ref]
        for site in touch.sites:
            admins = admins_of(repo, change, site)
            if admins is None or deciders & set(admins):
                continue
            yield _finding(repo, touch, ctx, site, admins)


def _finding(repo: Repo, touch: Touch, ctx: Context, site: str, admins: tuple[str, ...]) -> Finding:
    ref = touch.ref
    message = (
        f"{who(ctx)} an admin of site {site}, which {ref.kind} {ref.name} ({touch.how}) touches"
    )
    hint = (
        f"an admin of {site} must approve it: {' or '.join(admins)}"
        if admins
        else f"site {site} has no admins"
    )
    source = repo.sources.get(ref) if touch.how != "deleted" else None
    found = error("P1", source, ("metadata", "name"), message, hint)
    return found if source is not None else found.at(touch.file, 1, 1)
