"""The `tenantry` command line: one module per command group, imported only when its command
runs (group.COMMANDS). Exit codes: 0 ok / no changes, 1 invalid input or failure, 2 `plan`
found changes, 64 usage error.

  entry       the console entry point (run)  validate    validate, pre-commit
  plan        plan (--refresh)               apply       apply, decommission
  report      report, catalogue, site        drift       drift
  billing     billing close                  ledger      ledger check
  generate    schemas, crds, init            review      comment, approvals
  operator    operator                       common      what they share

`run` comes without click: `main` and the exit codes are imported when first asked for, so
the entry point can answer --version, or start parsing, before click is loaded.
"""

from typing import TYPE_CHECKING

from reconciler.cli.entry import run

if TYPE_CHECKING:
    from reconciler.cli.common import EXIT_CHANGES, EXIT_FAILED, EXIT_OK, EXIT_USAGE
    from reconciler.cli.group import main

__all__ = ["EXIT_CHANGES", "EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "main", "run"]


def __getattr__(name: str) -> object:
    if name == "main":
        from reconciler.cli.group import main

        return main
    if name in __all__:
        from reconciler.cli import common

        return getattr(common, name)
    raise AttributeError(f"module 'reconciler.cli' has no attribute {name!r}")
