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
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from functools import partial
from itertools import chain
from typing import Any

from reconciler import parse
from reconciler.findings import Finding, Path, error
from reconciler.inputs import InputError, check_depth, clean_text, quote, read_capped
from reconciler.locate import locate
from reconciler.memory import gc_paused as gc_paused  # where the other modules import it
from reconciler.memory import leave_to_exit
from reconciler.model.base import API_VERSION, Document
from reconciler.model.engine import ValidationError
from reconciler.model.kinds import KINDS
from reconciler.model.repo import Repo, Source
from reconciler.parse import ALIAS_LIMITS as ALIAS_LIMITS  # where the tests import it
from reconciler.parse import SKIP_DIRS as SKIP_DIRS  # where reconciler.incremental does
from reconciler.parse import Parsing, file_error
from reconciler.parse import discover as discover


class Loaded:
    """The documents read below a root, the files they came from, and what was wrong with
    them. (A plain class, as Repo.)"""

    def __init__(
        self,
        repo: Repo,
        findings: list[Finding] | None = None,
        files: list[str] | None = None,
        root: str = ".",
    ) -> None:
        self.repo = repo
        self.findings = [] if findings is None else findings
        self.files = [] if files is None else files
        self.root = root


# A file read here: its findings, then each document (None if refused) with its findings.
_Read = tuple[list[Finding], list[tuple[Document | None, Source, list[Finding]]]]


def load(
    root: str,
    files: Iterable[str] | None = None,
    fork: bool = False,
    parsing: Parsing | None = None,
) -> Loaded:
    """Load and validate every document below `root` (or only `files`). `fork`: most files
    are parsed in a forked child, on the second core (CLI only: never in the threaded
    operator). `parsing`: that child, already started by `reconciler.parse.start` (before
    the models were imported) for the same root and files."""
    if parsing is None and fork:
        parsing = parse.start(root, None if files is None else list(files))
    paths = parsing.paths if parsing else list(files) if files is not None else discover(root)
    loaded = Loaded(Repo(), files=paths, root=root)
    with gc_paused():
        done, end, mine = 0, len(paths), list[_Read]()
        if parsing is not None:
            done, end = _take_parsed(loaded, parsing, mine)
        left = chain(  # what a failed child left, then what was read here, in file order
            map(_read_here, paths[done:end]), reversed(mine)
        )
        for found, docs in left:
            loaded.findings.extend(found)
            for doc, source, own_findings in docs:
                loaded.findings.extend(own_findings)
                if doc is not None:
                    _register(loaded, doc, source)
        loaded.repo.index()
    if files is None and not loaded.repo.sources and not loaded.findings:
        loaded.findings.append(_empty(root, paths))
    leave_to_exit(loaded)
    return loaded


def _take_parsed(loaded: Loaded, parsing: Parsing, mine: list[_Read]) -> tuple[int, int]:
    """Add what the child parses, from the first file on; whenever no chunk is waiting, read
    files here instead, from the last one back (into `mine`, at most PARENT_SHARE of them).
    Returns (files the child gave, where the files read here begin): the two meet, unless
    the child failed, and then the files between are the caller's to read."""
    paths, stream = parsing.paths, parsing.stream
    done, end = 0, len(paths)
    floor = len(paths) - int(len(paths) * parse.PARENT_SHARE)
    while done < end:
        while end > max(done, floor) and not stream.ready():
            mine.append(_read_here(paths[end - 1]))
            end -= 1
        item = next(stream, None)
        if item is None:
            break
        findings, data = item
        count = min(len(findings), end - done)  # the rest of the chunk was read here
        _add_parsed(
            loaded, paths[done : done + count], findings[:count], marshal.loads(data)[:count]
        )
        done += count
    stream.close()  # the child may still be parsing files read here
    return done, end


def _read_here(path: str) -> _Read:
    """One file parsed and validated (the documents kept, not their raw data)."""
    findings: list[Finding] = []
    docs = []
    for raw, source, text in _documents(path, findings):
        own: list[Finding] = []
        docs.append((_checked(raw, source, text, own), source, own))
    return findings, docs


def _add_parsed(loaded: Loaded, paths: list[str], findings: list[list[Finding]], docs: Any) -> None:
    """Add what a child parsed, in file order."""
    for path, found, sent in zip(paths, findings, docs, strict=True):
        loaded.findings.extend(found)
        reread = partial(_text_again, path)  # only to point at a document nested too deeply
        for index, kind, data in sent:  # parse.as_sent
            doc = None if kind is None else _valid_json(kind, data)
            if doc is not None:
                _register(loaded, doc, Source(path, index))
            else:  # what is wrong is said from the data, as for a document read here
                import json  # (a forked parse only)

                raw = data if kind is None else json.loads(data)
                _add(loaded, raw, Source(path, index), reread)


def _text_again(path: str) -> str:
    try:
        return clean_text(read_capped(path).decode("utf-8"))
    except (InputError, UnicodeDecodeError):
        return ""


def _empty(root: str, paths: list[str]) -> Finding:
    """G1: an empty checkout or a mistyped path is an error, never an empty desired state."""
    what = "no documents in its YAML files" if paths else "no *.yaml or *.yml files"
    return file_error(root, 1, 1, f"{root} holds {what}; nothing to check or apply")


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
        findings.append(file_error(source.file, exc.line, exc.column, exc.message))
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


def _valid_json(kind: str, text: str) -> Document | None:
    """The document of a kind and apiVersion the child checked, if the schema accepts its
    JSON text (`parse.as_sent`), else None."""
    validator = _VALIDATORS.get(kind)
    if validator is None:
        return None
    try:
        return validator.validate_json(text)  # type: ignore[no-any-return]
    except ValueError:  # ValidationError, or text that is not UTF-8 (a lone surrogate)
        return None


def _documents(path: str, findings: list[Finding]) -> Iterator[tuple[Any, Source, str]]:
    """Each document of the file that parsed, with its source and the file's text."""
    for index, raw, text in parse.documents(path, findings):
        yield raw, Source(path, index), text


def _parse(text: str, path: str, findings: list[Finding]) -> Iterator[tuple[Any, Source]]:
    """Each document of `text` that parsed, with its source."""
    for index, raw in parse.parse(text, path, findings):
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


# pydantic's names for a field the schema does not have, in a model and in a dataclass.
_UNKNOWN_FIELD = frozenset({"extra_forbidden", "unexpected_keyword_argument"})


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
    elif kind in _UNKNOWN_FIELD:
        message = "unknown field"
        kind = "extra_forbidden"
    elif kind == "dataclass_type":  # the kinds are slotted dataclasses; said as of a model
        name = problem["ctx"]["class_name"]
        message = f"Input should be a valid dictionary or instance of {name}"
    elif kind == "missing":
        message = "required field is missing"
    elif kind == "string_type" and isinstance(problem.get("input"), int | float):
        message += "; quote the value so YAML reads it as text"
    value = problem.get("input")
    if isinstance(value, Decimal):  # a whole float that `as_written` made exact: as written
        value = float(value)
    got = (
        ""
        if kind in {"missing", "extra_forbidden"} or isinstance(value, dict | list)
        else (f" (got {quote(value)})")
    )
    return error("schema", source, loc, f"{shown or 'document'}: {message}{got}")


def _is_union_tag(part: object) -> bool:
    return isinstance(part, str) and (part[:1].isupper() or "[" in part or part in {"str", "int"})


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
                # half the cost of a text-mode read; \r\n and \r are line breaks to
                # the walker and the composer as much as \n
                with open(file, "rb") as handle:
                    self._texts[file] = handle.read().decode("utf-8")
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
