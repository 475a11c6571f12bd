"""What `validate` writes for other tools passes those tools' own validators: SARIF 2.1.0
(the schema and Microsoft's SARIF Multitool, GitHub's ingestion rules included), JUnit (the
Jenkins junit-10 XSD), GitHub workflow commands (exactly what @actions/core prints), for
findings in a file named `odd, name: x%.yaml`, with PATH given as an absolute path."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from lxml import etree

from reconciler.cli import main
from reconciler.rules.texts import RULE_TEXT
from tests.support import validators

ROOT = Path(__file__).resolve().parent.parent
ODD = "odd, name: x%.yaml"
EXTRA = """apiVersion: tenantry.dev/v1alpha1
kind: Service
metadata:
  name: northwind-ip-2
spec:
  occupier: northwind
  site: london-bridge
  definition: public-ip
  price: "1.00"
"""


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout (the working directory, as in CI) whose desired state has an error (S5)
    and a warning (S3) in the odd file."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "desired-state", tmp_path / "desired-state")
    (tmp_path / "desired-state" / "occupiers" / "northwind" / ODD).write_text(EXTRA)
    return tmp_path


def validate(work: Path, fmt: str) -> str:
    done = CliRunner().invoke(
        main, ["validate", str(work / "desired-state"), "--today", "2026-11-23", "--format", fmt]
    )
    assert done.exit_code == 1, done.output
    return done.stdout


def test_sarif_passes_the_schema_and_the_sarif_multitool(work: Path) -> None:
    text = validate(work, "sarif")
    log = json.loads(text)
    schema = validators.sarif_schema()
    jsonschema.validators.validator_for(schema)(schema).validate(log)
    file = work / "tenantry.sarif"
    file.write_text(text)
    code, found = validators.sarif_multitool(file, work / "multitool.sarif")
    assert code == 0
    problems = [
        (r["ruleId"], r["message"])
        for run in found["runs"]
        for r in run.get("results", [])
        if r.get("level", "warning") in ("error", "warning")
    ]
    assert problems == []
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    homepage = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Homepage"]
    assert driver["version"] and driver["informationUri"] == homepage  # not a placeholder
    chart = yaml.safe_load((ROOT / "charts" / "tenantry" / "Chart.yaml").read_text())
    assert chart["home"] == homepage
    rules = {r["id"]: r for r in driver["rules"]}
    assert rules["S5"]["fullDescription"]["text"] == RULE_TEXT["S5"]
    assert rules["P1"]["help"]["text"] == RULE_TEXT["P1"]
    assert all(r["fullDescription"]["text"] and r["help"]["text"] for r in rules.values())
    odd = [r for r in run["results"] if ODD.split(",")[0] in json.dumps(r)]
    assert {r["ruleId"] for r in odd} == {"S5", "S3"}
    uri = odd[0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri == {
        "uri": "desired-state/occupiers/northwind/odd%2C%20name%3A%20x%25.yaml",
        "uriBaseId": "%SRCROOT%",
    }
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == work.as_uri() + "/"


def test_junit_passes_the_jenkins_xsd_and_lists_warnings(work: Path) -> None:
    text = validate(work, "junit")
    tree = etree.fromstring(text.encode())
    schema = validators.junit_schema()
    assert schema.validate(tree), schema.error_log
    suite = tree.find("testsuite")
    assert suite is not None
    failures = suite.findall("testcase/failure")
    skipped = suite.findall("testcase/skipped")
    assert int(suite.get("failures", "")) == len(failures) > 0
    assert int(suite.get("skipped", "")) == len(skipped) > 0
    assert suite.get("errors") == "0"
    odd = [c for c in suite.findall("testcase") if ODD in (c.get("name") or "")]
    assert {c.get("classname") for c in odd} == {"tenantry.S5", "tenantry.S3"}
    warning = next(c for c in odd if c.get("classname") == "tenantry.S3")
    assert warning.find("skipped") is not None and "warning[S3]" in (
        warning.findtext("system-out") or ""
    )


def test_github_annotations_are_what_actions_core_prints(work: Path) -> None:
    lines = validate(work, "github").splitlines()
    findings = json.loads(validate(work, "json"))["findings"]
    commands: list[dict[str, Any]] = [
        {
            "level": "error" if f["severity"] == "error" else "warning",
            "message": f["message"] + (f" (hint: {f['hint']})" if f["hint"] else ""),
            "properties": {
                "title": f"tenantry {f['rule']}",
                "file": str(Path(f["file"]).relative_to(work)),
                "startLine": f["line"],
                "startColumn": f["column"],
            },
        }
        for f in findings
    ]
    assert validators.actions_core(commands).splitlines() == lines
    odd = [line for line in lines if "odd%2C name%3A x%25.yaml" in line]
    assert len(odd) == 2 and all(
        line.split(" ", 1)[1].startswith("title=tenantry S") for line in odd
    )
