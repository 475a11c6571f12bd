"""Loader: a tree of YAML files → validated documents, and findings that point at lines.

Two parsers, one format. The fast path parses with yaml-rs (Rust, YAML 1.2) and validates
with pydantic; it keeps only (file, document index) per document. Positions are needed only
when something is wrong, so `Positions` re-reads just those files: the usual shapes are read
straight from the text (`reconciler.locate`), others composed by PyYAML (which keeps line and
column of every node) configured for the same YAML 1.2 core schema.
`tests/test_load_agreement.py` holds the two parsers to the same answers.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
import yaml_rs
from pydantic import ValidationError

from reconciler.findings import Finding, Path, error, warning
from reconciler.inputs import (
    MAX_DEPTH,
    InputError,
    check_depth,
    check_tags,
    clean_text,
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
# `on:` as a mapping key: YAML 1.2 (this tool) reads the text "on", YAML 1.1 (kubectl) true.
_BARE_ON = re.compile(r"(?:^|[{,]|-\s)\s*(?P<key>on):", re.M)
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


def load(root: str, files: Iterable[str] | None = None) -> Loaded:
    """Load and validate every document below `root` (or only `files`)."""
    paths = list(files) if files is not None else discover(root)
    loaded = Loaded(Repo(), files=paths, root=root)
    with gc_paused():
        for path in paths:
            for doc, source in _documents(path, loaded.findings):
                _add(loaded, doc, source)
        loaded.repo.index()
    if files is None and not loaded.repo.sources and not loaded.findings:
        loaded.findings.append(_empty(root, paths))
    return loaded


def _empty(root: str, paths: list[str]) -> Finding:
    """G1: an empty checkout or a mistyped path is an error, never an empty desired state."""
    what = "no documents in its YAML files" if paths else "no *.yaml or *.yml files"
    return _file_error(root, 1, 1, f"{root} holds {what}; nothing to check or apply")


def load_text(text: str, file: str = "<memory>") -> Loaded:
    """Load documents from one YAML string; used by the admission webhook and tests."""
    loaded = Loaded(Repo(), files=[file])
    for raw, source in _parse(text, file, loaded.findings):
        _add(loaded, raw, source)
    loaded.repo.index()
    return loaded


def _add(loaded: Loaded, raw: Any, source: Source) -> None:
    doc = validate_document(raw, source, loaded.findings)
    if doc is None:
        return
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


def _documents(path: str, findings: list[Finding]) -> Iterator[tuple[Any, Source]]:
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
    yield from _parse(text, path, findings)


def _parse(text: str, path: str, findings: list[Finding]) -> Iterator[tuple[Any, Source]]:
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
    bare_on = _BARE_ON.search(text) if "on:" in text else None  # the regex alone costs 0.3 s
    if bare_on is not None:
        line = text.count("\n", 0, bare_on.start("key")) + 1
        column = bare_on.start("key") - text.rfind("\n", 0, bare_on.start("key"))
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
        if raw is None:
            continue
        try:
            check_depth(raw, text)
        except InputError as exc:
            findings.append(_file_error(path, exc.line, exc.column, exc.message))
            continue
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
    model = KINDS.get(raw.get("kind"))  # type: ignore[arg-type]
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
    try:
        for _ in yaml.compose_all(text, Loader=PositionLoader):
            pass
    except RecursionError:
        pass  # PyYAML gives up on deep nesting; yaml-rs's own position is the best we have
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if mark is not None:
            what = exc.problem or exc.context or "invalid YAML"
            return _file_error(path, mark.line + 1, mark.column + 1, f"invalid YAML: {what}")
    first = rs_message.splitlines()[-1].strip() or rs_message
    reason = first if "duplicate" not in rs_message else rs_message.splitlines()[0]
    return _file_error(path, line, column, f"invalid YAML: {reason}")


# ---------------------------------------------------------------- position-aware re-reading


class PositionLoader(yaml.SafeLoader):
    """PyYAML configured for the YAML 1.2 core schema (as yaml-rs), refusing duplicate keys."""

    yaml_implicit_resolvers = {}  # noqa: RUF012 - PyYAML's own class-level registry

    def compose_node(self, parent: Any, index: Any) -> Any:
        node = super().compose_node(parent, index)
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, Any] = {}
            for key, _value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        raise yaml.constructor.ConstructorError(
                            "while reading a mapping",
                            node.start_mark,
                            f"duplicate key {key.value!r} (first at line "
                            f"{seen[key.value].start_mark.line + 1})",
                            key.start_mark,
                        )
                    seen[key.value] = key
        return node


for _tag, _regexp, _first in [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (
        "tag:yaml.org,2002:int",
        r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$",
        list("-+0123456789"),
    ),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+.0123456789"),
    ),
]:
    PositionLoader.add_implicit_resolver(_tag, re.compile(_regexp), _first)


def _construct_int12(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    value = str(loader.construct_scalar(node))
    if value.startswith("0o"):
        return int(value[2:], 8)
    if value.startswith("0x"):
        return int(value[2:], 16)
    return int(value)


PositionLoader.add_constructor("tag:yaml.org,2002:int", _construct_int12)


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
            text = self._text(file)
            try:
                nodes = [] if text is None else list(yaml.compose_all(text, Loader=PositionLoader))
            except yaml.YAMLError:
                nodes = []
            self._files[file] = nodes
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
        node = nodes[source.index]
        for part in path:
            child = _child(node, part)
            if child is None:
                continue  # a union tag or a missing field: stay at the closest parent
            node = child
        return node.start_mark.line + 1, node.start_mark.column + 1

    def resolve(self, findings: Iterable[Finding]) -> list[Finding]:
        out = []
        for finding in findings:
            if finding.file or finding.source is None:
                out.append(finding)
                continue
            line, column = self.locate(finding.source, finding.path)
            out.append(finding.at(finding.source.file, line, column))
        return out


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if key.value == part:
                return value if not isinstance(value, yaml.ScalarNode) or value.value else key
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
    return None
