"""The `tenantry` command line: one module per command group, imported only when its command
runs (group.COMMANDS). Exit codes: 0 ok / no changes, 1 invalid input or failure, 2 `plan`
found changes, 64 usage error.

  validate    validate, pre-commit          plan       plan (--refresh)
  apply       apply, decommission           report     report, catalogue, site
  drift       drift
  billing     billing close                 ledger     ledger check
  generate    schemas, crds, init           review     comment, approvals
  operator    operator                      common     what they share
"""

from reconciler.cli.common import EXIT_CHANGES, EXIT_FAILED, EXIT_OK, EXIT_USAGE
from reconciler.cli.group import main, run

__all__ = ["EXIT_CHANGES", "EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "main", "run"]
