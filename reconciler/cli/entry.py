"""The `tenantry` console entry point: what can run before click is imported, or without it.

`tenantry --version` needs neither click nor the command's modules. `tenantry validate` on a
large repo has its files parsing in a forked child while the models import (`parse_ahead`;
the command takes that parse over, `parsed_ahead`, if it is for the same path, or stops it);
with --changed-since, git's commands running instead (`git_ahead`). And `validate` and
`pre-commit` run without click when the command line is one click would accept as it is
(`run_quickly`): click and what it imports would be a fifth of a `--changed-since` run.
"""

from __future__ import annotations

import errno
import gc
import os
import sys
import types
from typing import TYPE_CHECKING, Any

from reconciler import __version__

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from reconciler.parse import Parsing

# The options of `tenantry validate` that take a value, by the parameter click passes each as
# (tests/test_cli_entry.py holds these tables to the commands' own). Any other option (--help)
# leaves the command line to click.
VALIDATE_OPTIONS = {
    "--changed-since": "changed_since",
    "--format": "fmt",
    "--today": "today",
    "--actor": "actor",
    "--state": "state",
    "--base": "base_ref",
    "--approved-by": "approved_by",
    "--write": "writes",
    "--horizon": "horizon",
}
REPEATED = frozenset({"--write"})  # given any number of times; the others' last one counts

# The same for `tenantry pre-commit`.
PRE_COMMIT_OPTIONS = {"--path": "root", "--today": "today"}

# The variables an option not given falls back on (not when empty, as click reads them).
ENVIRONMENT = {
    "--actor": "TENANTRY_ACTOR",
    "--state": "TENANTRY_LEDGER",
    "--approved-by": "TENANTRY_APPROVERS",
}

_ahead: tuple[str, Parsing] | None = None


def run() -> None:
    """Console entry point. After the work is done the process exits without tearing down
    the loaded repo object by object (tens of thousands of models: a quarter of a second),
    neither when the command returns (`memory.leave_to_exit`) nor at the end."""
    argv = sys.argv[1:]
    if argv == ["--version"] and not getattr(sys.modules["__main__"], "__package__", None):
        # what click's version option prints for the console script, without click
        print(f"{os.path.basename(sys.argv[0])}, version {__version__}")
        sys.stdout.flush()
        os._exit(0)
    from reconciler.memory import exit_without_teardown

    exit_without_teardown()  # a loaded repo is not freed object by object before the exit
    try:
        code = run_quickly(argv)
        if code is None:
            code = _by_click()
    finally:
        parsed_ahead(None)  # a parse the command did not take (a usage error) is stopped
        git = sys.modules.get("reconciler.gitbase")
        if git is not None:
            git.stop_ahead()  # and git's commands it did not take
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        pass  # a closed pipe (`| head`): the exit code stands, as under click
    os._exit(code)


def _by_click() -> int:
    """The command, run by click: its exit code."""
    from reconciler.cli.group import main

    try:
        main()
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


def run_quickly(argv: list[str]) -> int | None:
    """`tenantry validate` and `tenantry pre-commit` without click, their bulk work started
    first; the exit code, or None where click runs the command: another command, an option
    this does not know (--help), a value click would refuse, or an error found on the way
    (click says it, in its words)."""
    if any(name.startswith("_") and name.endswith("_COMPLETE") for name in os.environ):
        return None  # click's shell completion
    validating = validate_args(argv)
    if validating is not None:
        quietly()
        path, options = validating
        if "--changed-since" in options:
            actor = _given(options, "--actor")
            judging = actor is not None and "--base" not in options  # P1, since REF
            git_ahead(path, options["--changed-since"][-1], judging)
        else:
            parse_ahead(path)
        parameters = _parameters(options, VALIDATE_OPTIONS)
        from reconciler.output import FORMATS

        if not os.access(path, os.R_OK) or parameters.get("fmt", "human") not in FORMATS:
            return None  # click says what is wrong: no such path, the formats there are
        from reconciler.cli import check

        return _unless_refused(lambda: check.validate(path, **parameters))
    committing = pre_commit_args(argv)
    if committing is not None:
        quietly()
        files, options = committing
        root = options["--path"][-1] if "--path" in options else "."
        if not (os.path.isdir(root) and os.access(root, os.R_OK)):
            return None
        commit_ahead(root)
        parameters = _parameters(options, PRE_COMMIT_OPTIONS)
        from reconciler.cli import check

        return _unless_refused(lambda: check.pre_commit(tuple(files), **parameters))
    return None


def quietly() -> None:
    """A short run: what it imports lives until the end (the bulk work pauses the collector
    anyway, `gc_paused`), so scanning it is waste; nothing it does needs `inspect` (dataclasses
    imports it), or pydantic's plugins."""
    gc.disable()
    inspect_on_first_use()
    without_pydantic_plugins()


def _given(options: dict[str, list[str]], name: str) -> str | None:
    """The value of an option as click reads it: the last one given, else its environment
    variable unless that is empty."""
    if name in options:
        return options[name][-1]
    return os.environ.get(ENVIRONMENT.get(name, "")) or None


def _parameters(options: dict[str, list[str]], table: dict[str, str]) -> dict[str, Any]:
    """The command's parameters click would pass for these options (the others: the command
    function's defaults)."""
    parameters: dict[str, Any] = {}
    for name, parameter in table.items():
        if name in REPEATED:
            if name in options:
                parameters[parameter] = tuple(options[name])
        elif (value := _given(options, name)) is not None:
            parameters[parameter] = value
    return parameters


def _unless_refused(work: Callable[[], int]) -> int | None:
    """The exit code of the command's work, or None for an error click reports (its own
    errors, a fault of the ledger), as it ends under click (`group.Tenantry.main`)."""
    try:
        return work()
    except (EOFError, KeyboardInterrupt):
        sys.stderr.write("\n")  # closes the terminal's ^C echo, as click does
        return 1
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        return 1  # the reader went away (`| head`), as click ends then
    except Exception as exc:
        if _said_by_click(exc):
            return None
        raise


def _said_by_click(exc: Exception) -> bool:
    """A usage error (click's own, raised by `check` once it knows) or a fault of the ledger:
    what `group.Tenantry.main` says in one line. A module not imported yet cannot have
    raised it."""
    click = sys.modules.get("click")
    if click is not None and isinstance(exc, click.ClickException):
        return True
    ledger = sys.modules.get("reconciler.ledger.sql")
    return ledger is not None and isinstance(exc, ledger.LedgerError)


def validate_args(argv: list[str]) -> tuple[str, dict[str, list[str]]] | None:
    """The PATH of `tenantry validate [PATH] [OPTIONS]` and its options that take a value (each
    with the values given), as click will read them; None when the command is another one or
    takes options this does not know."""
    found = _command_args(argv, "validate", VALIDATE_OPTIONS)
    if found is None or len(found[0]) > 1:
        return None  # click refuses a second path
    paths, options = found
    return (paths[0] if paths else "."), options


def pre_commit_args(argv: list[str]) -> tuple[list[str], dict[str, list[str]]] | None:
    """The FILES and the options of `tenantry pre-commit [FILES] [--path ROOT] [--today DAY]`,
    or None when the command is another one or takes options this does not know."""
    return _command_args(argv, "pre-commit", PRE_COMMIT_OPTIONS)


def _command_args(
    argv: list[str], command: str, value_options: Collection[str]
) -> tuple[list[str], dict[str, list[str]]] | None:
    """The arguments and the options (all of them among `value_options`) of `tenantry
    COMMAND`, as click will read them; None for another command, another option, or an
    option without its value."""
    if not argv or argv[0] != command:
        return None
    arguments: list[str] = []
    options: dict[str, list[str]] = {}
    rest = iter(argv[1:])
    for arg in rest:
        if not arg.startswith("-"):
            arguments.append(arg)
            continue
        name, eq, value = arg.partition("=")
        if name not in value_options:
            return None
        if not eq:
            given = next(rest, None)
            if given is None:
                return None
            value = given
        options.setdefault(name, []).append(value)
    return arguments, options


def parse_ahead(path: str) -> None:
    """`tenantry validate` on a large repo: start parsing its files in a forked child now."""
    global _ahead
    from reconciler.parse import start

    parsing = start(path)
    if parsing is not None:
        _ahead = (path, parsing)


def git_ahead(path: str, ref: str, fork: bool) -> None:
    """`tenantry validate --changed-since REF`: start asking git what changed since REF
    (`gitbase.what_changed`; `fork`: and where HEAD's branch left it) now; the run takes the
    answers over once the models are imported."""
    if not os.path.isdir(path):
        return  # a file is validated in full
    from reconciler.gitbase import CONTENTS, GitError, start_ahead, what_changed

    try:
        commands = what_changed(ref, fork)
    except GitError:
        return  # no ref (an option): the command says so
    start_ahead(path, [CONTENTS, *commands.values()])  # CONTENTS: what they held at REF


def commit_ahead(root: str) -> None:
    """`tenantry pre-commit`: start asking git what the commit changes (`beyond_change`) and
    what changed since HEAD (what `validate --changed-since HEAD` asks next) now."""
    if not os.path.isdir(root):
        return
    from reconciler.gitbase import folder_of, start_ahead, what_a_commit_changes

    start_ahead(folder_of(root), what_a_commit_changes().values())
    git_ahead(root, "HEAD", fork=False)


def parsed_ahead(path: str | None) -> Parsing | None:
    """The parse started ahead (`parse_ahead`) for `path`, once; any other is stopped."""
    global _ahead
    found, _ahead = _ahead, None
    if found is None:
        return None
    if found[0] == path:
        return found[1]
    found[1].stream.close()
    return None


def inspect_on_first_use() -> None:
    """`dataclasses` imports `inspect` for one thing, the signature of a class that has no
    docstring, and `inspect` imports `ast`, `dis` and `tokenize`: a tenth of a `validate
    --changed-since` run on a one-file change. Until a module uses it, `inspect` is a stand-in
    that imports it then (click and pydantic do, when they are imported)."""
    if "inspect" not in sys.modules:
        sys.modules["inspect"] = _OnFirstUse("inspect")


class _OnFirstUse(types.ModuleType):
    """A module imported when one of its names is first looked up, not when it is imported.
    From then on it holds the module's names, and `sys.modules` the module itself."""

    def __getattr__(self, name: str) -> Any:
        import importlib

        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        module = importlib.import_module(self.__name__)
        vars(self).update(vars(module))
        return getattr(module, name)


def without_pydantic_plugins() -> None:
    """The CLI uses no pydantic plugins. Looking for them imports importlib.metadata (a
    tenth of `validate`'s start-up on a small repo) to read every installed package's entry
    points, so unless the user set PYDANTIC_DISABLE_PLUGINS otherwise, pydantic's plugin
    loader is one that finds none: what pydantic's own does when the variable is `__all__`."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    name = "pydantic.plugin._loader"
    if os.environ["PYDANTIC_DISABLE_PLUGINS"] != "__all__" or name in sys.modules:
        return
    loader = types.ModuleType(name, "pydantic's plugin loader when plugins are disabled")
    loader.get_plugins = _no_plugins  # type: ignore[attr-defined]
    sys.modules[name] = loader


def _no_plugins() -> tuple[()]:
    return ()
