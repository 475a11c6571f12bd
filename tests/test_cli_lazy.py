"""The CLI imports a command's module only when that command runs: `tenantry --version` and
`tenantry validate` (the pre-commit hook, run on every commit) stay fast, and `tenantry --help`
still lists every command with the line click would take from its docstring."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from reconciler.cli import main
from reconciler.cli.group import COMMANDS, load_command

ROOT = Path(__file__).resolve().parent.parent

# What `validate` never needs: the planner, the App, apply, billing, the dashboard, the
# operator, device drivers (drivers.platforms, plain data the rules read, is fine), extras.
NOT_FOR_VALIDATE = (
    "reconciler.plan",
    "reconciler.app",
    "reconciler.apply",
    "reconciler.billing",
    "reconciler.dashboard",
    "reconciler.operator",
    "reconciler.cli.plan",
    "reconciler.cli.report",
    "drivers.registry",
    "drivers.contract",
    "drivers.render",
    "kopf",
    "kubernetes",
    "psycopg",
    "scrapli",
)

MODULES_AFTER = """
import json, sys
from reconciler.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


def modules_after(*args: str) -> list[str]:
    """The modules a real `tenantry ARGS` process has imported when the command is done."""
    done = subprocess.run(
        [sys.executable, "-c", MODULES_AFTER, *args], capture_output=True, text=True, timeout=120
    )
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


# Not an import of pydantic: the CLI's stand-in for its plugin loader, there from the start
# (reconciler.cli.entry.without_pydantic_plugins).
STAND_INS = {"pydantic.plugin._loader"}


def loads(modules: list[str], package: str) -> bool:
    return any(m == package or m.startswith(package + ".") for m in modules if m not in STAND_INS)


def test_version_imports_no_command() -> None:
    modules = modules_after("--version")
    assert "reconciler.cli.group" in modules
    for package in ("reconciler.cli.validate", "reconciler.validate", "reconciler.model",
                    "pydantic", "yaml", *NOT_FOR_VALIDATE):
        assert not loads(modules, package), package


@pytest.mark.parametrize("repo", ["tiny", "desired-state"])
def test_validate_imports_only_what_validating_needs(repo: str, tmp_path: Path) -> None:
    if repo == "tiny":
        path = tmp_path / "tiny"
        assert modules_after("init", str(path))  # a site, a catalogue, an occupier
    else:
        path = ROOT / "desired-state"
    modules = modules_after("validate", str(path))
    assert "reconciler.cli.validate" in modules and "reconciler.rules" in modules
    for package in NOT_FOR_VALIDATE:
        assert not loads(modules, package), package


@pytest.mark.parametrize("width", [80, 200])
def test_help_lists_every_command_as_click_would_from_its_docstring(width: int) -> None:
    """The lazy table's lines equal click's own (which imports every command to read it)."""
    ctx = click.Context(main, info_name="tenantry")
    lazy, eager = click.HelpFormatter(width=width), click.HelpFormatter(width=width)
    main.format_commands(ctx, lazy)
    click.Group.format_commands(main, ctx, eager)
    assert lazy.getvalue() == eager.getvalue()
    assert all(f"  {name} " in lazy.getvalue() for name in COMMANDS)


def test_every_command_in_the_table_is_the_command_of_that_name() -> None:
    for name in COMMANDS:
        assert load_command(name).name == name


def test_an_unknown_command_is_a_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "reconciler.cli", "nosuch"], capture_output=True, text=True,
        timeout=120,
    )
    assert done.returncode == 64
    assert "No such command 'nosuch'" in done.stderr
