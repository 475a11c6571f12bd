"""The entry point answers before click is loaded where it can: `tenantry --version` imports
neither click nor the package metadata, and `tenantry validate` on a large repo has its files
parsing in a forked child from the first moment, with the same findings as without."""

from __future__ import annotations

import inspect
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from reconciler.cli import check, entry, main
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
    ("command", "table", "function"),
    [
        (validate, entry.VALIDATE_OPTIONS, check.validate),
        (pre_commit_command, entry.PRE_COMMIT_OPTIONS, check.pre_commit),
    ],
    ids=["validate", "pre-commit"],
)
def test_the_entry_point_reads_the_options_as_the_command_does(
    command: click.Command,
    table: dict[str, str],
    function: Callable[..., int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each option that takes a value is read ahead and by the quick path as click reads it:
    the parameter it becomes, the variable it falls back on, whether it repeats, and what
    the command passes when it is not given (the function's default)."""
    options = [p for p in command.params if isinstance(p, click.Option)]
    assert not [p for p in options if p.is_flag]  # a flag would leave every run to click
    assert {opt: p.name for p in options for opt in p.opts} == table
    for param in options:
        (opt,) = param.opts
        assert param.envvar == entry.ENVIRONMENT.get(opt), opt
        assert param.multiple == (opt in entry.REPEATED), opt
        if param.envvar:
            monkeypatch.delenv(str(param.envvar), raising=False)
    defaults = inspect.signature(function).parameters
    (argument,) = [p for p in command.params if isinstance(p, click.Argument)]
    passed = command.make_context(str(command.name), []).params
    del passed[str(argument.name)]
    assert passed == {name: defaults[name].default for name in passed}


@pytest.mark.parametrize(
    ("argv", "read"),
    [
        (["validate"], (".", {})),
        (["validate", "repo", "--today", TODAY], ("repo", {"--today": [TODAY]})),
        (
            ["validate", "--format=json", "--state", "s.db", "repo"],
            ("repo", {"--format": ["json"], "--state": ["s.db"]}),
        ),
        (
            ["validate", "--write", "sarif=x.sarif", "repo", "--actor", "ann", "--write=j=y"],
            ("repo", {"--write": ["sarif=x.sarif", "j=y"], "--actor": ["ann"]}),
        ),
        (["validate", "repo", "--changed-since", "HEAD"], ("repo", {"--changed-since": ["HEAD"]})),
        (["validate", "repo", "--help"], None),
        (["validate", "-h"], None),
        (["validate", "repo", "other"], None),  # click refuses it
        (["validate", "repo", "--today"], None),
        (["validate", "--", "repo"], None),
        (["plan", "repo"], None),
        (["--version"], None),
        ([], None),
    ],
)
def test_the_path_and_options_validate_will_read(
    argv: list[str], read: tuple[str, dict[str, list[str]]] | None
) -> None:
    assert entry.validate_args(argv) == read


@pytest.mark.parametrize(
    ("argv", "read"),
    [
        (["pre-commit"], ([], {})),
        (["pre-commit", "a.yaml", "b/c.yaml"], (["a.yaml", "b/c.yaml"], {})),
        (
            ["pre-commit", "a.yaml", "--path", "desired", "--today", TODAY],
            (["a.yaml"], {"--path": ["desired"], "--today": [TODAY]}),
        ),
        (["pre-commit", "--path=desired", "a.yaml"], (["a.yaml"], {"--path": ["desired"]})),
        (["pre-commit", "--path"], None),
        (["pre-commit", "--help"], None),
        (["validate", "repo"], None),
    ],
)
def test_the_files_and_folder_pre_commit_will_check(
    argv: list[str], read: tuple[list[str], dict[str, list[str]]] | None
) -> None:
    assert entry.pre_commit_args(argv) == read


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


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example repo, committed, with one service's price then cut under its cost."""
    where = tmp_path_factory.mktemp("quick") / "repo"
    shutil.copytree(ROOT / "desired-state", where)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run([*git, *args], cwd=where, check=True, capture_output=True)
    services = where / "occupiers" / "acme" / "services.yaml"
    services.write_text(services.read_text().replace('price: "90.00"', 'price: "10.00"', 1))
    (where.parent / "broken.db").write_text("not a ledger\n")
    return where


CLICK = [sys.executable, "-c", "from reconciler.cli.group import main; main(prog_name='tenantry')"]


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["validate", "{repo}", "--today", TODAY], {}),
        (["validate", "{repo}", "--format", "json", "--today", TODAY], {}),
        (
            ["validate", "{repo}", "--format=sarif", "--write", "junit={out}/a.xml",
             "--write", "github={out}/b.txt", "--today", TODAY],
            {},
        ),
        (["validate", "{repo}", "--changed-since", "HEAD", "--today", TODAY], {}),
        (["validate", "{repo}", "--changed-since", "HEAD"], {"TENANTRY_ACTOR": "bob"}),
        (["validate", "{repo}", "--actor", "bob", "--base", "HEAD", "--today", TODAY], {}),
        (["validate", "{repo}", "--today", TODAY], {"TENANTRY_ACTOR": ""}),  # empty: not set
        (["validate", "{repo}", "--horizon", "2027-06-01", "--today", TODAY], {}),
        (["validate", "{repo}"], {"TENANTRY_LEDGER": "{repo}/../broken.db"}),  # one line
        (["validate", "{repo}", "--changed-since", "no-such-ref"], {}),
        (["validate", "{repo}", "--actor", "bob", "--base", "no-such-ref"], {}),
        (["validate", "{repo}", "--today", "2026-13-01"], {}),
        (["validate", "{repo}", "--format", "yaml"], {}),
        (["validate", "{repo}/no-such-folder"], {}),
        (["validate", "{repo}", "--write", "sarif"], {}),
        (["validate", "{repo}", "--write", "sarif={repo}/no-such-folder/x.sarif"], {}),  # one line
        (["pre-commit", "occupiers/acme/services.yaml", "--path", "{repo}", "--today", TODAY], {}),
        (["pre-commit", "--path", "{repo}/no-such-folder"], {}),
    ],
)  # fmt: skip
def test_without_click_as_with_it(
    changed: Path, tmp_path: Path, args: list[str], env: dict[str, str]
) -> None:
    """The console script runs `validate` and `pre-commit` without click when click would
    accept the command line as it is, and hands the rest to click: either way, the same exit
    code, output, messages and written files as click's own run of the command."""
    ran = []
    for how, command in (("quick", [str(SCRIPT)]), ("click", CLICK)):
        out = tmp_path / how
        out.mkdir()
        values = [arg.format(repo=changed, out=out) for arg in args]
        environ = {**os.environ, **{k: v.format(repo=changed) for k, v in env.items()}}
        done = subprocess.run(
            [*command, *values], capture_output=True, text=True, timeout=120, cwd=changed,
            env=environ,
        )  # fmt: skip
        written = {f.name: f.read_text() for f in sorted(out.iterdir())}
        ran.append((done.returncode, done.stdout, done.stderr, written))
    assert ran[0] == ran[1]
    assert "Traceback" not in ran[0][2]


def test_validate_runs_without_click_or_inspect(changed: Path) -> None:
    """`validate --changed-since` on a one-file change: click and `inspect` (which
    `dataclasses` imports for a class without a docstring) would be a fifth of the run;
    subprocess, pathlib (imported by yaml-rs's Python half), pydantic-core's Python half and
    dataclasses (with copy and weakref) a tenth more."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(SCRIPT), "validate", ".", "--changed-since",
         "HEAD", "--today", TODAY],
        capture_output=True, text=True, timeout=120, cwd=changed,
    )  # fmt: skip
    assert done.returncode == 0 and "warning[S3]" in done.stdout, done.stdout + done.stderr
    modules = imported(done.stderr)
    assert "reconciler.incremental" in modules
    assert not {"click", "inspect", "ast", "dis"} & modules
    assert not {"subprocess", "pathlib", "urllib.parse", "yaml_rs", "pydantic_core"} & modules
    assert not {"dataclasses", "copy"} & modules  # no dataclass is defined on the way


# The console entry point, with every `compile()` of a text recorded and said at the exit (not
# of a module's bytes: the importer compiles a module whose cached bytecode is stale).
COMPILES = """
import builtins, os, sys
compiled = []
compile_source = builtins.compile
def recorded(source, *args, **kwargs):
    if isinstance(source, str):
        compiled.append(source[:60])
    return compile_source(source, *args, **kwargs)
builtins.compile = recorded
exit_now = os._exit
def said(code):
    sys.stderr.write(f"compiled: {compiled}\\n")
    exit_now(code)
os._exit = said
sys.argv[0] = "tenantry"
from reconciler.cli.entry import run
run()
"""


def test_validate_compiles_no_source(changed: Path) -> None:
    """A `--changed-since` run compiles nothing: the first `compile()` of a process builds
    Python's AST types (0.8 ms), and a named tuple's string annotations (`from __future__
    import annotations`) are compiled, each, when it is defined (`reconciler.refs`)."""
    done = subprocess.run(
        [sys.executable, "-c", COMPILES, "validate", ".", "--changed-since", "HEAD",
         "--today", TODAY],
        capture_output=True, text=True, timeout=120, cwd=changed,
    )  # fmt: skip
    assert done.returncode == 0 and "warning[S3]" in done.stdout, done.stdout + done.stderr
    assert "compiled: []" in done.stderr, done.stderr


def test_changed_since_in_a_repository_without_commits_checks_everything(
    tmp_path: Path,
) -> None:
    """No commit yet (a fresh `git init`): every document is new, so every one is checked,
    and P1 judges the actor on all of them; a ref git does not know elsewhere is an error."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "desired-state", repo)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    args = [str(SCRIPT), "validate", ".", "--changed-since", "HEAD", "--today", TODAY]
    done = subprocess.run(
        [*args, "--actor", "bob"], capture_output=True, text=True, timeout=120, cwd=repo
    )
    full = subprocess.run(
        [str(SCRIPT), "validate", ".", "--today", TODAY, "--actor", "bob", "--base", "HEAD"],
        capture_output=True, text=True, timeout=120, cwd=repo,
    )  # fmt: skip
    assert full.returncode == 64  # --base needs a commit
    assert "76 documents checked" in done.stdout
    assert "P1 judged bob on 76 document(s) changed since nothing (no commit yet)" in done.stderr
    elsewhere = subprocess.run(
        [str(SCRIPT), "validate", str(ROOT / "desired-state"), "--changed-since", "no-such-ref"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert elsewhere.returncode == 64 and "--changed-since no-such-ref" in elsewhere.stderr
