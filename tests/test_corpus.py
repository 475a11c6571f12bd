"""The bad-input corpus: every case must fail `tenantry validate` with the expected finding at
the expected file and line, and never with a traceback.

A case is `tests/corpus/<name>.yaml` or a directory `tests/corpus/<name>/`. It is copied next
to the valid documents of `tests/corpus/_base/` (a case file named like a base file replaces
it) and validated as of TODAY. The case file carrying the expectation starts with comment
lines:

    # expect: S5 line 14           rule id and the line of the finding in this file (required)
    # message: telephony 1/0       text the finding's message must contain (optional)
    # args: --actor mallory        extra command-line arguments (optional)
    # replaces: site.yaml, ...     base files to leave out; `all` for a self-contained case
    # schema-invalid: true         the JSON Schemas in schemas/ must reject the case too
    # xfail: <reason>              a known validator bug (strict: passes once fixed)
    # about: ...                   what the case shows
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml_rs
from click.testing import CliRunner

from reconciler import schemas
from reconciler.cli import main
from reconciler.inputs import MAX_FILE_BYTES
from reconciler.model import KINDS

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
BASE = CORPUS / "_base"
SCHEMAS = ROOT / "schemas"
TODAY = "2026-11-23"
HEADER = re.compile(r"^#\s*([a-z-]+):\s*(.*?)\s*$")
EXPECT = re.compile(r"^(?P<rule>[A-Za-z0-9]+) line (?P<line>[0-9]+)$")


@dataclass
class Case:
    name: str
    files: dict[str, Path]  # name in the materialized repo -> file in the corpus
    target: str  # the file carrying the header, as named in the repo
    rule: str
    line: int
    header: dict[str, str] = field(default_factory=dict)

    @property
    def args(self) -> list[str]:
        return self.header.get("args", "").split()

    @property
    def replaces(self) -> set[str]:
        return {p.strip() for p in self.header.get("replaces", "").split(",") if p.strip()}

    @property
    def schema_invalid(self) -> bool:
        return self.header.get("schema-invalid", "false") == "true"


def read_header(path: Path) -> dict[str, str]:
    """The leading comment lines of a file (bytes: some cases are not UTF-8 on purpose)."""
    header: dict[str, str] = {}
    for raw in path.read_bytes().splitlines():
        line = raw.decode("utf-8", errors="replace")
        if not line.startswith("#"):
            break
        found = HEADER.match(line)
        if found:
            header[found.group(1)] = found.group(2)
    return header


def discover() -> list[Case]:
    cases = []
    for entry in sorted(CORPUS.iterdir()):
        if entry.name.startswith(("_", ".")):
            continue
        if entry.is_dir():
            files = {p.relative_to(entry).as_posix(): p
                     for p in sorted(entry.rglob("*")) if p.is_file()}
        else:
            files = {entry.name: entry}
        targets = [(name, read_header(path)) for name, path in files.items()
                   if "expect" in read_header(path)]
        assert len(targets) == 1, f"{entry}: exactly one file must carry '# expect:'"
        target, header = targets[0]
        expect = EXPECT.match(header["expect"])
        assert expect, f"{entry}: '# expect: {header['expect']}' is not 'RULE line N'"
        cases.append(Case(entry.name.removesuffix(".yaml"), files, target, expect["rule"],
                          int(expect["line"]), header))
    return cases


CASES = discover()


def materialize(case: Case, into: Path) -> Path:
    repo = into / "repo"
    repo.mkdir()
    if "all" not in case.replaces:
        for base in sorted(BASE.iterdir()):
            if base.name not in case.replaces and base.name not in case.files:
                shutil.copy(base, repo / base.name)
    for name, source in case.files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, repo / name)
    return repo


def run(path: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["validate", str(path), "--today", TODAY, *args])


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 55


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=c.name, marks=[pytest.mark.xfail(reason=c.header["xfail"], strict=True)]
                  if "xfail" in c.header else []) for c in CASES],
)
def test_case(case: Case, tmp_path: Path) -> None:
    repo = materialize(case, tmp_path)
    result = run(repo, *case.args)
    output = result.output
    assert "Traceback" not in output, output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"validate raised {result.exception!r}\n{output}")
    assert result.exit_code == 1, output
    target = re.escape(str(repo / case.target))
    wanted = re.compile(rf"^{target}:{case.line}:\d+: error\[{re.escape(case.rule)}\]: (.*)$",
                        re.M)
    found = wanted.findall(output)
    assert found, f"no error[{case.rule}] at {case.target}:{case.line} in:\n{output}"
    if "message" in case.header:
        assert any(case.header["message"] in message for message in found), output


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(BASE, repo)
    big = repo / "big.yaml"
    line = "# padding " + "x" * 1013 + "\n"
    with big.open("w") as out:
        for _ in range(MAX_FILE_BYTES // len(line) + 2):
            out.write(line)
    assert big.stat().st_size > MAX_FILE_BYTES
    result = run(repo)
    assert "Traceback" not in result.output
    assert result.exit_code == 1, result.output
    assert re.search(rf"^{re.escape(str(big))}:1:1: error\[load\]: .*limit", result.output, re.M)


def test_base_is_valid() -> None:
    result = run(BASE, "--actor", "alice")
    assert result.exit_code == 0, result.output
    assert "warning[" not in result.output


# ------------------------------------------------------- JSON Schemas agree with the models


def test_checked_in_schemas_are_current() -> None:
    """The files in schemas/ (what editors and CI use) are what the models generate; the
    agreement tests below use the generated text so that one stale file fails here, once."""
    assert schemas.stale(SCHEMAS) == [], "schemas/ is out of date: run `tenantry schemas`"


@cache
def schema_validator(kind: str) -> jsonschema.Draft202012Validator:
    schema = json.loads(schemas.render_all()[schemas.file_name(kind)])
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def schema_documents(path: Path) -> list[dict[str, Any]] | None:
    """The documents of a file as the tool parses them (YAML 1.2 core, dates as strings), or
    None when the file does not parse; only documents of a known kind are kept."""
    try:
        loaded = yaml_rs.loads(path.read_text(encoding="utf-8"), parse_datetime=False)
    except (UnicodeDecodeError, yaml_rs.YAMLDecodeError, RecursionError):
        return None
    docs = loaded if isinstance(loaded, list) else [loaded]
    kinds = {kind.lower() for kind in KINDS}
    return [d for d in docs if isinstance(d, dict) and str(d.get("kind", "")).lower() in kinds]


def schema_errors(doc: dict[str, Any]) -> list[str]:
    validator = schema_validator(str(doc["kind"]))
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(doc)]


def test_base_matches_json_schemas() -> None:
    for path in sorted(BASE.glob("*.yaml")):
        docs = schema_documents(path)
        assert docs, path
        for doc in docs:
            assert schema_errors(doc) == [], (path, doc["metadata"])


SCHEMA_LEVEL = {"schema"}
PARSE_LEVEL = {"load"}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_agrees_with_json_schemas(case: Case) -> None:
    """`schema-invalid: true` cases are rejected by the JSON Schemas as well; cases that fail
    a rule beyond the schema (S*, N*, T*, D*, P1, ref, duplicate) are schema-valid, so the
    editor and the tool disagree only where a rule needs more than one document."""
    if case.rule in PARSE_LEVEL:
        pytest.skip("does not parse as YAML")
    errors = []
    for path in case.files.values():
        for doc in schema_documents(path) or []:
            errors += schema_errors(doc)
    if case.schema_invalid:
        assert errors, f"{case.name}: the JSON Schemas accept what the tool refuses"
    elif case.rule not in SCHEMA_LEVEL:
        assert errors == [], f"{case.name}: the JSON Schemas refuse a schema-valid case"
