"""The CRDs are generated from the models, structural, and up to date in the chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler import crds
from reconciler.model.kinds import KINDS

CHART_CRDS = Path(__file__).parents[2] / "charts" / "tenantry" / "crds"


def test_chart_crds_are_up_to_date() -> None:
    """`tenantry crds --check`: fails when the models changed and the CRDs were not rebuilt."""
    assert crds.stale(CHART_CRDS) == [], "run `tenantry crds`"


def test_crds_check_command_fails_when_stale(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from reconciler.cli import main

    runner = CliRunner()
    assert runner.invoke(main, ["crds", "--out", str(tmp_path)]).exit_code == 0
    assert runner.invoke(main, ["crds", "--out", str(tmp_path), "--check"]).exit_code == 0
    (tmp_path / crds.file_name("Occupier")).write_text("stale\n")
    result = runner.invoke(main, ["crds", "--out", str(tmp_path), "--check"])
    assert result.exit_code == 1
    assert "occupiers.tenantry.dev.yaml: out of date" in result.output


def _walk(node: Any, path: str = "") -> list[str]:
    """Violations of the structural-schema rules the apiserver enforces."""
    bad: list[str] = []
    if not isinstance(node, dict):
        return bad
    for key in ("$ref", "$defs", "anyOf", "oneOf", "allOf", "const", "default", "title"):
        if key in node:
            bad.append(f"{path}: {key}")
    if "type" not in node and not node.get("x-kubernetes-preserve-unknown-fields"):
        bad.append(f"{path}: no type")
    if "properties" in node and "additionalProperties" in node:
        bad.append(f"{path}: properties and additionalProperties")
    for name, sub in (node.get("properties") or {}).items():
        bad += _walk(sub, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        bad += _walk(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        bad += _walk(node["additionalProperties"], f"{path}{{}}")
    return bad


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_crd_is_structural_with_status_and_columns(kind: str) -> None:
    crd = crds.crd_for(kind)
    version = crd["spec"]["versions"][0]
    schema = version["schema"]["openAPIV3Schema"]
    assert _walk(schema) == []
    assert version["subresources"] == {"status": {}}
    assert schema["properties"]["status"]["x-kubernetes-preserve-unknown-fields"] is True
    columns = [c["name"] for c in version["additionalPrinterColumns"]]
    assert "Age" in columns
    assert crd["spec"]["names"]["shortNames"]
    assert crd["spec"]["scope"] == "Cluster"


def test_occupier_columns_and_short_names() -> None:
    names = {kind: crds.crd_for(kind)["spec"]["names"]["shortNames"] for kind in KINDS}
    assert names == {
        "Site": ["site"],
        "ServiceDefinition": ["sdef"],
        "Occupier": ["occ"],
        "Contract": ["ctr"],
        "Service": ["tsvc"],
    }
    columns = crds.crd_for("Occupier")["spec"]["versions"][0]["additionalPrinterColumns"]
    assert [c["name"] for c in columns] == [
        "Phase",
        "Services",
        "Ports",
        "Numbers",
        "Public-IPs",
        "Age",
    ]
