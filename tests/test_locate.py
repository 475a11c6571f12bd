"""Positions read straight from the text (reconciler.locate) are the composer's positions:
for every field of every test file, for the findings of every bad-input case, and for a
generated repo with a finding in every file. Shapes the walker does not read fall back to
the composer, so they are located all the same."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import yaml

from reconciler.compose import PositionLoader
from reconciler.findings import Finding, Severity
from reconciler.load import Positions, discover, load
from reconciler.locate import locate
from reconciler.model.repo import Source
from reconciler.rules import Context
from reconciler.validate import run_rules
from tests.test_corpus import CASES, Case, materialize

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from generate import generate  # noqa: E402

TODAY = date(2026, 11, 23)


def field_paths(
    node: yaml.Node, prefix: tuple[str | int, ...] = ()
) -> Iterator[tuple[str | int, ...]]:
    """Every field of a composed document, and paths that lead nowhere from each of them
    (a missing key, a union tag, an index past the end), as findings name them."""
    yield prefix
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                yield from field_paths(value, (*prefix, key.value))
        yield (*prefix, "missing")
        yield (*prefix, "str", "function-after[x]")
        yield (*prefix, 0)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from field_paths(item, (*prefix, index))
        yield (*prefix, len(node.value))
        yield (*prefix, "name")
    else:
        yield (*prefix, "deeper")


def disagreements(text: str) -> tuple[int, int, list[str]]:
    """(paths located by the walker, paths it left to the composer, disagreements)."""
    nodes = list(yaml.compose_all(text, Loader=PositionLoader))
    reference = Positions(fast=False)
    reference.remember("f.yaml", text)
    read = unsure = 0
    wrong = []
    for index, node in enumerate(nodes):
        for path in field_paths(node):
            expected = reference.locate(Source("f.yaml", index), path)
            got = locate(text, index, path)
            if got is None:
                unsure += 1
            elif got != expected:
                wrong.append(f"document {index} {path}: {got} != {expected}")
            else:
                read += 1
    return read, unsure, wrong


def test_locate_agrees_with_the_composer_on_every_test_file() -> None:
    files = discover(str(ROOT / "tests" / "corpus")) + discover(str(ROOT / "desired-state"))
    total_read = 0
    for file in files:
        try:
            text = Path(file).read_text(encoding="utf-8")
            if "&" in text and "*" in text:
                continue  # aliases: exponentially many paths, and the walker never reads them
            read, _unsure, wrong = disagreements(text)
        except (UnicodeDecodeError, yaml.YAMLError, RecursionError):
            continue  # files that do not parse have no fields to locate
        assert wrong == [], file
        total_read += read
    assert total_read > 10_000


def test_locate_reads_every_field_of_the_examples_and_generated_repos(tmp_path: Path) -> None:
    generate(tmp_path, 2, 6, findings_fraction=1.0)
    files = discover(str(ROOT / "desired-state")) + discover(str(tmp_path))
    for file in files:
        read, unsure, wrong = disagreements(Path(file).read_text(encoding="utf-8"))
        assert (unsure, wrong) == (0, []), file
        assert read > 0


SHAPES = {
    "block": "a: 1\nb:\n  c: x\n  d: [1, {e: f}]\n  g: {h: [i, j], k: ''}\n",
    "same-indent sequence": "a:\n- x\n- y: 1\n  z: 2\nb: 3\n",
    "nested sequences": "- - a\n  - b\n- - c\n-\n  d: 1\n",
    "empty values": "a:\nb: ''\nc: \"\"\nd: ~\ne: null\nf: {g: , h: ''}\ni: [\"\"]\n",
    "comments": "# head\na: 1 # one\n# between\nb: # none\n  # inside\n  c: 2\n",
    "crlf": "a: 1\r\nb:\r\n  c: [1, 2]\r\n  d: x\r\n",
    "documents": "# c\n---\na: 1\n---\n\n# d\nb: [2]\n",
    "empty document": "a: 1\n---\n---\nb: 2\n",
    "no leading marker": "a: 1\n---\nb: 2\n",
    "multi-line plain": "a: one\n  two\nb: 3\n",
    "quoted with colons": "a: 'x: y'\nb: \"#z, [w]\"\nc: {d: \"e: f\", g: 'it''s'}\n",
    "keys with dots": "metadata:\n  labels:\n    app.kubernetes.io/name: x\n    k-1_2: y\n",
    "indented root": "  a: 1\n  b:\n    - c\n",
    "spaced flow": "a: {  b :  1 ,c: [ d ,e ] }\n",
    "quoted key": 'a:\n  "b": 1\n  c: 2\n',
    "anchors": "a: &x {b: 1}\nc: *x\nd: !!str e\n",
    "block scalar": "a: |\n  b: c\n  - d\ne: >-\n  f\n",
    "multi-line flow": "a: {b: 1,\n  c: 2}\nd: 3\n",
    "multi-line quoted": 'a: "b\n  c"\nd: 4\n',
    "escapes": 'a: "b\\"c"\nd: 5\n',
    "complex key": "? a\n: 1\nb: 2\n",
}


@pytest.mark.parametrize("text", SHAPES.values(), ids=SHAPES.keys())
def test_locate_agrees_on_each_shape_or_leaves_it_to_the_composer(text: str) -> None:
    _read, _unsure, wrong = disagreements(text)
    assert wrong == []


def test_locate_reads_the_usual_shapes() -> None:
    usual = [
        k
        for k in SHAPES
        if k
        not in {
            "anchors",
            "block scalar",
            "multi-line flow",
            "multi-line quoted",
            "escapes",
            "complex key",
            "quoted key",
            "empty document",
        }
    ]
    for name in usual:
        _read, unsure, _wrong = disagreements(SHAPES[name])
        assert unsure == 0, name


def located(findings: list[Finding], fast: bool) -> list[tuple[str, int, int, str, str]]:
    return sorted(
        (f.file, f.line, f.column, f.rule, f.message)
        for f in Positions(fast=fast).resolve(findings)
    )


def raw_findings(root: Path, actor: str | None = None) -> list[Finding]:
    return run_rules(load(str(root)), Context(today=TODAY, actor=actor))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_findings_of_each_bad_input_are_located_as_by_the_composer(
    case: Case, tmp_path: Path
) -> None:
    repo = materialize(case, tmp_path)
    actor = case.args[1] if case.args[:1] == ["--actor"] else None
    findings = raw_findings(repo, actor)
    assert findings
    assert located(findings, fast=True) == located(findings, fast=False)


def test_a_finding_in_every_file_is_located_as_by_the_composer(tmp_path: Path) -> None:
    generate(tmp_path, 3, 30, findings_fraction=1.0)
    findings = raw_findings(tmp_path)
    occupier_files = discover(str(tmp_path / "occupiers"))
    assert {f.source.file for f in findings if f.source} == set(occupier_files)
    assert {f.rule for f in findings} == {"S3"}
    fast = located(findings, fast=True)
    assert fast == located(findings, fast=False)
    assert all(line > 1 for _file, line, _col, _rule, _msg in fast)


def test_a_located_finding_keeps_every_other_field() -> None:
    # Finding.at names every field: a new one must be added there too
    assert list(Finding._fields) == [
        "rule", "severity", "message", "source", "path", "hint", "file", "line", "column", "on"
    ]  # fmt: skip
    finding = Finding(
        "S3", Severity.WARNING, "m", Source("f.yaml", 2), ("spec", "price"), "h", on=TODAY
    )
    assert finding.at("f.yaml", 7, 3) == finding._replace(file="f.yaml", line=7, column=3)


@pytest.mark.parametrize("newline", [b"\r\n", b"\r"], ids=["crlf", "cr"])
def test_a_file_with_other_line_breaks_is_located_as_read_in_text_mode(
    tmp_path: Path, newline: bytes
) -> None:
    text = "---\na: 1\n---\nb:\n  c: [1, 2]\n  d: x\n"
    file = tmp_path / "f.yaml"
    file.write_bytes(text.encode().replace(b"\n", newline))
    reference = Positions(fast=False)
    reference.remember(str(file), file.read_text(encoding="utf-8"))  # text mode: \n only
    for index, path in [(0, ("a",)), (1, ("b", "d")), (1, ("b", "c", 1))]:
        source = Source(str(file), index)
        assert Positions().locate(source, path) == reference.locate(source, path)
