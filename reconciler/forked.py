"""Work in a forked child, for the CLI's large repos: the machine's second core.

The child shares everything loaded so far copy-on-write and sends back pickled results
through a pipe. Only the CLI forks: never the threaded operator (a fork copies one thread).
"""

from __future__ import annotations

import os
import select
import signal
import struct
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
_LENGTH = struct.Struct("<Q")


def in_child(work: Callable[[], T]) -> Callable[[], T | None]:
    """Start `work` now in a forked child; the returned function waits for it and gives its
    (pickled) result, or None if it failed (the caller then does the work itself)."""
    items = from_child(lambda: [work()])

    def result() -> T | None:
        found = next(items, None)
        for _ in items:  # the end: the child is waited for (its CPU counted, no zombie)
            pass
        return found

    return result


def from_child(work: Callable[[], Iterable[T]]) -> Stream[T]:
    """Start `work` now in a forked child; iterate over its items as the child sends them,
    so this process can use each while the child makes the next. The iteration ends early,
    without an error, if the child fails: the caller does what is left itself."""
    import pickle  # (here: a run that forks nothing does not import it)

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_end)
        code = 0
        try:
            out = _Sender(write_end)
            for item in work():
                data = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
                out.send(_LENGTH.pack(len(data)) + data)
            out.close()
        except BaseException:
            code = 1
        os._exit(code)
    os.close(write_end)
    return Stream(pid, read_end)


# What a child may hold that the parent has not read yet (beyond the pipe's own buffer).
BACKLOG_BYTES = 64 << 20


class _Sender:
    """The child's end of the pipe: it never waits for the parent while it has work to do
    (the parent may be busy importing the models), up to BACKLOG_BYTES held here."""

    def __init__(self, fd: int) -> None:
        self._fd, self._pending, self._held = fd, deque[memoryview](), 0
        os.set_blocking(fd, False)

    def send(self, data: bytes) -> None:
        self._pending.append(memoryview(data))
        self._held += len(data)
        self._flush(wait=self._held > BACKLOG_BYTES)

    def close(self) -> None:
        self._flush(wait=True)
        os.close(self._fd)

    def _flush(self, wait: bool) -> None:
        """Write what the pipe takes now; with `wait`, until nothing is held."""
        while self._pending:
            try:
                written = os.write(self._fd, self._pending[0])
            except BlockingIOError:
                if not wait:
                    return
                select.select([], [self._fd], [])
                continue
            head = self._pending.popleft()
            self._held -= written
            if written < len(head):
                self._pending.appendleft(head[written:])


class Stream(Generic[T], Iterator[T]):
    """The items a forked child sends, in order; ends when the child is done or failed."""

    def __init__(self, pid: int, fd: int) -> None:
        self._pid, self._fd = pid, fd
        self._buffer = bytearray()  # what was read of the next items so far
        self._ended = False  # the child closed its end

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self._pid

    def ready(self) -> bool:
        """Whether the next item (or the end) is all there, so that reading it will not wait:
        what the pipe holds is read now, and a half-written item is not ready (a caller with
        other work to do would otherwise wait for the child to finish writing it)."""
        if self._fd < 0 or self._ended or self._whole():
            return True
        while select.select([self._fd], [], [], 0)[0]:
            part = os.read(self._fd, 1 << 20)
            if not part:
                self._ended = True
                return True
            self._buffer += part
            if self._whole():
                return True
        return False

    def _whole(self) -> bool:
        """Whether the buffer holds the whole next item."""
        if len(self._buffer) < _LENGTH.size:
            return False
        (size,) = _LENGTH.unpack_from(self._buffer)
        return len(self._buffer) >= _LENGTH.size + int(size)

    def __next__(self) -> T:
        head = self._read(_LENGTH.size)
        data = self._read(_LENGTH.unpack(head)[0]) if head is not None else None
        if data is None:
            self._close()
            raise StopIteration
        import pickle  # (imported by from_child already: a lookup)

        item: T = pickle.loads(data)
        return item

    def _read(self, size: int) -> bytes | None:
        """Exactly `size` bytes, or None at the end of the stream."""
        while len(self._buffer) < size:
            if self._fd < 0 or self._ended:
                return None
            part = os.read(self._fd, 1 << 20)
            if not part:
                self._ended = True
                return None
            self._buffer += part
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def close(self) -> None:
        """Stop the child if it is still working (what it would send is not wanted)."""
        if self._fd >= 0:
            os.kill(self._pid, signal.SIGKILL)
            self._close()

    def _close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
            os.waitpid(self._pid, 0)
