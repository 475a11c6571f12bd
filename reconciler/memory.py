"""The cyclic garbage collector kept out of the way of bulk work: its own module, so that a
command that only reads the ledger (`report charges`) needs neither the models nor YAML."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# What is left to the process's exit: set to a list by the console entry point, which exits
# without tearing anything down (`reconciler.cli.entry.run`); None in any other process.
_left_to_exit: list[Any] | None = None


def leave_to_exit(value: Any) -> None:
    """Keep `value` (a loaded repo) alive until the process exits, when the console entry
    point runs: a command returning would otherwise free it object by object before the
    exit (0.15 s at 10,000 occupiers, longer than printing the findings). Elsewhere (tests,
    the operator) it is freed as usual."""
    if _left_to_exit is not None:
        _left_to_exit.append(value)


def exit_without_teardown(yes: bool = True) -> None:
    """Called by the console entry point, which ends with os._exit; and with `yes=False` by
    a command that runs for days (`tenantry operator`), whose repos must be freed."""
    global _left_to_exit
    _left_to_exit = [] if yes else None


@contextmanager
def gc_paused() -> Iterator[None]:
    """Parsing builds millions of small objects that all live until the end; the cyclic
    garbage collector would walk them again and again for nothing (it doubled the run time).
    On the way out they are frozen (moved out of the collector's sight) so that re-enabling
    collection does not scan them all at once; they are plain acyclic data, freed by
    reference counting when the Repo goes away."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()
