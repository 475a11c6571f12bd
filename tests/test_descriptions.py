"""Every field of every kind says what it is: in the JSON Schemas (editor hover), in the
CRDs (`kubectl explain`) and in the typed status. A field added without a docstring line
under it fails here."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler import crds, schemas
from reconciler.model.base import Spec, described
from reconciler.model.kinds import KINDS


def undocumented(node: Any, defs: dict[str, Any], path: str = "") -> list[str]:
    """Paths of the properties (and list items of objects) that carry no description."""
    if not isinstance(node, dict):
        return []
    if "$ref" in node:
        return undocumented(defs[node["$ref"].rsplit("/", 1)[-1]], defs, path)
    bad: list[str] = []
    for name, sub in (node.get("properties") or {}).items():
        if not str(sub.get("description") or "").strip():
            bad.append(f"{path}.{name}")
        bad += undocumented(sub, defs, f"{path}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            bad += undocumented(node[key], defs, f"{path}[]")
    for union in ("anyOf", "oneOf", "allOf"):
        for option in node.get(union) or []:
            bad += undocumented(option, defs, path)
    return bad


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_json_schema_field_has_a_description(kind: str) -> None:
    schema = schemas.schema_for(kind)
    assert undocumented(schema["properties"]["spec"], schema.get("$defs", {}), "spec") == []
    assert undocumented(schema["properties"]["metadata"], schema.get("$defs", {}), "meta") == []


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_crd_field_has_a_description(kind: str) -> None:
    schema = crds.crd_for(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert undocumented(schema, {}) == []
    assert "status" in schema["properties"]


def test_the_check_fails_on_a_field_without_a_description() -> None:
    class Probe(Spec):
        documented: int = 0
        """Says what it is."""
        bare: int = 0

    class Holder(Spec):
        probe: Probe
        """A probe."""

    described(Spec)  # as `tenantry schemas` and `tenantry crds` do
    schema = Holder.model_json_schema(by_alias=True)
    assert undocumented(schema, schema["$defs"]) == [".probe.bare"]


def test_descriptions_name_the_rule_that_uses_the_field() -> None:
    spec = schemas.schema_for("ServiceDefinition")["$defs"]["ServiceDefinitionSpec"]
    assert "(S5)" in spec["properties"]["excludes"]["description"]
    users = crds.crd_for("Occupier")["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    user = users["properties"]["spec"]["properties"]["users"]["items"]["properties"]
    assert "Wi-Fi Secure" in user["wifi"]["description"]
