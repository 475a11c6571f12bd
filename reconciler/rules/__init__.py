"""Every rule of DESIGN §2 as one function `(repo, context) -> Iterator[Finding]`, named after
its id. `check` runs them all; rules never do I/O and never read the clock."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from reconciler.findings import Finding
from reconciler.model.repo import Repo
from reconciler.rules.context import Context
from reconciler.rules.decommission import d1_request, d2_preconditions, d5_read_only
from reconciler.rules.devices import platform
from reconciler.rules.network import (
    n1_vlans_and_prefixes,
    n2_public_pools,
    n3_floor_ports,
    references,
)
from reconciler.rules.permissions import p1_site_admins
from reconciler.rules.services import (
    s1_contract,
    s2_start_date,
    s3_price,
    s4_quantity,
    s5_dependencies,
    s7_infrastructure,
    s8_replaces,
    s9_dates,
    s10_scheduled_changes,
)
from reconciler.rules.telephony import t1_main_number, t2_numbers, t3_wifi

Rule = Callable[[Repo, Context], Iterator[Finding]]

RULES: dict[str, Rule] = {
    "ref": references,
    "platform": platform,
    "S1": s1_contract,
    "S2": s2_start_date,
    "S3": s3_price,
    "S4": s4_quantity,
    "S5": s5_dependencies,
    "S7": s7_infrastructure,
    "S8": s8_replaces,
    "S9": s9_dates,
    "S10": s10_scheduled_changes,
    "N1": n1_vlans_and_prefixes,
    "N2": n2_public_pools,
    "N3": n3_floor_ports,
    "T1": t1_main_number,
    "T2": t2_numbers,
    "T3": t3_wifi,
    "D1": d1_request,
    "D2": d2_preconditions,
    "D5": d5_read_only,
    "P1": p1_site_admins,
}


def check(repo: Repo, context: Context, only: Iterable[str] | None = None) -> list[Finding]:
    findings: list[Finding] = []
    for rule_id, rule in RULES.items():
        if only is None or rule_id in only:
            findings.extend(rule(repo, context))
    return findings


# Two groups of about equal cost on a large repo, for running the rules on two cores.
HALF = frozenset({"S7", "ref", "T3", "S2", "S1", "T1", "D1"})


__all__ = ["HALF", "RULES", "Context", "check"]
