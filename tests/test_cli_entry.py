"""The entry point answers before click is loaded where it can: `tenantry --version` imports
neither click nor the package metadata, and `tenantry validate` on a large repo has its files
parsing in a forked child from the first moment, with the same findings as without."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from reconciler.cli import entry, main
from reconciler.cli.validate import pre_commit_command, validate
from reconciler.parse import FORK_FROM_FILES

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from generate import generate  # noqa: E402

SCRIPT = Path(sys.executable).with_name("tenantry")  # the console script pip installed
TODAY = "2026-11-23"


def imported(stderr: str) -> set[str]:
    """The modules `python -X importtime` reported importing."""
    return {
        line.split("|")[-1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and "package" not in line
    }


def test_version_is_the_package_version_without_click_or_metadata() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(SCRIPT), "--version"],
        capture_output=True, text=True, timeout=60, check=True,
    )
    assert done.stdout == f"tenantry, version {version('tenantry')}\n"
    modules = imported(done.stderr)
    assert "reconciler" in modules
    assert not {"click", "importlib.metadata", "pydantic", "reconciler.cli.group"} & modules
    by_click = CliRunner().invoke(main, ["--version"], prog_name="tenantry")
    assert by_click.output == done.stdout


def test_validate_imports_neither_pydantic_nor_package_metadata() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(SCRIPT), "validate", str(ROOT / "desired-state")],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    modules = imported(done.stderr)
    assert "reconciler.validate" in modules and "reconciler.model.engine" in modules
    # the models come from compiled core schemas, validated by pydantic-core's engine alone
    assert not {module for module in modules if module.startswith("pydantic")}
    assert "importlib.metadata" not in modules


@pytest.mark.parametrize(
    ("command", "read_ahead"),
    [
        (validate, entry.VALIDATE_VALUE_OPTIONS),
        (pre_commit_command, entry.PRE_COMMIT_VALUE_OPTIONS),
    ],
    ids=["validate", "pre-commit"],
)
def test_the_options_read_ahead_are_the_commands_options_that_take_a_value(
    command: click.Command, read_ahead: frozenset[str]
) -> None:
    takes_value = {
        name
        for param in command.params
        if isinstance(param, click.Option) and not param.is_flag
        for name in param.opts
    }
    assert takes_value == read_ahead


@pytest.mark.parametrize(
    ("argv", "read"),
    [
        (["validate"], (".", {})),
        (["validate", "repo", "--today", TODAY], ("repo", {"--today": TODAY})),
        (
            ["validate", "--format=json", "--state", "s.db", "repo"],
            ("repo", {"--format": "json", "--state": "s.db"}),
        ),
        (
            ["validate", "--write", "sarif=x.sarif", "repo", "--actor", "ann"],
            ("repo", {"--write": "sarif=x.sarif", "--actor": "ann"}),
        ),
        (["validate", "repo", "--changed-since", "HEAD"], ("repo", {"--changed-since": "HEAD"})),
        (["validate", "repo", "--help"], None),
        (["validate", "-h"], None),
        (["validate", "repo", "other"], None),  # click refuses it
        (["validate", "repo", "--today"], None),
        (["plan", "repo"], None),
        (["--version"], None),
        ([], None),
    ],
)
def test_the_path_and_options_validate_will_read(
    argv: list[str], read: tuple[str, dict[str, str]] | None
) -> None:
    assert entry.validate_args(argv) == read


@pytest.mark.parametrize(
    ("argv", "root"),
    [
        (["pre-commit"], "."),
        (["pre-commit", "a.yaml", "b/c.yaml"], "."),
        (["pre-commit", "a.yaml", "--path", "desired", "--today", TODAY], "desired"),
        (["pre-commit", "--path=desired", "a.yaml"], "desired"),
        (["pre-commit", "--path"], None),
        (["pre-commit", "--help"], None),
        (["validate", "repo"], None),
    ],
)
def test_the_folder_pre_commit_will_check(argv: list[str], root: str | None) -> None:
    assert entry.pre_commit_root(argv) == root


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repo just large enough to be parsed in a forked child, a warning in half the files."""
    root = tmp_path_factory.mktemp("large")
    generate(root, 5, FORK_FROM_FILES, findings_fraction=0.5)
    return root


def test_validate_parsing_ahead_finds_what_validate_in_process_finds(large: Path) -> None:
    args = ["validate", str(large), "--today", TODAY]
    done = subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    in_process = CliRunner().invoke(main, args)  # no parse ahead: the command starts it
    assert (done.returncode, done.stdout) == (in_process.exit_code, in_process.stdout)
    assert done.stdout.count("warning[S3]") == FORK_FROM_FILES // 2


def test_a_parse_ahead_for_another_path_is_stopped(large: Path) -> None:
    entry.parse_ahead(str(large))
    assert entry._ahead is not None
    child = entry._ahead[1].stream
    assert entry.parsed_ahead(str(large / "sites")) is None
    assert entry._ahead is None
    with pytest.raises(ChildProcessError):  # stopped and reaped
        os.waitpid(child._pid, os.WNOHANG)


def test_a_usage_error_is_one_with_a_parse_ahead_too(large: Path) -> None:
    done = subprocess.run(
        [str(SCRIPT), "validate", str(large), "--format", "nosuch"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert done.returncode == 64 and "nosuch" in done.stderr


def test_a_loaded_repo_is_left_to_the_exit_only_under_the_console_entry_point(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The console entry point exits without tearing down: a loaded repo is kept until then
    rather than freed object by object when the command returns. Anywhere else (tests, the
    operator, which runs for days) a repo is freed as soon as it is no longer used."""
    import weakref

    import kopf

    from reconciler import memory
    from reconciler.load import load

    desired = str(ROOT / "desired-state")
    monkeypatch.setattr(memory, "_left_to_exit", None)
    freed = weakref.ref(load(desired))
    assert freed() is None  # in-process, as a library

    memory.exit_without_teardown()  # what `entry.run` does first
    kept = weakref.ref(load(desired))
    assert kept() is not None

    monkeypatch.setattr(kopf, "run", lambda **_: None)  # the operator, stopped at once
    assert CliRunner().invoke(main, ["operator", "--standalone"]).exit_code == 0
    freed = weakref.ref(load(desired))
    assert freed() is None
