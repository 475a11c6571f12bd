"""The import layers in pyproject.toml hold, and `lint-imports` (import-linter, as
scripts/test.sh runs it) fails when a wrong-way import is added: shown on a copy of the tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).parent / "lint-imports"


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([str(LINT), "--no-cache"], cwd=tree, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for package in ("reconciler", "drivers"):
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def add_line(path: Path, line: str) -> None:
    text = path.read_text()
    head, sep, rest = text.partition("from __future__ import annotations\n")
    path.write_text(head + sep + line + "\n" + rest)


def test_the_tree_keeps_every_contract(tree: Path) -> None:
    done = lint(tree)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("reconciler/plan/allocation.py", "import sqlite3", "the core does no I/O"),
        ("reconciler/rules/network.py", "import click", "the core does no I/O"),
        ("reconciler/model/repo.py", "import reconciler.apply", "shells (cli, operator)"),
        ("reconciler/apply.py", "import reconciler.app", "shells (cli, operator)"),
        ("drivers/frr.py", "import reconciler.plan", "drivers never import the reconciler"),
        ("reconciler/cli/group.py", "import reconciler.plan", "the CLI loads commands lazily"),
    ],
)
def test_a_wrong_way_import_breaks_a_contract(
    tree: Path, module: str, line: str, broken: str
) -> None:
    add_line(tree / module, line)
    done = lint(tree)
    assert done.returncode != 0
    report = done.stdout.split("Broken contracts")[-1]
    assert broken in report, done.stdout
    assert module.removesuffix(".py").replace("/", ".") in report, done.stdout
