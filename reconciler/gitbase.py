"""Read the desired state as it was at a git ref (the pull request's base)."""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from pathlib import Path


class GitError(Exception):
    pass


def _git(cwd: Path, *args: str) -> bytes:
    try:
        return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True).stdout
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    except subprocess.CalledProcessError as exc:
        raise GitError(exc.stderr.decode(errors="replace").strip() or str(exc)) from None


def checkout(path: str, ref: str) -> tuple[tempfile.TemporaryDirectory[str], str]:
    """Extract `path` as of `ref` into a temporary directory; returns it and the path inside.
    A path that did not exist at `ref` gives an empty directory (everything is new)."""
    where = Path(path).resolve()
    folder = where if where.is_dir() else where.parent
    top = Path(_git(folder, "rev-parse", "--show-toplevel").decode().strip())
    relative = where.relative_to(top)
    _git(top, "rev-parse", "--verify", f"{ref}^{{commit}}")
    tmp = tempfile.TemporaryDirectory(prefix="tenantry-base-")
    try:
        data = _git(top, "archive", "--format=tar", ref, "--", str(relative) or ".")
    except GitError:
        data = b""
    if data:
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            archive.extractall(tmp.name, filter="data")
    target = Path(tmp.name) / relative
    if not target.exists():
        target.mkdir(parents=True)
    return tmp, str(target)
