"""`tenantry ledger check`: the ledger's invariants, and with PATH its agreement with the
desired state."""

from __future__ import annotations

from datetime import date

import click

from reconciler.cli.common import EXIT_FAILED, EXIT_OK, loaded_repo
from reconciler.cli.options import ledger_option


@click.group("ledger")
def ledger_group() -> None:
    """Inspect the ledger."""


@ledger_group.command("check")
@click.argument("path", required=False, type=click.Path(exists=True))
@ledger_option
def ledger_check(path: str | None, state: str) -> int:
    """Verify the ledger's invariants: schema current and complete, no value held twice (or
    overlapping), states consistent; with PATH, every holder and Active service exists in the
    desired state there. One line per problem; exit 1 if any."""
    from reconciler.ledger import open_ledger
    from reconciler.ledger.invariants import problems
    from reconciler.ledger.sql import SCHEMA_VERSION

    ledger = open_ledger(state, create=False)
    if ledger is None:
        click.echo(f"error: no ledger at {state}", err=True)
        return EXIT_FAILED
    with ledger.reading() as cursor:
        version = ledger.version(cursor)
    holdings = ledger.holdings()
    statuses = {
        kind: {name: r.status for name, r in ledger.statuses(kind).items()}
        for kind in ("Service", "Occupier")
    }
    repo = loaded_repo(path, date.today()) if path is not None else None
    gone = frozenset(n for n, s in statuses["Occupier"].items() if s == "Decommissioned")
    found = problems(holdings, statuses, repo, gone)
    if version < SCHEMA_VERSION:
        found.insert(0, f"schema version {version}; the next apply migrates it to {SCHEMA_VERSION}")
    for line in found:
        click.echo(f"{ledger.display}: {line}")
    checked = sum(len(v) for v in statuses.values())
    click.echo(
        f"{len(holdings.rows)} allocations and {checked} statuses checked: {len(found)} problem(s)"
    )
    return EXIT_FAILED if found else EXIT_OK


# ---------------------------------------------------------------- Kubernetes (issue 6)
