"""A loaded repo must fit in memory at the scale of a real operator's chain: the documents are
slotted dataclasses (no per-object __dict__ or set of the fields given), and they still
behave like the pydantic models they replaced: frozen, compared by value, copied, dumped,
and refused with the same messages."""

from __future__ import annotations

import dataclasses
import pickle
import sys
import tracemalloc
from pathlib import Path

import pytest

from reconciler.load import Positions, load, load_text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from generate import generate  # noqa: E402


def test_a_loaded_repo_holds_under_four_bytes_per_byte_of_yaml(tmp_path: Path) -> None:
    # As pydantic models the same documents held 12 bytes per byte of YAML.
    generate(tmp_path, 3, 60)
    size = sum(p.stat().st_size for p in tmp_path.rglob("*.yaml"))
    load(str(tmp_path))  # imports and first-use caches out of the measure
    tracemalloc.start()
    try:
        loaded = load(str(tmp_path))
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(loaded.repo.sources) > 300 and not loaded.findings
    assert held < 4 * size, f"{held / size:.1f} bytes held per byte of YAML"


def test_documents_are_frozen_values() -> None:
    first = load("desired-state").repo
    again = load("desired-state").repo
    service = next(iter(first.services.values()))
    assert service == again.services[service.name]
    assert hash(service.spec) == hash(again.services[service.name].spec)
    with pytest.raises(dataclasses.FrozenInstanceError):
        service.spec.quantity = 99  # type: ignore[misc]
    assert not hasattr(service, "__dict__") and not hasattr(service.spec, "__dict__")
    assert pickle.loads(pickle.dumps(service)) == service  # what a forked child sends back


def test_copy_and_dump_as_the_models_did() -> None:
    site = next(iter(load("desired-state").repo.sites.values()))
    smaller = site.spec.model_copy(update={"spaces": site.spec.spaces[:1]})
    assert smaller.spaces == site.spec.spaces[:1] and smaller.vlans is site.spec.vlans
    assert site.spec.spaces != smaller.spaces  # the original is untouched
    dumped = site.model_dump(mode="json", by_alias=True, include={"spec"})
    assert list(dumped) == ["spec"] and dumped["spec"]["displayName"] == site.spec.display_name
    assert '"privateSupernet":{"cidr":' in site.spec.model_dump_json(by_alias=True)


def test_a_wrong_shape_and_an_unknown_field_read_as_they_did() -> None:
    text = """apiVersion: tenantry.dev/v1alpha1
kind: Occupier
metadata: {name: acme}
spec:
  displayName: Acme
  activations: [1]
  colour: red
"""
    loaded = load_text(text, "acme.yaml")
    positions = Positions()
    positions.remember("acme.yaml", text)
    found = [f.text() for f in positions.resolve(loaded.findings)]
    assert found == [
        "acme.yaml:6:16: error[schema]: spec.activations: Input should be a valid dictionary "
        "or instance of Activations",
        "acme.yaml:7:11: error[schema]: spec.colour: unknown field",
    ]
