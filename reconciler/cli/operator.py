"""`tenantry operator`: the Kubernetes operator (kopf, the [operator] extra) and its admission
webhook; without the extra, one line names it."""

from __future__ import annotations

import os
import random

import click

from reconciler.cli.common import EXIT_FAILED, EXIT_OK
from reconciler.extras import missing_extra


@click.command("operator", context_settings={"ignore_unknown_options": True})
@click.option("--standalone", is_flag=True, help="No peering: the only replica (development).")
@click.option(
    "--peering", "peering", metavar="NAME", help="kopf peering object (several replicas)."
)
@click.option(
    "--priority", type=int, default=None, help="Peering priority (default: random per replica)."
)
@click.option(
    "--liveness", metavar="URL", help="kopf liveness endpoint, e.g. http://0.0.0.0:8080/healthz"
)
def operator_command(
    standalone: bool, peering: str | None, priority: int | None, liveness: str | None
) -> int:
    """Run the Kubernetes operator and its admission webhook (settings: TENANTRY_* env)."""
    from reconciler.memory import exit_without_teardown

    exit_without_teardown(False)  # it runs for days: every repo it loads is freed
    try:
        import kopf

        import reconciler.operator.handlers  # noqa: F401 - registers the handlers
    except ModuleNotFoundError as exc:
        line = missing_extra(exc, "tenantry operator")
        if line is None:
            raise
        click.echo(f"error: {line}", err=True)
        return EXIT_FAILED
    if peering and priority is None:
        # Replicas of one Deployment share their arguments; kopf pauses every replica when
        # two have the same priority, so each takes its own at random (kopf's advice).
        priority = random.randint(1, 2**31 - 1)
    kopf.configure(verbose=bool(os.environ.get("TENANTRY_VERBOSE")))
    kopf.run(
        clusterwide=True,
        standalone=standalone or None,
        peering_name=peering,
        priority=priority or 0,
        liveness_endpoint=liveness,
    )
    return EXIT_OK
