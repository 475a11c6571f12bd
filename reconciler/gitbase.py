"""git, the one helper: run it, read what it says, and read the desired state as it was at a
ref (a pull request's base). `validate --changed-since` and `plan --base` both use it."""

# Annotations are objects (no `from __future__ import annotations`): `reconciler.refs` says why.
import contextlib
import errno
import io
import os
import select
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import tempfile

# A folder: a path, or anything naming one (pathlib, with urllib.parse, is 1.5 ms of a start-up).
Folder = str | os.PathLike[str]


class GitError(Exception):
    """git is missing, or said no (an unknown ref, not a work tree)."""


class Running(NamedTuple):
    """A git command started (`start`) and not yet waited for (`wait`): its process id and
    our ends of its standard input, output and error.

    git runs by `os.posix_spawn`, not `subprocess`: `validate --changed-since` starts its
    git commands first thing, before it imports the models, and `subprocess` with what it
    imports (threading, selectors, signal, locale) and a thread to start them in would be a
    twentieth of that run."""

    pid: int
    stdin: int
    stdout: int
    stderr: int


# Commands started before they were asked for (`start_ahead`), by folder and arguments.
_ahead: dict[tuple[str, tuple[str, ...]], Running] = {}


def start(root: Folder, *args: str) -> Running:
    """Start one git command in `root` (several may run at once); finish it with `wait`. The
    same command started ahead is taken over instead."""
    ahead = _ahead.pop((str(root), args), None)
    if ahead is not None:
        return ahead
    return _spawn(str(root), args)


# SIGPIPE and SIGXFSZ back to their defaults in git (Python ignores them), as subprocess does;
# SIGTERM stops one. Linux's numbers: the `signal` module's enums are an import of their own.
_DEFAULT_SIGNALS = (13, 25)
_SIGTERM = 15


def _executable() -> str:
    """Where git is on PATH, found once: a spawn that searched PATH itself would try each
    folder before it (a failed exec each) while this process waits for the child to start.
    (`shutil.which`, with the bz2 and lzma that shutil imports, is 2 ms of start-up.)"""
    if not _found:
        for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
            candidate = os.path.join(folder or ".", "git")
            if os.access(candidate, os.X_OK) and not os.path.isdir(candidate):
                _found.append(candidate)
                break
        else:
            raise FileNotFoundError(errno.ENOENT, "git")
    return _found[0]


_found: list[str] = []


# How a command started ahead runs: on one thread, as the run imports on another (git's
# threads that stat the work tree would take the cores the imports need).
SHARING = ("-c", "core.preloadIndex=false")


def _spawn(root: str, args: tuple[str, ...], options: tuple[str, ...] = ()) -> Running:
    pipes = [os.pipe() for _ in range(3)]  # not inherited: only the dup2s below are
    child = (pipes[0][0], pipes[1][1], pipes[2][1])
    try:
        pid = os.posix_spawn(
            _executable(),
            ["git", "-C", root, *options, *args],
            os.environ,
            file_actions=[(os.POSIX_SPAWN_DUP2, fd, n) for n, fd in enumerate(child)],
            setsigdef=_DEFAULT_SIGNALS,
        )
    except OSError as exc:
        for ends in pipes:
            os.close(ends[0])
            os.close(ends[1])
        missing = exc.errno == errno.ENOENT
        raise GitError("git is not installed" if missing else f"git: {exc}") from None
    for fd in child:
        os.close(fd)
    return Running(pid, pipes[0][1], pipes[1][0], pipes[2][0])


def start_ahead(root: Folder, commands: Iterable[tuple[str, ...]]) -> None:
    """Start git commands the run will `start` later with the same arguments: the CLI's
    entry point does, for `validate --changed-since`, before it imports the models."""
    for args in commands:
        try:
            _ahead[(str(root), args)] = _spawn(str(root), args, SHARING)
        except GitError:
            return  # said again when started for real


def started_ahead() -> dict[tuple[str, tuple[str, ...]], Running]:
    """The commands started ahead and not taken over yet."""
    return _ahead


def stop_ahead() -> None:
    """Stop the commands started ahead that the run did not take over (a usage error)."""
    while _ahead:
        stop(_ahead.popitem()[1])


def stop(running: Running) -> None:
    """Stop a command not waited for, and reap it."""
    os.kill(running.pid, _SIGTERM)
    _communicate(running, b"")


def as_ref(ref: str) -> str:
    """REF as git may be given it among a command's arguments: never one of its options
    (`--output=FILE` given as a ref has `git diff` write, or empty, that file)."""
    if ref.startswith("-") or "\n" in ref:  # (a line is one request to `cat-file --batch`)
        shown = repr(ref) if "\n" in ref else ref
        raise GitError(f"{shown} is not a git ref")
    return ref


# What git does not track, ignored files included (a checkout of a commit has none of them,
# and a full load reads them); a folder it does not track at all is one entry ("dir/", or
# "./" for the folder asked about), so a .venv or node_modules costs nothing to list.
UNTRACKED = ("ls-files", "-z", "--others", "--directory", "--no-empty-directory")


def what_changed(ref: str, fork: bool) -> dict[str, tuple[str, ...]]:
    """The git commands that say what differs from REF in a work tree: (`fork`) where HEAD's
    branch left REF, what git does not track and REF's diff (the commit REF names, `cat-file`
    says: `commit_named`). The quickest first: each start waits until its git is running,
    behind those started before it, and the diff is the longest."""
    as_ref(ref)
    commands: dict[str, tuple[str, ...]] = {}
    if fork:
        commands["fork"] = ("merge-base", ref, "HEAD")
    commands["untracked"] = UNTRACKED
    commands["diff"] = ("diff", "--name-status", "-z", "--no-renames", "--relative", ref, "--")
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


def wait(process: Running, stdin: bytes | None = None) -> bytes:
    """Its output; GitError with git's own words when it failed."""
    out, err, code = _communicate(process, stdin or b"")
    if code != 0:
        raise GitError(err.decode(errors="replace").strip() or "git failed")
    return out


def _communicate(process: Running, stdin: bytes) -> tuple[bytes, bytes, int]:
    """Write `stdin` to the command and read its output and error to their ends, all at once
    (neither may wait for the other to be read: a large `cat-file` request and its answer);
    then its exit code."""
    pending = {process.stdout: bytearray(), process.stderr: bytearray()}
    writing = memoryview(stdin)
    poll = select.poll()
    for fd in pending:
        poll.register(fd, select.POLLIN)
    if writing:
        os.set_blocking(process.stdin, False)  # a write takes what the pipe has room for
        poll.register(process.stdin, select.POLLOUT)
    else:
        os.close(process.stdin)
    output: dict[int, bytes] = {}
    while pending or writing:
        for fd, _ in poll.poll():
            if fd == process.stdin:
                try:
                    writing = writing[os.write(fd, writing) :]
                except BlockingIOError:
                    continue
                except BrokenPipeError:
                    writing = writing[:0]  # it stopped reading: its error says why
                if not writing:
                    poll.unregister(fd)
                    os.close(fd)
                continue
            chunk = os.read(fd, 1 << 20)
            if chunk:
                pending[fd] += chunk
            else:
                poll.unregister(fd)
                os.close(fd)
                output[fd] = bytes(pending.pop(fd))
    _, status = os.waitpid(process.pid, 0)
    return output[process.stdout], output[process.stderr], os.waitstatus_to_exitcode(status)


def git(root: Folder, *args: str, stdin: bytes | None = None) -> bytes:
    return wait(start(root, *args), stdin)


def names(data: bytes) -> list[str]:
    """The file names of a `-z` listing."""
    return [n for n in data.decode(errors="surrogateescape").split("\0") if n]


# Reads objects named on its input, answering each at once: the commit a ref names
# (`commit_named`), what files held there (`files_of`). It can be started before either is
# known (`start_ahead`).
CONTENTS = ("cat-file", "--batch")


def files_at(root: Folder, ref: str, files: list[str]) -> tuple[str, dict[str, bytes]]:
    """The commit `ref` names, and the bytes there of each of `files` (relative to `root`)
    that existed: one `git cat-file --batch`."""
    contents = start(root, *CONTENTS)
    try:
        commit = commit_named(contents, ref)
        if not commit:
            raise GitError(f"{ref} is not a commit")
    except GitError:
        stop(contents)
        raise
    return commit, files_of(contents, commit, files)


def commit_named(contents: Running, ref: str) -> str:
    """The commit REF names ("" if none), asked of a `cat-file --batch` (CONTENTS), which
    goes on running for `files_of` (or `stop`). (`git rev-parse` would be one more git to
    start: half a millisecond of a `--changed-since` run waiting for it.)"""
    with contextlib.suppress(BrokenPipeError):  # it ended: reading says so
        os.write(contents.stdin, f"{as_ref(ref)}^{{commit}}\n".encode())
    answer = b""
    while b"\n" not in answer:
        answer += _more(contents)
    header, _, body = answer.partition(b"\n")
    size = _size(header)
    if size is None:
        return ""
    while len(body) < size + 1:  # the commit object, then a newline
        body += _more(contents)
    return header.split(b" ")[0].decode()


def _size(header: bytes) -> int | None:
    """The size of the object a `cat-file --batch` answer announces ("<sha> <type> <size>");
    None for "<name> missing" (a name may hold spaces) or "<name> ambiguous"."""
    fields = header.split(b" ")
    if header.endswith(b" missing") or len(fields) != 3 or not fields[2].isdigit():
        return None
    return int(fields[2])


def _more(process: Running) -> bytes:
    """More of what the command writes; GitError if it ended."""
    chunk = os.read(process.stdout, 1 << 16)
    if not chunk:
        raise GitError("git cat-file ended before it answered")
    return chunk


def files_of(contents: Running, commit: str, files: list[str]) -> dict[str, bytes]:
    """The bytes at `commit` of each of `files` that existed there, asked of `cat-file
    --batch`, which then ends. (A name of two lines would be two requests: it is not asked.)"""
    asked = [name for name in files if "\n" not in name]
    data = wait(contents, "".join(f"{commit}:./{name}\n" for name in asked).encode())
    found: dict[str, bytes] = {}
    position = 0
    for name in asked:
        end = data.index(b"\n", position)
        size = _size(data[position:end])
        position = end + 1
        if size is not None:
            found[name] = data[position : position + size]
            position += size + 1
    return found


def fork_point(root: Folder, ref: str) -> str:
    """The commit a branch left `ref` at (`git merge-base ref HEAD`), so a change is what the
    branch did, as in `git diff ref...HEAD`, not also what others merged into `ref` since;
    `ref` itself when they share no history (or a shallow clone hides it)."""
    git(root, "rev-parse", "--verify", f"{as_ref(ref)}^{{commit}}")
    try:
        return git(root, "merge-base", ref, "HEAD").decode().strip() or ref
    except GitError:
        return ref


def folder_of(path: Folder) -> str:
    """Where git runs for `path`: the folder itself, or the one holding a file."""
    where = os.path.realpath(path)
    return where if os.path.isdir(where) else os.path.dirname(where)


def checkout(path: str, ref: str) -> "tuple[tempfile.TemporaryDirectory[str], str]":
    """Extract `path` as of `ref`'s fork point into a temporary directory; returns it and the
    path inside. A path that did not exist there gives an empty directory (everything is new)."""
    from pathlib import Path

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
