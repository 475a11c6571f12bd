"""The cyclic garbage collector kept out of the way of bulk work: its own module, so that a
command that only reads the ledger (`report charges`) needs neither the models nor YAML."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


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
