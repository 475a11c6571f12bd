"""Line and column of a field, read straight from the text for the usual shapes of YAML.

A finding names a document (its index in the file) and a field path; turning that into
file:line:col used to mean composing the whole file with PyYAML's pure-Python composer, which
made a repo where every file has a finding several times slower than a clean one. Desired
state is written in a few shapes (block mappings and sequences, one-line flow collections,
plain and one-line quoted scalars), so `locate` jumps along the path with string searches,
giving the composer's answers (a node's start mark; an empty value points at its key).
Anything else on the path (anchors, tags, block scalars, multi-line quoted or flow values,
quoted keys, directives, unusual line breaks) answers None and the caller composes the file.

The text must be one that yaml-rs accepted: it refuses continuation lines of quoted and flow
scalars that are not indented past their block, so a line at a block's own indent is always a
key or an item of that block. `tests/test_locate.py` holds the walker to the composer's
positions for every field of every test file.
"""

from __future__ import annotations

import re
from functools import cache

Path = tuple[str | int, ...]

# Texts not read here: tabs, a BOM, line breaks other than \n and \r\n, directives, doc ends.
_ODD = ("\t", "\ufeff", "\x85", "\u2028", "\u2029", "\n...", "\n%")
_CONTENT = re.compile(r"^( *)(?=[^ \r\n#])", re.M)  # a line that is not blank nor a comment
_KEY = re.compile(r"([A-Za-z0-9_][\w.$/-]*):(?:[ ]+|(?=[\r\n])|$)")
_NOT_PLAIN = frozenset("&*!|>%@`?:,]}#")
_FLOW_END = frozenset(",]}[{")

# A node: (kind, offset of its line's start, column, extra). "map" and "seq" are block
# collections; "flow" carries (is a mapping, entries); "scalar" carries whether it is empty.
_Node = tuple[str, int, int, object]


class _Unsure(Exception):
    """The text has a shape this walker does not read; compose it instead."""


@cache
def _line_at_most(indent: int) -> re.Pattern[str]:
    """The next content line indented `indent` or less (group 1: its indent)."""
    return re.compile(r"\n( {0," + str(indent) + r"})(?=[^ \r\n#])")


def locate(text: str, index: int, path: Path) -> tuple[int, int] | None:
    """(line, column), 1-based, of `path` in document `index` of `text`, as the composer
    would say; None when the text has a shape this walker does not read."""
    if any(odd in text for odd in _ODD) or text.startswith(("...", "%")):
        return None
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return None
    try:
        bounds = _document(text, index)
        if bounds is None:
            return None
        walk = _Walk(text, *bounds)
        node = walk.root()
        for part in path:
            child = walk.child(node, part)
            if child is not None:
                node = child
        return text.count("\n", 0, node[1]) + 1, node[2] + 1
    except (_Unsure, IndexError):
        return None


def _document(text: str, index: int) -> tuple[int, int] | None:
    """(start, end) offsets of document `index`, counted as PyYAML's compose_all counts."""
    markers: list[tuple[int, int]] = []
    k = 0 if text.startswith("---") else text.find("\n---") + 1
    while k > 0 or (k == 0 and text.startswith("---") and not markers):
        end = text.find("\n", k)
        end = len(text) if end < 0 else end
        if text[k + 3 : end].strip(" \r"):
            raise _Unsure  # a marker followed by content
        markers.append((k, end))
        k = text.find("\n---", end) + 1
    bounds = []
    head = markers[0][0] if markers else len(text)
    if _CONTENT.search(text, 0, head):
        bounds.append((0, head))
    for n, (_start, end) in enumerate(markers):
        bounds.append((end, markers[n + 1][0] if n + 1 < len(markers) else len(text)))
    return bounds[index] if index < len(bounds) else None


class _Walk:
    """One document of one text, walked one path part at a time."""

    def __init__(self, text: str, start: int, end: int) -> None:
        self.text = text
        self.end = end
        first = _CONTENT.search(text, start, end)
        if first is None:
            raise _Unsure
        self.first = first

    def root(self) -> _Node:
        line = self.first.start()
        return self._node_at(line, len(self.first.group(1)))

    def _line(self, line: int) -> str:
        stop = self.text.find("\n", line, self.end)
        return self.text[line : self.end if stop < 0 else stop].rstrip("\r")

    def _node_at(self, line: int, column: int) -> _Node:
        """The block node whose content starts on `line` at `column`."""
        body = self._line(line)[column:]
        if body == "-" or body.startswith("- "):
            return ("seq", line, column, None)
        if _KEY.match(body):
            return ("map", line, column, None)
        return _inline(self._line(line), line, column)

    def _next_content(self, after: int) -> tuple[int, int] | None:
        """(line offset, indent) of the first content line after offset `after`."""
        found = _CONTENT.search(self.text, self.text.find("\n", after, self.end) + 1, self.end)
        if found is None or found.start() <= after:
            return None
        return found.start(), len(found.group(1))

    def child(self, node: _Node, part: str | int) -> _Node | None:
        """As the composer's caller: a mapping's value by key, a sequence's item by index."""
        kind, line, column, extra = node
        if kind == "map" and isinstance(part, str):
            return self._map_child(line, column, part)
        if kind == "seq" and isinstance(part, int) and not isinstance(part, bool):
            items = self._seq_items(line, column)
            return self._seq_item(items[part], column) if part < len(items) else None
        if kind == "flow" and isinstance(extra, tuple):
            return _flow_child(line, extra[0], extra[1], part)
        return None

    def _block_end(self, line: int, column: int) -> int:
        """Where the block at `column` that starts on `line` ends: its first line indented less."""
        if column == 0:
            return self.end
        found = _line_at_most(column - 1).search(self.text, line, self.end)
        return self.end if found is None else found.start() + 1

    def _map_child(self, line: int, column: int, key: str) -> _Node | None:
        """The value of `key` in the block mapping whose first key is at (line, column)."""
        text, end = self.text, self._block_end(line, column)
        first = self._line(line)[column:]
        if first.startswith(key + ":"):
            found = _KEY.match(first)
            if found is not None and found.group(1) == key:
                return self._map_value(line, column, column + found.end())
        wanted = "\n" + " " * column + key + ":"
        at = text.find(wanted, line, end)
        while at >= 0:
            after = at + len(wanted)
            if after == len(text) or text[after] in " \r\n":
                found = _KEY.match(text, at + 1 + column)
                if found is None or found.group(1) != key:
                    raise _Unsure
                return self._map_value(at + 1, column, found.end() - (at + 1))
            at = text.find(wanted, after, end)
        self._check_keys(line, column, end)
        return None

    def _check_keys(self, line: int, column: int, end: int) -> None:
        """A key not found: every line at the mapping's indent must be a plain key (or an
        item of a sequence value), or the composer might know a key this walker cannot see."""
        pattern = _line_at_most(column)
        found = pattern.search(self.text, line, end)
        while found is not None:
            if len(found.group(1)) == column:
                body = self._line(found.start() + 1)[column:]
                if not (body == "-" or body.startswith("- ") or _KEY.match(body)):
                    raise _Unsure
            found = pattern.search(self.text, found.end(), end)

    def _map_value(self, line: int, key_column: int, after: int) -> _Node:
        """A key's value; an empty one is the key itself, as the composer's caller answers."""
        text = self._line(line)
        rest = text[after:]
        if rest and rest[0] != "#":
            value = _inline(text, line, after)
            return ("scalar", line, key_column, True) if value[3] is True else value
        nested = self._next_content(line)
        if nested is not None:
            start, indent = nested
            body = self._line(start)[indent:]
            if indent > key_column or (
                indent == key_column and (body == "-" or body.startswith("- "))
            ):
                return self._node_at(start, indent)
        return ("scalar", line, key_column, True)

    def _seq_items(self, line: int, column: int) -> list[int]:
        """Line offsets of the items of the block sequence whose first dash is at column."""
        items = [line]
        pattern = _line_at_most(column)
        found = pattern.search(self.text, line, self.end)
        while found is not None and len(found.group(1)) == column:
            body = self._line(found.start() + 1)[column:]
            if not (body == "-" or body.startswith("- ")):
                break
            items.append(found.start() + 1)
            found = pattern.search(self.text, found.end(), self.end)
        return items

    def _seq_item(self, line: int, dash: int) -> _Node:
        text = self._line(line)
        after = dash + 1
        while after < len(text) and text[after] == " ":
            after += 1
        if after < len(text) and text[after] != "#":
            return self._node_at(line, after)
        nested = self._next_content(line)
        if nested is not None and nested[1] > dash:
            return self._node_at(*nested)
        raise _Unsure  # an empty item: the composer's mark for it is not worth copying


def _inline(text: str, line: int, column: int) -> _Node:
    """A value that starts and, if quoted or flow, ends on this line (`text`)."""
    first = text[column]
    if first in "{[":
        entries, end = _flow(text, column)
        node: _Node = ("flow", line, column, (first == "{", entries))
    elif first in "\"'":
        value, end = _quoted(text, column)
        node = ("scalar", line, column, value == "")
    elif first in _NOT_PLAIN or (first == "-" and text[column + 1 : column + 2] in ("", " ")):
        raise _Unsure
    else:
        end = column
        plain = text[column:].split(" #", 1)[0].rstrip(" ")
        if ": " in plain or plain.endswith(":"):
            raise _Unsure  # a key this walker does not read
        node = ("scalar", line, column, False)
    if text[end:].lstrip(" ").startswith(":"):
        raise _Unsure  # a quoted or flow key
    return node


# ----------------------------------------------------------------- one-line flow collections

# key (None in a sequence), key column, value column, empty value, nested (is a mapping, entries)
_FlowEntry = tuple[str | None, int, int, bool, object]


def _flow(text: str, column: int) -> tuple[tuple[_FlowEntry, ...], int]:
    """Parse `{…}` or `[…]` starting at `column`: its entries with their columns, and the
    column after the closing bracket."""
    mapping = text[column] == "{"
    close = "}" if mapping else "]"
    entries: list[_FlowEntry] = []
    k = _skip(text, column + 1)
    while text[k] != close:
        key: str | None = None
        key_column = k
        if mapping:
            key, k = _flow_scalar(text, k)
            if key is None or text[k] != ":" or text[k + 1] not in " ,}":
                raise _Unsure
            k = _skip(text, k + 1)
            if text[k] in ",}":
                entries.append((key, key_column, k, True, None))
                k = _next(text, k, close)
                continue
        value_column = k
        if text[k] in "{[":
            nested, k = _flow(text, k)
            entries.append(
                (key, key_column, value_column, False, (text[value_column] == "{", nested))
            )
        else:
            value, k = _flow_scalar(text, k)
            if value is None or (not mapping and text[k] == ":"):
                raise _Unsure  # a single-pair mapping inside a sequence, or worse
            empty = value == "" and text[value_column] in "\"'"
            entries.append((key, key_column, value_column, empty, None))
        k = _next(text, _skip(text, k), close)
    return tuple(entries), k + 1


def _next(text: str, k: int, close: str) -> int:
    if text[k] == ",":
        return _skip(text, k + 1)
    if text[k] != close:
        raise _Unsure
    return k


def _skip(text: str, k: int) -> int:
    while text[k] == " ":
        k += 1
    return k


def _flow_scalar(text: str, k: int) -> tuple[str | None, int]:
    """A quoted or plain scalar inside a flow collection, and the column after it."""
    if text[k] in "\"'":
        value, end = _quoted(text, k)
        return value, _skip(text, end)
    if text[k] in _NOT_PLAIN or text[k] in "{[":
        return None, k
    start = k
    while k < len(text):
        ch = text[k]
        if ch in _FLOW_END:
            break
        if ch == ":" and text[k + 1 : k + 2] in ("", " ", ",", "]", "}", "[", "{"):
            break
        if ch == "#" and text[k - 1] == " ":
            raise _Unsure
        k += 1
    else:
        raise _Unsure  # not closed on this line
    return text[start:k].rstrip(" "), k


def _quoted(text: str, k: int) -> tuple[str, int]:
    """A one-line quoted scalar without escapes: its value and the column after it."""
    quote = text[k]
    j = k + 1
    while True:
        end = text.find(quote, j)
        if end < 0:
            raise _Unsure
        if quote == "'" and text[end + 1 : end + 2] == "'":
            j = end + 2
            continue
        value = text[k + 1 : end]
        if quote == '"' and "\\" in value:
            raise _Unsure
        return (value.replace("''", "'") if quote == "'" else value), end + 1


def _flow_child(
    line: int, mapping: object, entries: tuple[_FlowEntry, ...], part: str | int
) -> _Node | None:
    if mapping and isinstance(part, str):
        for key, key_column, value_column, empty, nested in entries:
            if key == part:
                if empty:
                    return ("scalar", line, key_column, True)
                return _flow_node(line, value_column, nested)
        return None
    if not mapping and isinstance(part, int) and part < len(entries):
        return _flow_node(line, entries[part][2], entries[part][4])
    return None


def _flow_node(line: int, column: int, nested: object) -> _Node:
    return ("flow", line, column, nested) if nested is not None else ("scalar", line, column, False)
