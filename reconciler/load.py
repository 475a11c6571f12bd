"""Loader: a tree of YAML files → validated documents, and findings that point at lines.

Two parsers, one format. The fast path parses with yaml-rs (Rust, YAML 1.2) and validates
with pydantic; it keeps only (file, document index) per document. Positions are needed only
when something is wrong, so `Positions` re-reads just those files: the usual shapes are read
straight from the text (`reconciler.locate`), others composed by PyYAML (which keeps line and
column of every node) configured for the same YAML 1.2 core schema (`reconciler.compose`,
imported only then).
`tests/test_load_agreement.py` holds the two parsers to the same answers.
"""

from __future__ import annotations

import marshal
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from itertools import chain
from typing import Any, TypeVar

import yaml_rs
from pydantic import ValidationError

from reconciler.findings import Finding, Path, error, warning
from reconciler.forked import Stream, from_child
from reconciler.inputs import (
    MAX_DEPTH,
    InputError,
    bare_on,
    check_depth,
    check_tags,
    clean_text,
    position,
    quote,
    read_capped,
    split_documents,
)
from reconciler.locate import locate
from reconciler.memory import gc_paused as gc_paused  # where the other modules import it
from reconciler.model.base import API_VERSION, Document
from reconciler.model.kinds import KINDS
from reconciler.model.repo import Repo, Source

ALIAS_LIMITS = yaml_rs.AliasLimits(
    max_total_replayed_events=10_000,
    max_replay_stack_depth=16,
    max_alias_expansions_per_anchor=100,
)
_RS_POSITION = re.compile(r"line (\d+), column (\d+)")
T = TypeVar("T")
SKIP_DIRS = {".git", ".tenantry", ".venv", "node_modules", "__pycache__"}


@dataclass
class Loaded:
    repo: Repo
    findings: list[Finding] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    root: str = "."


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


# Parsing in a forked child (the CLI only) from this many files, sent back in chunks of
# CHUNK files as plain data: this process validates each chunk while the child parses the
# next, and parses files of its own (at most PARENT_SHARE of them, from the end) whenever
# no chunk is waiting.
FORK_FROM_FILES = 500
CHUNK = 50
PARENT_SHARE = 0.15

# A file read here: its findings, then each document (None if refused) with its findings.
_Read = tuple[list[Finding], list[tuple[Document | None, Source, list[Finding]]]]


def load(root: str, files: Iterable[str] | None = None, fork: bool = False) -> Loaded:
    """Load and validate every document below `root` (or only `files`). `fork`: most files
    are parsed in a forked child, on the second core (CLI only: never in the threaded
    operator)."""
    paths = list(files) if files is not None else discover(root)
    loaded = Loaded(Repo(), files=paths, root=root)
    with gc_paused():
        done, cut, mine = 0, len(paths), list[_Read]()
        if fork and len(paths) >= FORK_FROM_FILES and hasattr(os, "fork"):
            cut -= int(len(paths) * PARENT_SHARE)
            stream = from_child(lambda: _parsed_elsewhere(paths[:cut]))
            for findings, data in _meanwhile(stream, paths[cut:], mine):
                chunk = paths[done : done + len(findings)]
                _add_parsed(loaded, chunk, findings, marshal.loads(data))
                done += len(chunk)
        left = chain(  # what a failed child left, what we read meanwhile, the rest
            map(_read_here, paths[done:cut]), mine, map(_read_here, paths[cut + len(mine) :])
        )
        for found, docs in left:
            loaded.findings.extend(found)
            for doc, source, own in docs:
                loaded.findings.extend(own)
                if doc is not None:
                    _register(loaded, doc, source)
        loaded.repo.index()
    if files is None and not loaded.repo.sources and not loaded.findings:
        loaded.findings.append(_empty(root, paths))
    return loaded


def _meanwhile(stream: Stream[T], own: list[str], mine: list[_Read]) -> Iterator[T]:
    """The stream's items; while none is waiting, read the next of `own` into `mine`."""
    while True:
        while len(mine) < len(own) and not stream.ready():
            mine.append(_read_here(own[len(mine)]))
        item = next(stream, None)
        if item is None:
            return
        yield item


def _read_here(path: str) -> _Read:
    """One file parsed and validated (the documents kept, not their raw data)."""
    findings: list[Finding] = []
    docs = []
    for raw, source, text in _documents(path, findings):
        own: list[Finding] = []
        docs.append((_checked(raw, source, text, own), source, own))
    return findings, docs


def _parsed_elsewhere(paths: list[str]) -> Iterator[tuple[list[list[Finding]], bytes]]:
    """Parse `paths` (in a child), CHUNK files at a time: each file's findings, and its
    documents' (index, raw) pairs marshalled (plain data: 5× faster to send than pickled,
    10× faster to read back than to parse)."""
    for start in range(0, len(paths), CHUNK):
        findings: list[list[Finding]] = []
        docs: list[list[tuple[int, Any]]] = []
        for path in paths[start : start + CHUNK]:
            found: list[Finding] = []
            docs.append([(source.index, raw) for raw, source, _ in _documents(path, found)])
            findings.append(found)
        yield findings, marshal.dumps(docs)


def _add_parsed(
    loaded: Loaded, paths: list[str], findings: list[list[Finding]], docs: Any
) -> None:
    """Add what a child parsed, in file order."""
    for path, found, pairs in zip(paths, findings, docs, strict=True):
        loaded.findings.extend(found)
        reread = partial(_text_again, path)  # only to point at a document nested too deeply
        for index, raw in pairs:
            _add(loaded, raw, Source(path, index), reread)


def _text_again(path: str) -> str:
    try:
        return clean_text(read_capped(path).decode("utf-8"))
    except (InputError, UnicodeDecodeError):
        return ""


def _empty(root: str, paths: list[str]) -> Finding:
    """G1: an empty checkout or a mistyped path is an error, never an empty desired state."""
    what = "no documents in its YAML files" if paths else "no *.yaml or *.yml files"
    return _file_error(root, 1, 1, f"{root} holds {what}; nothing to check or apply")


def load_text(text: str, file: str = "<memory>") -> Loaded:
    """Load documents from one YAML string; used by the admission webhook and tests."""
    loaded = Loaded(Repo(), files=[file])
    for raw, source in _parse(text, file, loaded.findings):
        _add(loaded, raw, source, text)
    loaded.repo.index()
    return loaded


def _add(loaded: Loaded, raw: Any, source: Source, text: str | Callable[[], str]) -> None:
    doc = _checked(raw, source, text, loaded.findings)
    if doc is not None:
        _register(loaded, doc, source)


def _checked(
    raw: Any, source: Source, text: str | Callable[[], str], findings: list[Finding]
) -> Document | None:
    """The document if its nesting and schema are right, else None and `findings`."""
    doc = _valid(raw)
    try:
        if doc is not None:
            # the models nest far less than the limit (`test_the_models_nest_well_within_
            # the_limit`): only the free-form fields can nest deeper
            if "status" in raw:
                check_depth(raw["status"], text, depth=2)
            if "managedFields" in raw["metadata"]:
                check_depth(raw["metadata"]["managedFields"], text, depth=3)
        else:
            check_depth(raw, text)  # a deep document is refused for its depth, not its schema
    except InputError as exc:
        findings.append(_file_error(source.file, exc.line, exc.column, exc.message))
        return None
    return doc or validate_document(raw, source, findings)


def _register(loaded: Loaded, doc: Document, source: Source) -> None:
    earlier = loaded.repo.add(doc, source)
    if earlier is not None:
        loaded.findings.append(
            error(
                "duplicate",
                source,
                ("metadata", "name"),
                f"{doc.kind} '{doc.name}' is declared twice; the first is in {earlier.file}"
                f" (document {earlier.index + 1})",
                "rename one of them or delete the copy",
            )
        )


_VALIDATORS = {kind: model.__pydantic_validator__ for kind, model in KINDS.items()}


def _valid(raw: Any) -> Document | None:
    """The document if the schema accepts it, else None (and `validate_document` says why):
    the path every document of a valid repo takes, kept to one call into pydantic-core."""
    if type(raw) is not dict or raw.get("apiVersion") != API_VERSION:
        return None
    kind = raw.get("kind")
    validator = _VALIDATORS.get(kind) if type(kind) is str else None
    if validator is None:
        return None
    try:
        return validator.validate_python(raw)  # type: ignore[no-any-return]
    except ValidationError:
        return None


def _documents(path: str, findings: list[Finding]) -> Iterator[tuple[Any, Source, str]]:
    try:
        data = read_capped(path)
    except InputError as exc:
        findings.append(_file_error(path, exc.line, exc.column, exc.message))
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        findings.append(
            _file_error(path, line, column, f"file is not UTF-8 (byte 0x{data[exc.start]:02x})")
        )
        return
    for raw, source in _parse(text, path, findings):
        yield raw, source, text  # the text: to say where a document nests too deeply


def _parse(text: str, path: str, findings: list[Finding]) -> Iterator[tuple[Any, Source]]:
    """Each document of `text` that parsed, with its source."""
    try:
        text = clean_text(text)
        check_tags(text)
    except InputError as exc:
        findings.append(_file_error(path, exc.line, exc.column, exc.message))
        return
    if "\t" in text and re.search(r"^\t", text, re.M):
        line = text[: re.search(r"^\t", text, re.M).start()].count("\n") + 1  # type: ignore[union-attr]
        findings.append(_file_error(path, line, 1, "tab used for indentation; use spaces"))
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
        result = yaml_rs.loads(text, parse_datetime=False, alias_limits=ALIAS_LIMITS)
    except yaml_rs.YAMLDecodeError as exc:
        findings.append(_parse_error(path, text, str(exc)))
        return
    except RecursionError:
        findings.append(_file_error(path, 1, 1, "YAML nested too deeply"))
        return
    if result is None:
        return
    docs = split_documents(text, result)
    for index, raw in enumerate(docs):
        if raw is not None:
            yield raw, Source(path, index)


def validate_document(raw: Any, source: Source, findings: list[Finding]) -> Document | None:
    """One raw mapping → a typed document, or findings at the offending fields."""
    if not isinstance(raw, dict):
        findings.append(
            error(
                "schema",
                source,
                (),
                "a document must be a mapping with apiVersion, kind, metadata and spec",
            )
        )
        return None
    if raw.get("apiVersion") != API_VERSION:
        findings.append(
            error(
                "schema",
                source,
                ("apiVersion",),
                f"apiVersion must be {API_VERSION}, not {quote(raw.get('apiVersion'))}",
            )
        )
        return None
    kind = raw.get("kind")
    model = KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        findings.append(
            error(
                "schema",
                source,
                ("kind",),
                f"unknown kind {quote(raw.get('kind'))}; expected one of {', '.join(KINDS)}",
            )
        )
        return None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        for problem in exc.errors(include_url=False):
            findings.append(_schema_finding(source, problem))  # type: ignore[arg-type]
        return None


# Friendly names for the patterns of reconciler.model.base, so a finding says what is wanted.
_PATTERN_NAMES = {
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$": "a DNS-1123 name: lower-case letters, digits and '-',"
    " starting and ending with a letter or digit",
    r"^\+[1-9][0-9]{6,14}$": 'an E.164 phone number such as "+442079460001" (quote it)',
    r"^[0-9A-Fa-f][02468aceACE]([:-][0-9A-Fa-f]{2}){5}$": "a unicast MAC address such as"
    ' "02:00:00:00:00:01" (not broadcast or multicast)',
    r"^[A-Za-z0-9.:_][A-Za-z0-9.:_-]*$": "a host name or address, not starting with '-'",
    r"^[^\x00-\x1f\x7f]*$": "one line of text without control characters",
    r"^[^\x00-\x1f\x7f]+$": "one line of text without control characters",
    r"^[A-Za-z0-9 ._:/@+()#,-]*$": "text of letters, digits, spaces and ._:/@+()#,- only"
    " (it is sent to devices)",
    r"^[0-9]{1,4}-[0-9]{1,4}$": 'a VLAN range such as "100-899"',
}


def _schema_finding(source: Source, problem: dict[str, Any]) -> Finding:
    loc: Path = tuple(problem["loc"])
    shown = ".".join(str(p) for p in loc if not _is_union_tag(p))
    message = problem["msg"]
    kind = problem["type"]
    if kind == "string_pattern_mismatch":
        pattern = problem.get("ctx", {}).get("pattern", "")
        message = f"must be {_PATTERN_NAMES.get(pattern, 'text matching ' + pattern)}"
    elif kind == "value_error":
        message = message.removeprefix("Value error, ")
    elif kind == "extra_forbidden":
        message = "unknown field"
    elif kind == "missing":
        message = "required field is missing"
    elif kind == "string_type" and isinstance(problem.get("input"), int | float):
        message += "; quote the value so YAML reads it as text"
    value = problem.get("input")
    got = (
        ""
        if kind in {"missing", "extra_forbidden"} or isinstance(value, dict | list)
        else (f" (got {quote(value)})")
    )
    return error("schema", source, loc, f"{shown or 'document'}: {message}{got}")


def _is_union_tag(part: object) -> bool:
    return isinstance(part, str) and (part[:1].isupper() or "[" in part or part in {"str", "int"})


def _file_error(path: str, line: int, column: int, message: str) -> Finding:
    return error("load", None, (), message).at(path, line, column)


def _parse_error(path: str, text: str, rs_message: str) -> Finding:
    """yaml-rs says what is wrong; PyYAML's marks often say where more precisely."""
    found = _RS_POSITION.search(rs_message)
    line, column = (int(found.group(1)), int(found.group(2))) if found else (1, 1)
    if "recursion limit" in rs_message:  # `[[[[…` thousands deep: say the documented limit
        deep = f"nested more than {MAX_DEPTH} levels deep; desired state never needs that"
        return _file_error(path, line, column, deep)
    from reconciler.compose import syntax_error

    found_at = syntax_error(text)
    if found_at is not None:
        at_line, at_column, what = found_at
        return _file_error(path, at_line, at_column, f"invalid YAML: {what}")
    first = rs_message.splitlines()[-1].strip() or rs_message
    reason = first if "duplicate" not in rs_message else rs_message.splitlines()[0]
    return _file_error(path, line, column, f"invalid YAML: {reason}")


# ---------------------------------------------------------------- position-aware re-reading


class Positions:
    """Maps (file, document index, field path) to (line, column), reading only the files that
    have findings. The usual shapes of YAML are read straight from the text
    (`reconciler.locate`), at a small cost per finding; other files are composed by PyYAML
    once each. `fast=False` composes every file (the reference the walker is tested against).
    """

    def __init__(self, fast: bool = True) -> None:
        self.fast = fast
        self._texts: dict[str, str | None] = {}
        self._files: dict[str, list[Any]] = {}

    def _text(self, file: str) -> str | None:
        if file not in self._texts:
            try:
                with open(file, encoding="utf-8") as handle:
                    self._texts[file] = handle.read()
            except (OSError, UnicodeDecodeError):
                self._texts[file] = None
        return self._texts[file]

    def _nodes(self, file: str) -> list[Any]:
        if file not in self._files:
            from reconciler.compose import compose

            text = self._text(file)
            self._files[file] = [] if text is None else compose(text)
        return self._files[file]

    def remember(self, file: str, text: str) -> None:
        """Register in-memory text (webhook, tests) so findings on it can be located."""
        self._texts[file] = text
        self._files.pop(file, None)

    def locate(self, source: Source, path: Path) -> tuple[int, int]:
        if self.fast:
            text = self._text(source.file)
            found = None if text is None else locate(text, source.index, path)
            if found is not None:
                return found
        nodes = self._nodes(source.file)
        if source.index >= len(nodes) or nodes[source.index] is None:
            return 1, 1
        from reconciler.compose import where

        return where(nodes[source.index], path)

    def resolve(self, findings: Iterable[Finding]) -> list[Finding]:
        out = []
        for finding in findings:
            if finding.file or finding.source is None:
                out.append(finding)
                continue
            line, column = self.locate(finding.source, finding.path)
            out.append(finding.at(finding.source.file, line, column))
        return out
