"""Decommission rules D1, D2 and D5 (seed 002)."""

from __future__ import annotations

from collections.abc import Iterator

from reconciler.findings import Finding, error
from reconciler.model.base import Document
from reconciler.model.kinds import Handset, Occupier, Service
from reconciler.model.repo import Ref, Repo
from reconciler.rules.context import Context
from reconciler.rules.permissions import admins_of, change_of, touched, who

DECOMMISSION_PHASES = ("Decommissioned", "DecommissionPending", "DecommissionFailed")


def d1_request(repo: Repo, ctx: Context) -> Iterator[Finding]:
    """A decommission is requested only by typing the occupier's exact name and accepting that
    it is irreversible."""
    for occupier in repo.occupiers.values():
        request = occupier.spec.decommission
        if request is None:
            continue
        if request.confirm != occupier.spec.display_name:
            yield error(
                "D1",
                repo.source(occupier),
                ("spec", "decommission", "confirm"),
                f"decommission of {occupier.name}: confirm must be exactly "
                f"'{occupier.spec.display_name}', not '{request.confirm}'",
            )
        if request.irreversible is not True:
            yield error(
                "D1",
                repo.source(occupier),
                ("spec", "decommission", "irreversible"),
                f"decommission of {occupier.name}: set irreversible: true to confirm "
                "that it cannot be undone",
            )


def d2_preconditions(repo: Repo, ctx: Context) -> Iterator[Finding]:
    """Refuse a decommission that cannot be carried out cleanly (seed 002, 'When is decommission
    allowed?')."""
    for occupier in repo.occupiers.values():
        request = occupier.spec.decommission
        if request is None:
            continue
        phase = ctx.occupier_phase.get(occupier.name, "Active")
        if phase in DECOMMISSION_PHASES:
            continue  # already under way: D5 keeps it read-only
        path = ("spec", "decommission")
        day = request.at or ctx.today
        for contract in repo.contracts_of.get(occupier.name, ()):
            if contract.spec.start == day:
                yield error(
                    "D2",
                    repo.source(occupier),
                    path,
                    f"cannot decommission {occupier.name}: contract {contract.name} "
                    f"starts on {day}",
                    "decommission on another day",
                )
        for index, number in enumerate(occupier.spec.activations.numbers):
            if number.logged_in and number.handset is not Handset.DIGITAL:
                yield error(
                    "D2",
                    repo.source(occupier),
                    ("spec", "activations", "numbers", index, "loggedIn"),
                    f"cannot decommission {occupier.name}: the {number.handset} handset "
                    f"of {number.number} is logged in and cannot be logged out remotely",
                    "log it out at the handset, then set loggedIn: false",
                )
        effective = request.at is None or request.at <= ctx.today
        # a scheduled one is checked on its day: Updating is transient
        for services in lines_of(repo).get(occupier.name, []) if effective else ():
            for service in services:
                status = ctx.service_status.get(service.name)
                if status in ("Failed", "Updating"):
                    yield error(
                        "D2",
                        repo.source(occupier),
                        path,
                        f"cannot decommission {occupier.name}: service {service.name} is {status}",
                        "wait for it to finish or fix it first",
                    )
        yield from _d2_site_admins(repo, ctx, occupier)


def _d2_site_admins(repo: Repo, ctx: Context, occupier: Occupier) -> Iterator[Finding]:
    """The actor, or an approver, must be admin of every site where the occupier has or had a
    contract; judged when the request is part of the change (and only with an actor)."""
    if ctx.actor is None or not touched(repo, ctx, Ref("Occupier", occupier.name)):
        return
    change = change_of(repo, ctx)
    for site_name in repo.sites_of(occupier.name):
        admins = admins_of(repo, change, site_name)
        if admins is not None and not set(ctx.deciders) & set(admins):
            yield error(
                "D2",
                repo.source(occupier),
                ("spec", "decommission"),
                f"cannot decommission {occupier.name}: {who(ctx)} an admin of "
                f"{site_name}, where it has a contract",
                f"an admin of {site_name} must approve it: {' or '.join(admins)}",
            )


def lines_of(repo: Repo) -> dict[str, list[list[Service]]]:
    """Each occupier's services, site by site (`Repo.services_at` by occupier), remembered."""
    known = repo.memo.get(("lines_of",))
    if known is None:
        by_occupier: dict[str, list[list[Service]]] = {}
        for (holder, _), services in repo.services_at.items():
            by_occupier.setdefault(holder, []).append(services)
        known = repo.memo["lines_of",] = by_occupier
    return known  # type: ignore[return-value]


def d5_read_only(repo: Repo, ctx: Context) -> Iterator[Finding]:
    """A decommission, once under way, cannot be withdrawn or edited: when the change is known
    (`ctx.changed`), none of the occupier's documents may be in it."""
    for name, phase in ctx.occupier_phase.items():
        if phase not in DECOMMISSION_PHASES:
            continue
        occupier = repo.occupiers.get(name)
        if occupier is None:
            continue
        if occupier.spec.decommission is None:
            yield error(
                "D5",
                repo.source(occupier),
                ("spec",),
                f"occupier {name} is {phase}: the decommission cannot be withdrawn",
            )
            continue
        recorded = ctx.fingerprints.get(name)
        if ctx.changed is None and recorded:
            from reconciler.decommission import Record, edited  # (a ledger recorded one)

            for ref in edited(repo, name, Record(phase, {}, recorded)):
                kind, _, doc_name = ref.partition("/")
                yield error(
                    "D5",
                    repo.sources.get(Ref(kind, doc_name)),
                    ("spec",),
                    f"occupier {name} is {phase} and read-only: {ref} was changed after the "
                    "decommission started",
                    "restore it as it was",
                )
            continue
        if ctx.changed is None:
            continue
        own: list[Document] = [occupier, *repo.contracts_of.get(name, ())]
        own += [s for lines in lines_of(repo).get(name, []) for s in lines]
        for doc in own:
            if Ref(doc.kind, doc.name) in ctx.changed:
                yield error(
                    "D5",
                    repo.source(doc),
                    ("metadata", "name"),
                    f"occupier {name} is {phase} and read-only: {doc.kind} {doc.name} "
                    "cannot be changed",
                )
