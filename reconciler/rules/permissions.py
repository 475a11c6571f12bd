"""P1: a change that touches a site must come from one of that site's admins (seed 002)."""

from __future__ import annotations

from collections.abc import Iterator

from reconciler.findings import Finding, error
from reconciler.model.base import Document
from reconciler.model.repo import Ref, Repo
from reconciler.rules.context import Context


def sites_touched(repo: Repo, doc: Document) -> list[str]:
    spec = doc.spec  # type: ignore[attr-defined]
    if doc.kind == "Site":
        return [doc.name]
    if doc.kind in ("Contract", "Service"):
        return [spec.site]
    if doc.kind == "Occupier":
        return repo.sites_of(doc.name)
    return []


def p1_site_admins(repo: Repo, ctx: Context) -> Iterator[Finding]:
    if ctx.actor is None:
        return
    for doc in repo.all_documents():
        if not ctx.touched(Ref(doc.kind, doc.name)):
            continue
        for site_name in sites_touched(repo, doc):
            site = repo.sites.get(site_name)
            if site is not None and ctx.actor not in site.spec.admins:
                yield error(
                    "P1",
                    repo.source(doc),
                    ("metadata", "name"),
                    f"{ctx.actor} is not an admin of site {site_name}, which "
                    f"{doc.kind} {doc.name} touches",
                    f"ask one of {', '.join(site.spec.admins)} to make or approve it",
                )
