"""Work in a forked child, for the CLI's large repos: the machine's second core.

The child shares everything loaded so far copy-on-write and sends back pickled results
through a pipe. Only the CLI forks: never the threaded operator (a fork copies one thread).
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO, TypeVar

T = TypeVar("T")


def in_child(work: Callable[[], T]) -> Callable[[], T | None]:
    """Start `work` now in a forked child; the returned function waits for it and gives its
    (pickled) result, or None if it failed (the caller then does the work itself)."""
    items = from_child(lambda: [work()])

    def result() -> T | None:
        return next(items, None)

    return result


def from_child(work: Callable[[], Iterable[T]]) -> Iterator[T]:
    """Start `work` now in a forked child; iterate over its items as the child sends them,
    so this process can use each while the child makes the next. The iteration ends early,
    without an error, if the child fails: the caller does what is left itself."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_end)
        code = 0
        try:
            with os.fdopen(write_end, "wb") as out:
                for item in work():
                    pickle.dump((item,), out, protocol=pickle.HIGHEST_PROTOCOL)
                    out.flush()
        except BaseException:
            code = 1
        os._exit(code)
    os.close(write_end)
    return _received(pid, os.fdopen(read_end, "rb"))


def _received(pid: int, incoming: BinaryIO) -> Iterator[T]:
    with incoming:
        try:
            while True:
                try:
                    (item,) = pickle.load(incoming)
                except (EOFError, pickle.UnpicklingError, ValueError):
                    break
                yield item
        finally:
            os.waitpid(pid, 0)
