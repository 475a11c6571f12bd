"""The `tenantry` console entry point: what can start before click is imported.

click and the command's modules take a tenth of a second to import, and the models another
third. `tenantry --version` needs none of them, and `tenantry validate` on a large repo can
have its files parsing in a forked child meanwhile (`parse_ahead`): the command takes that
parse over (`parsed_ahead`) if it is for the same path, or stops it. With --changed-since it
has git's commands running meanwhile instead (`git_ahead`).
"""

from __future__ import annotations

import gc
import os
import sys
import types
from typing import TYPE_CHECKING

from reconciler import __version__

if TYPE_CHECKING:
    from reconciler.parse import Parsing

# The options of `tenantry validate` that take a value (tests/test_cli_entry.py holds this
# to the command's own); any other option (--help) means nothing is started ahead.
VALIDATE_VALUE_OPTIONS = frozenset(
    {
        "--changed-since",
        "--format",
        "--today",
        "--actor",
        "--state",
        "--base",
        "--approved-by",
        "--write",
        "--horizon",
    }
)

# The same for `tenantry pre-commit`.
PRE_COMMIT_VALUE_OPTIONS = frozenset({"--path", "--today"})

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
    validating = validate_args(argv)
    if validating is not None:
        # A short run whose bulk work pauses the collector anyway (`gc_paused`); what it
        # imports first (pydantic, the models) lives until the end, so scanning it is waste.
        gc.disable()
        path, options = validating
        if "--changed-since" in options:
            actor = options.get("--actor", os.environ.get("TENANTRY_ACTOR"))
            judging = actor is not None and "--base" not in options  # P1, since REF
            git_ahead(path, options["--changed-since"], judging)
        else:
            parse_ahead(path)
    elif (root := pre_commit_root(argv)) is not None:
        gc.disable()
        commit_ahead(root)
    from reconciler.cli.group import main

    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        parsed_ahead(None)  # a parse the command did not take (a usage error) is stopped
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def validate_args(argv: list[str]) -> tuple[str, dict[str, str]] | None:
    """The PATH of `tenantry validate [PATH] [OPTIONS]` and its options that take a value, as
    click will read them; None when the command is another one or takes options this does
    not know."""
    found = _command_args(argv, "validate", VALIDATE_VALUE_OPTIONS)
    if found is None or len(found[0]) > 1:
        return None  # click refuses a second path
    paths, options = found
    return (paths[0] if paths else "."), options


def pre_commit_root(argv: list[str]) -> str | None:
    """The folder `tenantry pre-commit [FILES] [--path ROOT] [--today DAY]` checks, or None
    when the command is another one or takes options this does not know."""
    found = _command_args(argv, "pre-commit", PRE_COMMIT_VALUE_OPTIONS)
    return found[1].get("--path", ".") if found is not None else None


def _command_args(
    argv: list[str], command: str, value_options: frozenset[str]
) -> tuple[list[str], dict[str, str]] | None:
    """The arguments and the options (all of them among `value_options`) of `tenantry
    COMMAND`, as click will read them; None for another command, another option, or an
    option without its value."""
    if not argv or argv[0] != command:
        return None
    arguments: list[str] = []
    options: dict[str, str] = {}
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
        options[name] = value
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
    from reconciler.gitbase import GitError, start_ahead, what_changed

    try:
        commands = what_changed(ref, fork)
    except GitError:
        return  # no ref (an option): the command says so
    for command in commands.values():
        start_ahead(path, *command)


def commit_ahead(root: str) -> None:
    """`tenantry pre-commit`: start asking git what the commit changes (`beyond_change`) and
    what changed since HEAD (what `validate --changed-since HEAD` asks next) now."""
    if not os.path.isdir(root):
        return
    from reconciler.gitbase import folder_of, start_ahead, what_a_commit_changes

    for command in what_a_commit_changes().values():
        start_ahead(folder_of(root), *command)
    git_ahead(root, "HEAD", fork=False)


def parsed_ahead(path: str | None) -> Parsing | None:
    """The parse started before click for `path`, once; any other is stopped."""
    global _ahead
    found, _ahead = _ahead, None
    if found is None:
        return None
    if found[0] == path:
        return found[1]
    found[1].stream.close()
    return None


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
