"""Reading and parsing the desired-state files, without the models.

Nothing here imports pydantic or the models, so the CLI can start parsing a large repo in a
forked child (`start`) before it imports them: the child parses while this process spends
its first third of a second building the models, and `reconciler.load` then validates what
the child sends. The checks of `reconciler.inputs` (G1) run on every file here, first.
"""

from __future__ import annotations

import functools
import marshal
import os
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from reconciler import API_VERSION
from reconciler.findings import Finding, error, warning
from reconciler.inputs import (
    InputError,
    bare_on,
    check_tags,
    clean_text,
    position,
    read_capped,
    split_documents,
    too_deep,
)
from reconciler.native import compiled

if TYPE_CHECKING:
    import json

    from yaml_rs import _yaml_rs as yaml_rs

    from reconciler.forked import Stream
else:  # yaml-rs's compiled parser, without the package's Python half (pathlib: 2 ms)
    yaml_rs = compiled("yaml_rs", "_yaml_rs")

ALIAS_LIMITS = yaml_rs._AliasLimits(
    max_total_replayed_events=10_000,
    max_replay_stack_depth=16,
    max_alias_expansions_per_anchor=100,
)
_RS_POSITION = re.compile(r"line (\d+), column (\d+)")
SKIP_DIRS = {".git", ".tenantry", ".venv", "node_modules", "__pycache__"}

# Parsing in a forked child (the CLI only) from this many files, sent back in chunks of
# CHUNK files: the parent validates each chunk while the child parses the next, and parses
# files of its own (from the end, at most PARENT_SHARE of them) whenever no whole chunk is
# waiting; the child stops where the parent's files begin. Which of the two is ahead depends
# on the repo's size (the parent's imports take a fixed third of a second) and the machine.
FORK_FROM_FILES = 500
CHUNK = 50
PARENT_SHARE = 0.5

# What the child sends per chunk: each file's findings, and its documents (`as_sent`)
# marshalled (plain data: 5× faster to send than pickled, 10× faster to read back than to
# parse).
Chunk = tuple[list[list[Finding]], bytes]

# A document as the child sends it: (index in its file, kind, JSON text) for a document of
# ours that pydantic can validate straight from the text, else (index, None, raw data).
Sent = tuple[int, str | None, Any]

# A key that json made text of (YAML allows 1, 1.5, true or null as keys; JSON only text),
# or a text key that looks like one: such a document is sent as data.
_KEY_NOT_TEXT = re.compile(r'"(?:[-0-9][^"]*|true|false|null|NaN|Infinity)":')


def discover(root: str) -> list[str]:
    """Every *.yaml / *.yml below root (or root itself if it is a file), in a stable order.
    Hidden files and directories (.gitlab-ci.yml, .pre-commit-config.yaml, .github/) are
    never desired state."""
    if not os.path.isdir(root):
        return [root]  # a FIFO or device given by name is refused when read
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        found.extend(
            os.path.join(dirpath, name)
            for name in sorted(filenames)
            if name.endswith((".yaml", ".yml")) and not name.startswith(".")
        )
    return found


class Parsing:
    """Files being parsed in a forked child, in order, CHUNK files at a time. (Not a named
    tuple: the stream's module is imported where a child is forked, and a named tuple's field
    named only for the type checker would be compiled at every start-up: `reconciler.refs`.)"""

    def __init__(self, paths: list[str], stream: Stream[Chunk]) -> None:
        self.paths = paths
        self.stream = stream


def start(root: str, files: list[str] | None = None) -> Parsing | None:
    """Start parsing the files below `root` (or `files`) in a forked child, if there are
    enough of them to be worth a fork; None otherwise. CLI only: never fork the threaded
    operator (a fork copies one thread)."""
    paths = list(files) if files is not None else discover(root)
    if len(paths) < FORK_FROM_FILES or not hasattr(os, "fork"):
        return None
    from reconciler.forked import from_child  # (a large repo only)

    return Parsing(paths, from_child(lambda: chunks(paths)))


def chunks(paths: list[str]) -> Iterator[Chunk]:
    """Parse `paths`, CHUNK files at a time (the child's work)."""
    for begin in range(0, len(paths), CHUNK):
        findings: list[list[Finding]] = []
        docs: list[list[Sent]] = []
        for path in paths[begin : begin + CHUNK]:
            found: list[Finding] = []
            docs.append([as_sent(index, raw) for index, raw, _ in documents(path, found)])
            findings.append(found)
        yield findings, marshal.dumps(docs)


def as_sent(index: int, raw: Any) -> Sent:
    """A document as JSON text when pydantic-core can take it from the text: it reads JSON
    faster than it walks Python data, and text costs nothing to read back, where the data
    costs the parent a third of what validating it does (`marshal.loads`). Sent as data:
    anything that is not one of our documents, has a `status` or `managedFields` (their
    depth is checked on the data), or that JSON would not say as it is (`json_text`). The
    text, read back with `json.loads`, is the data again: the findings of a document the
    schema refuses are said from it."""
    if type(raw) is dict and raw.get("apiVersion") == API_VERSION and "status" not in raw:
        kind, metadata = raw.get("kind"), raw.get("metadata")
        if type(kind) is str and not (type(metadata) is dict and "managedFields" in metadata):
            text = json_text(raw)
            if text is not None:
                return index, kind, text
    return index, None, raw


def json_text(raw: Any) -> str | None:
    """The document as JSON that pydantic reads as it would read the data, else None. orjson
    (a quarter of json's time) refuses what JSON cannot say as it is: a key that is not text
    (YAML allows 1, true or null as keys), an integer past 64 bits, a lone surrogate, deep
    nesting. It writes NaN and the infinities as null, so a document with a null in its
    text is written by json instead, which says them as pydantic reads them, but makes text
    of a key that is not (the document is then sent as data)."""
    import orjson  # the forked parse only (with json): not the start-up of a small repo's run

    try:
        text = orjson.dumps(raw).decode()  # pydantic reads text faster than bytes
    except TypeError:  # orjson.JSONEncodeError
        return None
    if "null" not in text:
        return text
    try:
        text = _json_encoder().encode(raw)
    except (TypeError, ValueError, RecursionError):  # a key of a list, too deep...
        return None
    return text if _KEY_NOT_TEXT.search(text) is None else None


@functools.cache
def _json_encoder() -> json.JSONEncoder:
    import json

    return json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(",", ":"))


def documents(path: str, findings: list[Finding]) -> Iterator[tuple[int, Any, str]]:
    """Each document of the file that parsed: its index in the file, its data, and the
    file's text (to say where a document nests too deeply). Problems go to `findings`."""
    try:
        data = read_capped(path)
    except InputError as exc:
        findings.append(file_error(path, exc.line, exc.column, exc.message))
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        findings.append(
            file_error(path, line, column, f"file is not UTF-8 (byte 0x{data[exc.start]:02x})")
        )
        return
    for index, raw in parse(text, path, findings):
        yield index, raw, text


def parse(text: str, path: str, findings: list[Finding]) -> Iterator[tuple[int, Any]]:
    """Each document of `text` that parsed, with its index in the file."""
    try:
        text = clean_text(text)
        check_tags(text)
    except InputError as exc:
        findings.append(file_error(path, exc.line, exc.column, exc.message))
        return
    if "\t" in text and (tab := re.search(r"^\t", text, re.M)) is not None:
        line = text[: tab.start()].count("\n") + 1
        findings.append(file_error(path, line, 1, "tab used for indentation; use spaces"))
        return
    key = bare_on(text)
    if key is not None:
        line, column = position(text, key)
        findings.append(
            warning(
                "yaml",
                None,
                (),
                'quote the key "on": YAML 1.1 tools such as kubectl read a bare on as true',
            ).at(path, line, column)
        )
    try:
        # (what yaml_rs.loads calls; a key given twice is an error, as there)
        result = yaml_rs._loads(text, parse_datetime=False, alias_limits=ALIAS_LIMITS)
    except yaml_rs.YAMLDecodeError as exc:
        findings.append(parse_error(path, text, str(exc)))
        return
    except RecursionError:
        findings.append(file_error(path, 1, 1, "YAML nested too deeply"))
        return
    if result is None:
        return
    for index, raw in enumerate(split_documents(text, result)):
        if raw is not None:
            yield index, raw


def file_error(path: str, line: int, column: int, message: str) -> Finding:
    return error("load", None, (), message).at(path, line, column)


def parse_error(path: str, text: str, rs_message: str) -> Finding:
    """yaml-rs says what is wrong; PyYAML's marks often say where more precisely."""
    found = _RS_POSITION.search(rs_message)
    line, column = (int(found.group(1)), int(found.group(2))) if found else (1, 1)
    if "recursion limit" in rs_message:  # `[[[[…` thousands deep: say the documented limit
        return file_error(path, line, column, too_deep())
    from reconciler.compose import syntax_error

    found_at = syntax_error(text)
    if found_at is not None:
        at_line, at_column, what = found_at
        return file_error(path, at_line, at_column, f"invalid YAML: {what}")
    first = rs_message.splitlines()[-1].strip() or rs_message
    reason = first if "duplicate" not in rs_message else rs_message.splitlines()[0]
    return file_error(path, line, column, f"invalid YAML: {reason}")
