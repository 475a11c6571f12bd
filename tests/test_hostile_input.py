"""Input that must be refused (or accepted) as a whole file, beyond what the corpus can hold:
FIFOs and devices, a byte-order mark, document end markers, oversized values, empty repos.
Every case runs the real CLI in a subprocess with a timeout: a hang fails the test."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.inputs import (
    MAX_DEPTH,
    InputError,
    bare_on,
    clean_text,
    document_count,
    split_documents,
)
from reconciler.load import load
from reconciler.model import KINDS

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "tests" / "corpus" / "_base"
TODAY = "2026-11-23"


def tenantry(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    result = tenantry("validate", str(path), "--today", TODAY, "--actor", "alice")
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    target = tmp_path / "repo"
    shutil.copytree(BASE, target)
    return target


def test_a_fifo_named_yaml_is_refused_without_hanging(repo: Path) -> None:
    os.mkfifo(repo / "x.yaml")
    result = validate(repo)
    assert result.returncode == 1
    assert f"{repo / 'x.yaml'}:1:1: error[load]: not a regular file (a FIFO)" in result.stdout


def test_a_symlink_to_dev_zero_is_refused_without_reading_it(repo: Path) -> None:
    (repo / "zero.yaml").symlink_to("/dev/zero")
    result = validate(repo)
    assert result.returncode == 1
    assert "zero.yaml:1:1: error[load]: not a regular file (a character device)" in result.stdout


def test_a_fifo_given_as_the_path_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "only.yaml"
    os.mkfifo(fifo)
    result = validate(fifo)
    assert result.returncode == 1
    assert "not a regular file (a FIFO)" in result.stdout


def test_a_byte_order_mark_and_a_document_end_marker_are_accepted(repo: Path) -> None:
    occupier = repo / "occupier.yaml"
    occupier.write_text("\ufeff" + occupier.read_text() + "...\n", encoding="utf-8")
    result = validate(repo)
    assert result.returncode == 0, result.stdout
    documents = len(load(str(BASE)).repo.sources)  # the BOM hides no document
    assert f"{documents} documents checked: 0 error(s)" in result.stdout


def test_a_huge_value_is_quoted_short_in_the_error(repo: Path) -> None:
    value = "x" * 7_900_000
    (repo / "big.yaml").write_text(
        "apiVersion: tenantry.dev/v1alpha1\nkind: Occupier\nmetadata: {name: big}\n"
        f"spec: {{displayName: Big, users: {value}}}\n"
    )
    result = validate(repo)
    assert result.returncode == 1
    line = next(x for x in result.stdout.splitlines() if "big.yaml" in x)
    assert "big.yaml:4:" in line and len(line) < 400, line[:500]


@pytest.mark.parametrize("files", [0, 1], ids=["no-yaml-files", "only-comments"])
def test_an_empty_repo_is_an_error_not_silence(tmp_path: Path, files: int) -> None:
    if files:
        (tmp_path / "notes.yaml").write_text("# nothing here yet\n")
    result = validate(tmp_path)
    assert result.returncode == 1
    assert f"{tmp_path}:1:1: error[load]: {tmp_path} holds no" in result.stdout


def test_nesting_beyond_the_documented_limit_is_one_line(repo: Path) -> None:
    body = "".join(" " * i + "a:\n" for i in range(1000)) + " " * 1000 + "x\n"
    (repo / "deep.yaml").write_text(body)
    result = validate(repo)
    assert result.returncode == 1
    assert f"error[load]: nested more than {MAX_DEPTH} levels deep" in result.stdout
    assert f"deep.yaml:{MAX_DEPTH + 1}:1:" in result.stdout


OCCUPIER = "apiVersion: tenantry.dev/v1alpha1\nkind: Occupier\nmetadata:\n  name: deep\n"


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize(
    ("where", "text", "line"),
    [
        ("status", f"{OCCUPIER}spec: {{displayName: D}}\nstatus: {{a: {nested(63)}}}\n", 6),
        ("managedFields", f"{OCCUPIER}  managedFields: [{nested(62)}]\nspec: {{}}\n", 5),
        ("unknown field", f"{OCCUPIER}spec: {{displayName: D, x: {nested(70)}}}\n", 5),
        ("labels", f"{OCCUPIER}  labels: {{a: {nested(70)}}}\nspec: {{}}\n", 5),
        ("a list", f"{nested(80)}\n", 1),
        ("wrong apiVersion", f"{OCCUPIER.replace('dev/v1alpha1', 'dev/v0')}x: {nested(70)}\n", 5),
    ],
)
def test_nesting_beyond_the_limit_is_refused_wherever_it_is(
    tmp_path: Path, where: str, text: str, line: int
) -> None:
    """In a field the schema ignores, in a document it refuses, or as the document: the one
    finding is the nesting limit, at its line, and the document is not loaded."""
    (tmp_path / "deep.yaml").write_text(text)
    loaded = load(str(tmp_path))
    assert [f.text() for f in loaded.findings] == [
        f"{tmp_path / 'deep.yaml'}:{line}:1: error[load]: nested more than {MAX_DEPTH} levels"
        " deep; desired state never needs that"
    ], where
    assert not loaded.repo.sources


def test_nesting_up_to_the_limit_is_accepted(tmp_path: Path) -> None:
    # the document is level 1, status 2, its mapping's list 3: 62 more lists make 64 levels
    (tmp_path / "deep.yaml").write_text(
        f"{OCCUPIER}  managedFields: [{nested(60)}]\nspec: {{displayName: D}}\n"
        f"status: {{a: {nested(62)}}}\n"
    )
    loaded = load(str(tmp_path))
    assert loaded.findings == []
    assert [ref.name for ref in loaded.repo.sources] == ["deep"]


def test_the_models_nest_well_within_the_limit() -> None:
    """The loader walks only the free-form fields of a document the schema accepted, so
    those must be exactly status and metadata.managedFields, and every other field of every
    kind must nest less deeply than the limit (and not recurse)."""
    defs: dict[str, Any] = {}
    free_form: set[tuple[str, ...]] = set()

    def depth(schema: dict[str, Any], path: tuple[str, ...], seen: tuple[str, ...]) -> int:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            assert name not in seen, f"{name} is recursive"
            return depth(defs[name], path, (*seen, name))
        below = [
            depth(choice, path, seen)
            for key in ("anyOf", "oneOf", "allOf")
            for choice in schema.get(key, [])
        ]
        if schema.get("type") == "array":
            if not schema.get("items"):
                free_form.add(path)
            below.append(1 + depth(schema.get("items", {}), path, seen))
        if schema.get("type") == "object":
            extra = schema.get("additionalProperties", False)
            if extra is True:
                free_form.add(path)
            children = [
                depth(child, (*path, key), seen)
                for key, child in schema.get("properties", {}).items()
            ]
            if isinstance(extra, dict):
                children.append(depth(extra, (*path, "*"), seen))
            below.append(1 + max(children, default=0))
        return max(below, default=0)

    for kind, model in KINDS.items():
        schema = model.model_json_schema()
        defs, free_form = schema.get("$defs", {}), set()
        assert depth(schema, (), ()) < MAX_DEPTH // 4, kind
        assert free_form == {("status",), ("metadata", "managedFields")}, kind


@pytest.mark.parametrize("opening", ["[", "{a: "])
def test_flow_nesting_thousands_deep_names_the_documented_limit(repo: Path, opening: str) -> None:
    """`[[[[…` 3,000 deep stops the YAML parser itself: the same one line as block nesting."""
    closing = "]" if opening == "[" else "}"
    (repo / "deep.yaml").write_text("a: " + opening * 3000 + "1" + closing * 3000 + "\n")
    result = validate(repo)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = [x for x in result.stdout.splitlines() if "error[" in x]
    assert line.startswith(f"{repo / 'deep.yaml'}:1:")
    assert f"error[load]: nested more than {MAX_DEPTH} levels deep" in line


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("a: 1\n", 1),
        ("---\n- a\n- b\n", 1),
        ("a: 1\n---\n- x\n", 2),
        ("---\na: 1\n...\n", 1),
        ("a: 1\n...\nb: 2\n", 2),
        ("# c\n---\n---\na: 1\n", 2),
        ("a: |\n  ---x\n---\nb: 1\n", 2),
    ],
)
def test_documents_are_counted_as_the_parser_reads_them(text: str, count: int) -> None:
    import yaml_rs

    assert document_count(text) == count
    parsed = yaml_rs.loads(text, parse_datetime=False)
    assert len(split_documents(text, parsed)) == count


# The full definitions the fast scans in reconciler.inputs must agree with.
MARKER = re.compile(r"^(---|\.\.\.)(?=[ \t\r\n]|$)", re.M)
CONTENT = re.compile(r"^[^\s#%]", re.M)
BARE_ON = re.compile(r"(?:^|[{,]|-\s)\s*(?P<key>on):", re.M)
YAMLISH = st.text(alphabet=list("-.-o:n \t\r\n{,#%ax\u00a0"), max_size=40)


@given(YAMLISH)
def test_documents_are_counted_by_their_markers(text: str) -> None:
    parts = MARKER.split(text)
    expected = (1 if CONTENT.search(parts[0]) else 0) + sum(
        1
        for marker, segment in zip(parts[1::2], parts[2::2], strict=True)
        if marker == "---" or CONTENT.search(segment)
    )
    assert document_count(text) == expected


@given(YAMLISH)
def test_a_bare_on_key_is_found_where_the_pattern_finds_it(text: str) -> None:
    found = BARE_ON.search(text)
    assert bare_on(text) == (found.start("key") if found else None)


def test_a_bare_on_key_is_a_warning_at_its_line(repo: Path) -> None:
    services = repo / "services.yaml"
    services.write_text(
        services.read_text().replace(
            "definition: voice-line, quantity: 1}",
            "definition: voice-line, quantity: 1,\n  changes: [{on: 2027-01-01, quantity: 2}]}",
        )
    )
    result = validate(repo)
    assert f"{services}:10:14: warning[yaml]: quote the key \"on\"" in result.stdout


def test_n4_an_impossible_quantity_points_at_the_quantity_line(repo: Path) -> None:
    services = repo / "services.yaml"
    text = services.read_text().replace(
        "definition: voice-line, quantity: 1}", "definition: voice-line,\n       quantity: 100000}"
    )
    services.write_text(text)
    line = text.splitlines().index("       quantity: 100000}") + 1
    result = tenantry("plan", str(repo), "--today", TODAY, "--state", str(repo / "l.db"))
    assert result.returncode == 1, result.stdout
    assert f"{services}:{line}:18: error[N4]: site hq has no free phone numbers left for acme" in (
        result.stdout
    ), result.stdout


@pytest.mark.parametrize("prefix", ["name: a", "name: é"], ids=["ascii", "not-ascii"])
def test_every_character_yaml_does_not_allow_is_refused_at_its_place(prefix: str) -> None:
    """YAML 1.2's c-printable, checked on an ASCII text with the few characters ASCII can
    hold that are outside it, and on any other text with the whole class: each of the first
    65,536 code points is refused, at line 2, exactly when YAML does not allow it."""
    allowed = re.compile("[\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd]")
    for code in range(0x10000):
        char = chr(code)
        text = f"{prefix}\nx: {char}\n"
        try:
            clean_text(text)
        except InputError as exc:
            assert not allowed.fullmatch(char), f"U+{code:04X}"
            assert (exc.line, exc.column) == (2, 4), f"U+{code:04X}"
        else:
            assert allowed.fullmatch(char), f"U+{code:04X}"
