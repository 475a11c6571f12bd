"""git, the one helper: run it, read what it says, and read the desired state as it was at a
ref (a pull request's base). `validate --changed-since` and `plan --base` both use it."""

from __future__ import annotations

import contextlib
import io
import subprocess
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tempfile
    from collections.abc import Iterable


class GitError(Exception):
    """git is missing, or said no (an unknown ref, not a work tree)."""


# Commands started before they were asked for (`start_ahead`), by folder and arguments, and
# the threads that may still be starting some.
_ahead: dict[tuple[str, tuple[str, ...]], subprocess.Popen[bytes]] = {}
_starting: list[threading.Thread] = []


def start(root: str | Path, *args: str) -> subprocess.Popen[bytes]:
    """Start one git command in `root` (several may run at once); finish it with `wait`. The
    same command started ahead is taken over instead."""
    started_ahead()
    ahead = _ahead.pop((str(root), args), None)
    if ahead is not None:
        return ahead
    return _spawn(root, args)


def _spawn(root: str | Path, args: tuple[str, ...]) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            ["git", *args],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except FileNotFoundError:
        raise GitError("git is not installed") from None


def as_ref(ref: str) -> str:
    """REF as git may be given it among a command's arguments: never one of its options
    (`--output=FILE` given as a ref has `git diff` write, or empty, that file)."""
    if ref.startswith("-"):
        raise GitError(f"{ref} is not a git ref")
    return ref


def start_ahead(root: str | Path, commands: Iterable[tuple[str, ...]]) -> None:
    """Start git commands the run will `start` later with the same arguments: the CLI's
    entry point does, for `validate --changed-since`, while the models import. From a
    thread: each start waits until git's executable is loaded (a millisecond or more while
    the git commands started before it have the cores), and the imports go on meanwhile."""
    asked = [(str(root), args) for args in commands]

    def spawn() -> None:
        for key in asked:
            with contextlib.suppress(GitError):  # said again when started for real
                _ahead[key] = _spawn(*key)

    thread = threading.Thread(target=spawn, name="git ahead", daemon=True)
    thread.start()
    _starting.append(thread)


def started_ahead() -> dict[tuple[str, tuple[str, ...]], subprocess.Popen[bytes]]:
    """The commands started ahead and not taken over yet, once they are all started."""
    while _starting:
        _starting.pop().join()
    return _ahead


# What git does not track, ignored files included (a checkout of a commit has none of them,
# and a full load reads them); a folder it does not track at all is one entry ("dir/", or
# "./" for the folder asked about), so a .venv or node_modules costs nothing to list.
UNTRACKED = ("ls-files", "-z", "--others", "--directory", "--no-empty-directory")


def what_changed(ref: str, fork: bool) -> dict[str, tuple[str, ...]]:
    """The git commands that say what differs from REF in a work tree: what git does not
    track, REF's diff, the commit REF names and (`fork`) where HEAD's branch left REF."""
    as_ref(ref)
    commands = {
        "untracked": UNTRACKED,
        "diff": ("diff", "--name-status", "-z", "--no-renames", "--relative", ref, "--"),
        "commit": ("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"),
    }
    if fork:
        commands["fork"] = ("merge-base", ref, "HEAD")
    return commands


def what_a_commit_changes() -> dict[str, tuple[str, ...]]:
    """The git commands `tenantry pre-commit` asks from the folder it checks: whether HEAD
    exists (a repository without commits), the repository's top, and what differs from HEAD
    there (paths from the top, as pre-commit passes its files)."""
    return {
        "head": ("rev-parse", "--verify", "-q", "HEAD^{commit}"),
        "git-dir": ("rev-parse", "--git-dir"),
        "top": ("rev-parse", "--show-toplevel"),
        "diff": ("diff", "--name-only", "-z", "HEAD", "--"),
        "untracked": ("ls-files", "-z", "--others", "--exclude-standard", "--full-name"),
    }


def wait(process: subprocess.Popen[bytes], stdin: bytes | None = None) -> bytes:
    """Its output; GitError with git's own words when it failed."""
    out, err = process.communicate(stdin)
    if process.returncode != 0:
        raise GitError(err.decode(errors="replace").strip() or "git failed")
    return out


def git(root: str | Path, *args: str, stdin: bytes | None = None) -> bytes:
    return wait(start(root, *args), stdin)


def names(data: bytes) -> list[str]:
    """The file names of a `-z` listing."""
    return [n for n in data.decode(errors="surrogateescape").split("\0") if n]


# Reads objects named on its input: what files held at a commit (`files_at`). It can be
# started before the names are known (`start_ahead`).
CONTENTS = ("cat-file", "--batch")


def files_at(root: str | Path, ref: str, files: list[str]) -> tuple[str, dict[str, bytes]]:
    """The commit `ref` names, and the bytes there of each of `files` (relative to `root`)
    that existed: one `git cat-file --batch`."""
    request = "".join(f"{ref}:./{name}\n" for name in files).encode()
    data = git(root, *CONTENTS, stdin=f"{ref}^{{commit}}\n".encode() + request)
    found: dict[str, bytes] = {}
    position = 0
    commit = ""
    for name in [None, *files]:
        end = data.index(b"\n", position)
        header = data[position:end].split()
        position = end + 1
        if len(header) < 3:  # "<name> missing"
            if name is None:
                raise GitError(f"{ref} is not a commit")
            continue
        size = int(header[2])
        body = data[position : position + size]
        position += size + 1
        if name is None:
            commit = header[0].decode()
        else:
            found[name] = body
    return commit, found


def fork_point(root: str | Path, ref: str) -> str:
    """The commit a branch left `ref` at (`git merge-base ref HEAD`), so a change is what the
    branch did, as in `git diff ref...HEAD`, not also what others merged into `ref` since;
    `ref` itself when they share no history (or a shallow clone hides it)."""
    git(root, "rev-parse", "--verify", f"{as_ref(ref)}^{{commit}}")
    try:
        return git(root, "merge-base", ref, "HEAD").decode().strip() or ref
    except GitError:
        return ref


def folder_of(path: str | Path) -> Path:
    """Where git runs for `path`: the folder itself, or the one holding a file."""
    where = Path(path).resolve()
    return where if where.is_dir() else where.parent


def checkout(path: str, ref: str) -> tuple[tempfile.TemporaryDirectory[str], str]:
    """Extract `path` as of `ref`'s fork point into a temporary directory; returns it and the
    path inside. A path that did not exist there gives an empty directory (everything is new)."""
    where = Path(path).resolve()
    top = Path(git(folder_of(where), "rev-parse", "--show-toplevel").decode().strip())
    relative = where.relative_to(top)
    ref = fork_point(top, ref)
    import tempfile  # a checkout only (with tarfile below)

    tmp = tempfile.TemporaryDirectory(prefix="tenantry-base-")
    try:
        data = git(top, "archive", "--format=tar", ref, "--", str(relative) or ".")
    except GitError:
        data = b""
    if data:
        import tarfile  # a checkout only

        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            archive.extractall(tmp.name, filter="data")
    target = Path(tmp.name) / relative
    if not target.exists():
        target.mkdir(parents=True)
    return tmp, str(target)
