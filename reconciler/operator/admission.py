"""The validating admission webhook's decision: the rules of `tenantry validate`, run on the
incoming object together with the objects already in the cluster, and P1 with the identity
of the user who sends it.

A change is refused for the errors it *adds*: the errors of the cluster with the change,
less those the cluster already has, so one broken object elsewhere does not block every
other change. Errors that objects still to come can cure are allowed on CREATE (see
`curable`): in a cluster, objects arrive one by one, and the operator reports them until they
resolve.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from reconciler.change import between, state
from reconciler.findings import Finding
from reconciler.load import validate_document
from reconciler.model.repo import Ref
from reconciler.operator.cluster import Body, document_of, ref_of, snapshot, source_of
from reconciler.rules import Context
from reconciler.validate import run_rules

# Errors that objects still to come can cure, tolerated when an object is created: a contract
# before its occupier (ref), a service before its contract (S1) or before the service it
# requires (S5 "requires"), an occupier's activations before the services that allocate them
# (S7), before the contract that leases the spaces (N3) or the site (T3 Wi-Fi), an upgrade
# before the line it replaces (S8). kubectl
# applies in file order and Argo CD in kind order, so refusing them would make a valid repo
# impossible to apply. The operator reports them on the objects (Stalled / Waiting) until they
# resolve. On UPDATE only dangling references are tolerated: activating beyond what the
# services allocate, or reducing a service below what is in use, is refused.
CURABLE_ON_CREATE = frozenset({"ref", "S1", "S7", "N3"})
CURABLE_ON_UPDATE = frozenset({"ref"})


def curable(finding: Finding, operation: str) -> bool:
    if operation == "CREATE":
        return (
            finding.rule in CURABLE_ON_CREATE
            or (finding.rule == "S5" and " requires " in finding.message)
            or (finding.rule == "T3" and " has no contract at " in finding.message)
            # an upgrade applied before the line it replaces is known to the webhook
            or (finding.rule == "S8" and "which is not a service" in finding.message)
        )
    return finding.rule in CURABLE_ON_UPDATE


def actor_of(userinfo: Mapping[str, Any] | None, trusted: Iterable[str]) -> str | None:
    """The P1 actor: the user's name, or None (no P1) for a trusted user such as the GitOps
    agent, whose changes were checked against the pull-request author in CI."""
    username = str((userinfo or {}).get("username") or "")
    groups = set((userinfo or {}).get("groups") or ())
    for entry in trusted:
        if entry == username or (entry.startswith("group:") and entry[6:] in groups):
            return None
        if entry.endswith("*") and username.startswith(entry[:-1]):
            return None
    return username or None


def _key(finding: Finding) -> tuple[str, str]:
    return (finding.rule, finding.message)


def denials(
    incoming: Body,
    operation: str,
    cluster: Iterable[Body],
    today: date,
    actor: str | None,
) -> list[Finding]:
    """The errors this CREATE or UPDATE would add; empty: allowed."""
    if operation not in ("CREATE", "UPDATE"):
        return []
    ref = ref_of(incoming)
    stored = [b for b in cluster if ref_of(b) != ref]
    schema: list[Finding] = []
    if validate_document(document_of(incoming), source_of(ref), schema) is None:
        return schema
    after = snapshot(stored, replace=incoming)
    if ref in after.parked:
        return []  # its occupier is not there yet: checked again when it is (operator)
    old = next((b for b in cluster if ref_of(b) == ref), None)
    before = snapshot([*stored, old] if old is not None else stored)
    changed = frozenset({Ref(ref.kind, ref.name)})
    # P1 on this object's change: the sites it touched before and touches after
    change = between(
        state(before.loaded.repo, only=changed), state(after.loaded.repo, only=changed)
    )
    known = {_key(f) for f in run_rules(before.loaded, Context(today=today, changed=changed))}
    found = run_rules(
        after.loaded, Context(today=today, actor=actor, changed=changed, change=change)
    )
    new = [f for f in found if f.is_error and not curable(f, operation) and _key(f) not in known]
    own = [f for f in new if f.source == source_of(ref)]  # a pair's two findings: say it once
    return own or new


def message(findings: Iterable[Finding]) -> str:
    return "; ".join(
        f"error[{f.rule}]: {f.message}" + (f" (hint: {f.hint})" if f.hint else "") for f in findings
    )
