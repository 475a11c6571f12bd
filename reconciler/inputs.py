"""Checks on a desired-state file before and right after the YAML parser sees it (G1).

A parser that silently stops at a NUL byte, drops an unknown tag or reads a FIFO forever
would make a *smaller* desired state out of a broken file, and a smaller desired state plans
releases. So every file is refused with one line, before anything else, when:

- it is not a regular file (a FIFO, a device such as /dev/zero behind a symlink) or is larger
  than MAX_FILE_BYTES (read with a cap, never whole);
- its text holds a character YAML 1.2 does not allow (C0 controls other than tab, LF and CR,
  DEL, C1 controls, lone surrogates, U+FFFE/U+FFFF);
- it carries a tag other than the core schema's (`!Ref`, `!!python/…`);
- a document nests deeper than MAX_DEPTH levels (documented in the README).

A UTF-8 byte-order mark at the start is accepted and dropped. `split_documents` tells a file
of several documents from one document that is a list (the parser returns both as a list).
"""

from __future__ import annotations

import functools
import os
import re
import stat
from collections.abc import Callable
from typing import Any

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 64
QUOTE_LIMIT = 80

# Not in YAML 1.2's c-printable: x9, xA, xD, x20-x7E, x85, xA0-xD7FF, xE000-xFFFD, ≥ x10000.
# Of those, an ASCII text can hold only the first few: most desired state is ASCII, and the
# whole class takes a third of a millisecond to compile (`_not_printable`).
_NOT_PRINTABLE_ASCII = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_MARKER = re.compile(r"^(---|\.\.\.)(?=[ \t\r\n]|$)", re.M)
_CONTENT = re.compile(r"^[^\s#%]", re.M)
_START = re.compile(r"\n---(?=[ \t\r\n]|\Z)")
# A tag can only start a node: at a line start, after an indicator, or after `---`.
# `on:` not right after a letter, digit or '-' (`definition:`, `-on:`): a literal first, so
# the search skips ahead at C speed to the few candidates `bare_on` looks at.
_ON_KEY = re.compile(r"on:(?<![\w-]on:)")
_TAG_CANDIDATE = re.compile(r"(?:^|[\s\[\{,])!")
CORE_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq")
)


@functools.cache
def _not_printable() -> re.Pattern[str]:
    return re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")


class InputError(Exception):
    """One problem with a file, at a 1-based line and column."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


def read_capped(path: str) -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES, else InputError. The file is
    opened without blocking and checked again once open, so a FIFO swapped in never hangs."""
    try:
        before = os.stat(path)
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}") from None
    if not stat.S_ISREG(before.st_mode):
        raise InputError(f"not a regular file ({_file_type(before.st_mode)}); refused")
    if before.st_size > MAX_FILE_BYTES:
        raise InputError(f"file is {before.st_size} bytes; the limit is {MAX_FILE_BYTES}")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}") from None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise InputError("not a regular file; refused")
        return _read_to_end(fd, status.st_size)
    finally:
        os.close(fd)


def loadable_text(data: bytes) -> str | None:
    """The text `load` reads from a file of these bytes; None if it refuses the file outright
    (past MAX_FILE_BYTES, not UTF-8). For a file git holds at a base: read as a checkout's
    load would read it."""
    if len(data) > MAX_FILE_BYTES:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _read_to_end(fd: int, size: int) -> bytes:
    """Every byte up to the end of the file, or InputError past MAX_FILE_BYTES. Asks for the
    size fstat gave (a read of MAX_FILE_BYTES would allocate 8 MB per file) and goes on
    until the end, so a file that grew meanwhile is read whole, never cut short."""
    parts: list[bytes] = []
    total = 0
    while True:
        wanted = min(max(size, 4096), MAX_FILE_BYTES) + 1
        part = os.read(fd, wanted)
        parts.append(part)
        total += len(part)
        if total > MAX_FILE_BYTES:
            raise InputError(f"file is larger than the limit of {MAX_FILE_BYTES} bytes")
        # A short read at or past the size fstat gave is the end (no second read to see
        # nothing); one before it (a network file system) reads on.
        if not part or (len(part) < wanted and total >= size):
            return b"".join(parts) if len(parts) > 1 else part


def _file_type(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a file"


def clean_text(text: str) -> str:
    """The text without a leading byte-order mark; InputError at the first character YAML
    does not allow (the parser would stop there silently and lose the rest)."""
    text = text.removeprefix("\ufeff")
    found = (_NOT_PRINTABLE_ASCII if text.isascii() else _not_printable()).search(text)
    if found is not None:
        line, column = position(text, found.start())
        char = found.group()
        what = "a lone surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
        raise InputError(
            f"{what} U+{ord(char):04X} is not allowed in YAML; remove it", line, column
        )
    return text


def position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def check_tags(text: str) -> None:
    """InputError at the first tag outside the YAML core schema: the parser would drop it
    (`!Ref x` would read as "x") and the document would mean something else."""
    if "!" not in text or _TAG_CANDIDATE.search(text) is None:
        return
    import yaml  # only for text with a tag in it: most runs never need PyYAML

    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, yaml.TagToken):
                handle, suffix = token.value
                tag = ("tag:yaml.org,2002:" if handle == "!!" else (handle or "")) + suffix
                if tag not in CORE_TAGS:
                    mark = token.start_mark
                    shown = quote(f"{handle or ''}{suffix}")
                    raise InputError(
                        f"tag {shown} is not supported; write the plain value",
                        mark.line + 1,
                        mark.column + 1,
                    )
    except yaml.YAMLError:
        return  # the parser reports syntax errors itself, with its own position


def split_documents(text: str, parsed: Any) -> list[Any]:
    """The parser's result as a list of documents: a file of several documents comes back as
    a list, but so does one document that is a list; the markers tell them apart."""
    if not isinstance(parsed, list):
        return [parsed]
    return parsed if document_count(text) > 1 else [parsed]


def document_count(text: str) -> int:
    """How many documents the text holds: one per `---`, one for content before the first
    marker, one for content after a `...` that no `---` opens."""
    if not text.startswith("...") and "\n..." not in text:
        # No document end: count the `---` by a search that starts with a literal (the
        # general split below tries its pattern at every offset of every file).
        starts = [found.start() + 1 for found in _START.finditer(text)]
        if _START.match("\n" + text[:4]):
            starts.insert(0, 0)
        head = _CONTENT.search(text, 0, starts[0] if starts else len(text))
        return len(starts) + (head is not None)
    parts = _MARKER.split(text)
    count = 1 if _CONTENT.search(parts[0]) else 0
    for marker, segment in zip(parts[1::2], parts[2::2], strict=True):
        if marker == "---" or _CONTENT.search(segment):
            count += 1
    return count


def bare_on(text: str) -> int | None:
    """Offset of the first mapping key `on` written bare (`on:` at a line's start or after
    `- `, `{` or `,`, spaces between): YAML 1.1 tools such as kubectl read it as true. A search
    for the literal with a look back, as the regex `(?:^|[{,]|-\\s)\\s*on:` would match but
    without trying that regex at every offset (0.9 s over 10,000 files)."""
    for found in _ON_KEY.finditer(text):
        key = start = found.start()
        while start > 0 and text[start - 1].isspace():
            start -= 1
        before = text[start - 1] if start > 0 else "\n"
        if before in "\n{," or "\n" in text[start:key] or (before == "-" and start < key):
            return key
    return None


def check_depth(
    value: Any, text: str | Callable[[], str], limit: int = MAX_DEPTH, depth: int = 1
) -> None:
    """InputError when a document nests deeper than `limit` (the rules and the position
    finder recurse; thousands of levels would end in a RecursionError). `depth`: the level
    of `value` itself when it is part of a document (the document is level 1). Only
    collections are visited: a scalar adds a level only below a collection that is already
    at the limit, which the collection's own check sees. `text` (or a function reading it)
    is read only to say at which line."""
    if not isinstance(value, dict | list):
        if depth > limit:
            _too_deep(text, limit)
        return
    stack = [(value, depth)]
    while stack:
        node, level = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        if level >= limit:
            if level > limit or children:
                _too_deep(text, limit)
            continue
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))


def too_deep(limit: int = MAX_DEPTH) -> str:
    """What a document nested deeper than `limit` is told (the parser's own recursion limit
    says the same)."""
    return f"nested more than {limit} levels deep; desired state never needs that"


def _too_deep(text: str | Callable[[], str], limit: int) -> None:
    raise InputError(too_deep(limit), _deep_line(text if isinstance(text, str) else text(), limit))


def _deep_line(text: str, limit: int) -> int:
    """The first line at more than `limit` levels of indentation or brackets (best effort)."""
    indents: list[int] = []
    brackets = 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        while indents and indents[-1] >= indent:
            indents.pop()
        indents.append(indent)
        dashes = len(re.match(r"(?:- +)*", stripped).group().split("-")) - 1  # type: ignore[union-attr]
        brackets += line.count("[") + line.count("{")
        if len(indents) + dashes + brackets > limit:
            return number
        brackets -= line.count("]") + line.count("}")
    return 1


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """repr() of a value for a message, cut to about `limit` characters: a 7.9 MB value must
    not be echoed whole."""
    shown = repr(value)
    if len(shown) <= limit:
        return shown
    return f"{shown[: limit - 1]}… ({len(shown)} characters)"
