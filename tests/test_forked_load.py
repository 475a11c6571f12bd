"""The CLI uses the second core on a large repo: a forked child parses the files, runs half
of the rules and locates half of the findings. The findings (file, line, column, rule,
message) and the loaded documents are the same as doing it all in one process, for a repo
with a warning in every file and for one with every kind of load error."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from reconciler import load as loader
from reconciler import parse
from reconciler import validate as validation
from reconciler.load import Loaded, discover
from reconciler.model.repo import Source
from reconciler.validate import validate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from generate import generate  # noqa: E402

TODAY = date(2026, 11, 23)


def outcome(root: Path, fork: bool) -> tuple[list[tuple[object, ...]], list[str]]:
    result = validate(str(root), TODAY, fork=fork)
    found = [(f.file, f.line, f.column, f.rule, f.message, f.severity) for f in result.findings]
    return found, sorted(str(ref) for ref in result.repo.sources)


@pytest.fixture(autouse=True)
def fork_small_repos(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[None]:
    """Fork from 10 files, in chunks of 7, and check that the child's files came from the
    child: all from the first, in order, and at least all but the last 30 % (the most this
    process parses itself while it waits, from the end)."""
    monkeypatch.setattr(parse, "FORK_FROM_FILES", 10)
    monkeypatch.setattr(parse, "CHUNK", 7)
    monkeypatch.setattr(parse, "PARENT_SHARE", 0.3)
    monkeypatch.setattr(validation, "PARALLEL_FROM", 10)  # rules on two cores
    monkeypatch.setattr(validation, "LOCATE_IN_TWO_FROM", 5)  # positions on two cores
    from_child: list[str] = []
    add_parsed = loader._add_parsed

    def spy(loaded: Loaded, paths: list[str], findings: Any, docs: Any) -> None:
        from_child.extend(paths)
        add_parsed(loaded, paths, findings, docs)

    monkeypatch.setattr(loader, "_add_parsed", spy)
    yield
    files = discover(str(tmp_path))
    assert from_child == files[: len(from_child)]
    if "dies" not in request.node.name:
        assert len(from_child) >= len(files) - int(len(files) * 0.3)


def test_a_warning_in_every_file_is_found_alike_when_a_child_parses(tmp_path: Path) -> None:
    generate(tmp_path, 3, 40, findings_fraction=1.0)
    forked, documents = outcome(tmp_path, fork=True)
    assert (forked, documents) == outcome(tmp_path, fork=False)
    files = discover(str(tmp_path / "occupiers"))
    assert {f[0] for f in forked} == set(files)
    assert {f[3] for f in forked} == {"S3"} and len(documents) > 200


def test_load_errors_are_found_alike_when_a_child_parses(tmp_path: Path) -> None:
    generate(tmp_path, 3, 40)
    files = discover(str(tmp_path / "occupiers"))
    first, last = files[1], files[-2]  # one parsed by the child, one here
    for path in (first, last):
        text = Path(path).read_text()
        broken = text.replace("displayName:", "displayNme:", 1)  # schema
        broken += "---\n" + "[" * 70 + "]" * 70 + "\n"  # nested too deeply
        broken += "---\napiVersion: v0\n"
        Path(path).write_text(broken)
    Path(files[3]).write_text("a: [\n")  # invalid YAML, in the child
    Path(files[-3]).write_text("a: b\n\t- c\n")  # a tab, here
    duplicate = Path(files[5]).read_text()  # the same documents twice, across the cut
    Path(files[-5]).write_text(duplicate.replace("displayName", '"on": 1\n  displayName'))
    forked, documents = outcome(tmp_path, fork=True)
    assert (forked, documents) == outcome(tmp_path, fork=False)
    rules = {f[3] for f in forked}
    assert {"load", "schema", "duplicate"} <= rules
    assert sum("nested more than" in f[4] for f in forked) == 2


def test_a_child_that_dies_midway_leaves_the_rest_to_be_read_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate(tmp_path, 3, 40, findings_fraction=0.5)
    expected = outcome(tmp_path, fork=False)
    parse_chunks = parse.chunks

    def two_then_die(paths: list[str]) -> Iterator[parse.Chunk]:
        for number, chunk in enumerate(parse_chunks(paths)):
            if number == 2:
                raise MemoryError("the child ran out of memory")
            yield chunk

    monkeypatch.setattr(parse, "chunks", two_then_die)
    monkeypatch.setattr(parse, "PARENT_SHARE", 0.0)  # nothing read here while waiting
    assert outcome(tmp_path, fork=True) == expected


def test_parsing_started_before_the_models_gives_the_same_findings(tmp_path: Path) -> None:
    """The CLI starts the child before it imports the models (`parse.start`)."""
    generate(tmp_path, 3, 40, findings_fraction=0.5)
    parsing = parse.start(str(tmp_path))
    assert parsing is not None
    result = validate(str(tmp_path), TODAY, fork=True, parsing=parsing)
    found = [(f.file, f.line, f.column, f.rule, f.message, f.severity) for f in result.findings]
    assert (found, sorted(str(ref) for ref in result.repo.sources)) == outcome(tmp_path, fork=False)


Where = list[tuple[str, int, int, str, str]]


def loaded_alike(root: Path) -> tuple[Where, list[tuple[str, Source | None]]]:
    """What a load gives (findings at their positions, each document as its repr, its
    source), one process against a forked child: the child sends most documents as JSON
    text (`parse.as_sent`), which pydantic validates in its JSON mode."""

    def seen(fork: bool) -> tuple[Where, list[tuple[str, Source | None]]]:
        loaded = loader.load(str(root), fork=fork)
        findings = loader.Positions().resolve(loaded.findings)
        where = [(f.file, f.line, f.column, f.rule, f.message) for f in findings]
        docs = [(repr(doc), loaded.repo.source(doc)) for doc in loaded.repo.all_documents()]
        return where, docs

    forked = seen(True)
    assert forked == seen(False)
    return forked


def test_every_corpus_case_loads_alike_when_a_child_parses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bad-input corpus, every case: the same findings and the same documents, so the
    JSON text the child sends validates to what the data does, field for field (money,
    dates, addresses), and a document it refuses is judged from the data as before."""
    from tests.test_corpus import CASES, materialize

    monkeypatch.setattr(parse, "FORK_FROM_FILES", 1)
    monkeypatch.setattr(parse, "PARENT_SHARE", 0.0)
    from_text = []
    valid_json = loader._valid_json

    def spy(kind: str, text: str) -> Any:
        from_text.append(kind)
        return valid_json(kind, text)

    monkeypatch.setattr(loader, "_valid_json", spy)
    for number, case in enumerate(CASES):
        (tmp_path / f"{number:03d}").mkdir()
        loaded_alike(materialize(case, tmp_path / f"{number:03d}"))
    assert len(from_text) > 5 * len(CASES)  # most documents came as text


@pytest.mark.parametrize(
    ("labels", "refused"),
    [
        ("{1: web}", True),  # a number as a key: JSON would make it text
        ("{true: web}", True),
        ("{null: web}", True),
        ("{1.5: web}", True),
        ('{"1": web}', False),  # text that looks like a number
        ('{"true": web, tier: "2"}', False),
    ],
)
def test_a_key_that_is_not_text_is_refused_alike_when_a_child_parses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, labels: str, refused: bool
) -> None:
    monkeypatch.setattr(parse, "FORK_FROM_FILES", 1)
    generate(tmp_path, 1, 12)
    path = Path(discover(str(tmp_path / "occupiers"))[0])
    text = path.read_text()
    path.write_text(text.replace("metadata:\n", f"metadata:\n  labels: {labels}\n", 1))
    findings, _ = loaded_alike(tmp_path)
    assert any(f[3] == "schema" and "labels" in f[4] for f in findings) is refused


def test_a_half_written_item_is_not_ready() -> None:
    """`Stream.ready` says an item is there only when all of it is: the parent then parses
    files of its own instead of waiting for the child to finish writing a large chunk."""
    import os
    import pickle

    from reconciler.forked import _LENGTH, Stream

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os._exit(0)  # a child that sends nothing itself: this test writes for it
    stream: Stream[str] = Stream(pid, read_end)
    data = pickle.dumps("x" * 100_000)
    os.write(write_end, _LENGTH.pack(len(data)) + data[:50_000])
    assert not stream.ready()
    os.write(write_end, data[50_000:])
    assert stream.ready()
    assert next(stream) == "x" * 100_000
    assert not stream.ready()
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # its copy of the pipe is closed
    os.close(write_end)
    assert stream.ready()  # the end is there
    assert next(stream, None) is None


@pytest.mark.parametrize(
    ("price", "refused"),
    [
        (".nan", True),
        (".inf", True),
        ("-.inf", True),
        ("1e400", True),  # past a float: infinite
        ("99999999999999999999999999", True),
        ("1e20", True),
        ("1.005", True),
        ('"1e3"', True),
        ("30.0", False),  # a whole number with a point: Decimal("30.0") either way
        ("100.00", False),
        ("1e2", False),
        ("-0.0", False),
        ("30.5", False),
    ],
)
def test_numbers_json_writes_differently_are_judged_alike_when_a_child_parses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, price: str, refused: bool
) -> None:
    """A price that JSON writes differently from YAML (not a number, infinite, past a float,
    a whole number with a point) gets the same finding, or the same Decimal, as when read
    in one process: `loaded_alike` compares the documents' reprs, digits and exponent."""
    monkeypatch.setattr(parse, "FORK_FROM_FILES", 1)
    generate(tmp_path, 1, 12)
    occupiers = map(Path, discover(str(tmp_path / "occupiers")))
    path = next(p for p in occupiers if "price:" in p.read_text())
    path.write_text(re.sub(r"price: .*", f"price: {price}", path.read_text(), count=1))
    findings, _ = loaded_alike(tmp_path)
    assert any("price" in f[4] for f in findings) is refused


# Values YAML can give a field that JSON writes differently or pydantic's JSON mode may read
# differently: numbers past 64 bits, whole and negative-zero floats, non-finite floats,
# text that looks like a number, a date or an address, empty and nested collections.
TRICKY: list[Any] = [
    0,
    1,
    -1,
    2**63,
    10**30,
    0.0,
    -0.0,
    1.0,
    30.0,
    1.5,
    1e20,
    1e-7,
    float("inf"),
    float("nan"),
    True,
    False,
    None,
    "",
    "1",
    "1.0",
    "true",
    "2026-01-01",
    "2026-13-01",
    "10.0.0.1",
    "10.0.0.0/24",
    "é",
    "a\nb",
    [],
    {},
    [1],
    {"a": 1},
    "monthly",
    "Active",
    "+442070000001",
    4094,
    4095,
    100_000,
    100_001,
    # what orjson refuses (the document is sent as data) or writes as null (json writes it)
    2**64,
    -(2**63) - 1,
    "\ud800",
    {1: "a"},
    {"1": "a"},
    {None: "a"},
    "null",
    [None, float("nan")],
]


def judged(validate_one: Any, data: Any) -> str:
    """The document a validator makes of `data` (its repr), or that it refused it."""
    try:
        return repr(validate_one(data))
    except ValueError:
        return "refused"


def test_json_text_and_data_validate_alike_on_mutated_documents() -> None:
    """Thousands of documents (the example repo and the bad-input corpus), one or two
    fields each set to a tricky value: whenever the child would send a document as JSON
    text, pydantic's JSON mode accepts it exactly when the data is accepted, to the same
    document (its repr: every field, each Decimal's digits and exponent)."""
    import copy
    import random

    from reconciler.load import _VALIDATORS

    pool: list[Any] = []
    for root in (ROOT / "desired-state", ROOT / "tests" / "corpus"):
        for path in discover(str(root)):
            pool.extend(raw for _, raw, _ in parse.documents(path, []))
    rng = random.Random(18)

    def leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
        if isinstance(node, dict):
            for key, value in node.items():
                yield from leaves(value, (*path, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from leaves(value, (*path, index))
        if path:
            yield path

    compared = accepted = 0
    for _ in range(4000):
        raw = copy.deepcopy(rng.choice(pool))
        paths = list(leaves(raw))
        for path in rng.sample(paths, min(len(paths), rng.randint(1, 2))):
            node = raw
            try:  # (the first change may have replaced the second's parent)
                for part in path[:-1]:
                    node = node[part]
                node[path[-1]] = copy.deepcopy(rng.choice(TRICKY))
            except (TypeError, KeyError, IndexError):
                pass
        _, kind, text = parse.as_sent(0, raw)
        validator = _VALIDATORS.get(kind) if kind is not None else None
        if validator is None:
            continue
        outcomes = (judged(validator.validate_python, raw), judged(validator.validate_json, text))
        assert outcomes[0] == outcomes[1], (kind, raw)
        compared += 1
        accepted += outcomes[0] != "refused"
    assert compared > 2000 and accepted > 100


@pytest.mark.parametrize(
    ("phone_apart_below", "child_dies"), [(10**9, False), (0, False), (10**9, True)]
)
def test_numbers_are_judged_alike_by_a_child_of_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, phone_apart_below: int, child_dies: bool
) -> None:
    """T2 asks libphonenumber (50 ms to start): on a smaller repo it runs in a third process.
    A bad block end and a number outside the blocks are found as in one process, and so
    they are when that child dies: its rule then runs here."""
    monkeypatch.setattr(validation, "PHONE_APART_BELOW", phone_apart_below)
    generate(tmp_path, 3, 40, findings_fraction=0.5)
    site = Path(discover(str(tmp_path / "sites"))[0])
    site.write_text(re.sub(r'last: "\+\d+"', 'last: "+440000000999"', site.read_text(), count=1))
    occupier = Path(discover(str(tmp_path / "occupiers"))[-1])
    number = re.search(r'number: "(\+\d+)"', occupier.read_text())
    assert number is not None
    occupier.write_text(occupier.read_text().replace(number[1], "+999123456789"))
    expected = outcome(tmp_path, fork=False)
    t2 = [f[4] for f in expected[0] if f[3] == "T2"]
    assert any("+440000000999 is not a valid phone number" in message for message in t2)
    assert any("+999123456789 is not a valid phone number" in message for message in t2)
    if child_dies:
        placed = validation._placed

        def t2_dies(repo: Any, ctx: Any, rules: frozenset[str]) -> list[Any]:
            if "T2" in rules:
                raise MemoryError("the child ran out of memory")
            return placed(repo, ctx, rules)

        monkeypatch.setattr(validation, "_placed", t2_dies)
    assert outcome(tmp_path, fork=True) == expected
