"""The fast parser (yaml-rs) and the position-aware one (PyYAML configured for the YAML 1.2
core schema) must read this format the same way, or a finding could point at a value the
validator never saw."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
import yaml_rs

from reconciler.compose import PositionLoader
from reconciler.load import ALIAS_LIMITS, discover, load_text

ROOT = Path(__file__).resolve().parent.parent

# YAML 1.1 and 1.2 disagree on these; the format is YAML 1.2 (core schema), dates as text.
AMBIGUOUS = """\
yes: yes
no: no
on: on
off: off
y: y
octal: 0755
octal12: 0o17
hex: 0x1F
sexagesimal: 12:30
date: 2026-01-01
quoted_date: "2026-01-01"
float: 1e3
dotted: 1.5
inf: .inf
null1: ~
null2: null
empty:
bool: true
Bool: True
number: +442079460001
version: 1.10
"""


def pyyaml_12(text: str) -> list[Any]:
    loader = PositionLoader(text)
    try:
        docs = []
        while loader.check_node():
            docs.append(loader.construct_document(loader.get_node()))
        return docs
    finally:
        loader.dispose()


def rust(text: str) -> list[Any]:
    result = yaml_rs.loads(text, parse_datetime=False, alias_limits=ALIAS_LIMITS)
    if result is None:
        return []
    return result if isinstance(result, list) and "\n---" in text else [result]


def test_yaml_12_scalars_agree() -> None:
    assert pyyaml_12(AMBIGUOUS) == rust(AMBIGUOUS)
    [doc] = rust(AMBIGUOUS)
    assert doc["yes"] == "yes" and doc["on"] == "on"  # not booleans (YAML 1.1 would say True)
    assert doc["octal"] == 755 and doc["octal12"] == 15 and doc["hex"] == 31
    assert doc["sexagesimal"] == "12:30" and doc["date"] == "2026-01-01"
    assert doc["float"] == 1000.0 and doc["bool"] is True and doc["Bool"] is True


@pytest.mark.parametrize("path", discover(str(ROOT / "desired-state")), ids=lambda p: p)
def test_desired_state_reads_the_same(path: str) -> None:
    text = Path(path).read_text()
    assert pyyaml_12(text) == rust(text)


def test_duplicate_keys_are_refused_by_both() -> None:
    text = "a: 1\nb: {x: 1, x: 2}\n"
    with pytest.raises(yaml_rs.YAMLDecodeError):
        yaml_rs.loads(text)
    with pytest.raises(yaml.YAMLError) as info:
        pyyaml_12(text)
    assert "duplicate key 'x'" in str(info.value)


def test_a_finding_points_at_the_line_of_the_field() -> None:
    text = (
        "apiVersion: tenantry.dev/v1alpha1\nkind: Contract\nmetadata: {name: c1}\nspec:\n"
        "  occupier: acme\n  site: hq\n  start: 2026-01-01\n  atEnd: maybe\n"
    )
    from reconciler.load import Positions

    loaded = load_text(text, "contract.yaml")
    positions = Positions()
    positions.remember("contract.yaml", text)
    [finding] = positions.resolve(loaded.findings)
    assert (finding.file, finding.line, finding.column) == ("contract.yaml", 8, 10)
    assert "spec.atEnd" in finding.message
