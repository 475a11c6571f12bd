"""`python -m reconciler.cli`: the same as the `tenantry` console script."""

from reconciler.cli.entry import run

run()
