"""The git runner (`reconciler.gitbase`): git started by posix_spawn in the folder asked
about, its output read whole whatever its size, its own words when it says no."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from reconciler import gitbase


def commit(repo: Path, files: dict[str, bytes]) -> str:
    for name, body in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes(body)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=repo,
            check=True,
            capture_output=True,
        )
    return gitbase.git(repo, "rev-parse", "HEAD").decode().strip()


def test_a_request_and_an_answer_larger_than_a_pipe_neither_waits_for_the_other(
    tmp_path: Path,
) -> None:
    """`cat-file --batch` answers while it is still being asked: megabytes each way (a pipe
    holds 64 KiB) come through whole, as a pull request touching thousands of files needs."""
    files = {f"d{i % 7}/f{i}.yaml": (f"name: f{i}\n" * 400).encode() for i in range(600)}
    head = commit(tmp_path, files)
    names = sorted(files) * 8
    assert len("".join(f"HEAD:./{name}\n" for name in names)) > 65536  # larger than a pipe
    found_commit, found = gitbase.files_at(tmp_path, "HEAD", names)
    assert found_commit == head
    assert found == files
    assert sum(len(body) for body in found.values()) > 16 * 65536


def test_git_runs_in_the_folder_asked_about(tmp_path: Path) -> None:
    commit(tmp_path, {"sub/a.yaml": b"a: 1\n"})
    assert gitbase.git(tmp_path / "sub", "rev-parse", "--show-prefix").decode() == "sub/\n"


def test_git_saying_no_is_a_git_error_in_its_own_words(tmp_path: Path) -> None:
    commit(tmp_path, {"a.yaml": b"a: 1\n"})
    with pytest.raises(gitbase.GitError, match="no-such-ref"):
        gitbase.git(tmp_path, "diff", "--name-only", "no-such-ref", "--")


def test_without_git_on_the_path_the_error_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(gitbase, "_found", [])
    with pytest.raises(gitbase.GitError, match="git is not installed"):
        gitbase.git(tmp_path, "status")


def test_commands_started_ahead_and_not_taken_over_are_stopped(tmp_path: Path) -> None:
    """A usage error after the entry point started git's commands leaves no git behind: not
    `cat-file --batch`, which would wait for its request until this process ends."""
    commit(tmp_path, {"a.yaml": b"a: 1\n"})
    gitbase.start_ahead(tmp_path, [gitbase.CONTENTS, ("rev-parse", "HEAD")])
    pids = [running.pid for running in gitbase.started_ahead().values()]
    gitbase.stop_ahead()
    assert gitbase.started_ahead() == {}
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reaped already


def test_the_commit_a_ref_names_is_asked_of_the_cat_file_that_then_reads_the_files(
    tmp_path: Path,
) -> None:
    """One `cat-file --batch` answers both: the commit first (at once, while it goes on
    running), then the files there; an unknown ref names none, and a ref of two lines (two
    requests) is refused before git sees it."""
    head = commit(tmp_path, {"a.yaml": b"a: 1\n", "b c.yaml": b"b: 2\n"})
    contents = gitbase.start(tmp_path, *gitbase.CONTENTS)
    assert gitbase.commit_named(contents, "HEAD") == head
    assert gitbase.commit_named(contents, "no-such-ref") == ""
    assert gitbase.commit_named(contents, "no such ref 12") == ""  # "<name> missing"
    found = gitbase.files_of(contents, head, ["b c.yaml", "gone 1 2.yaml", "x\ny.yaml"])
    assert found == {"b c.yaml": b"b: 2\n"}
    with pytest.raises(ChildProcessError):
        os.waitpid(contents.pid, os.WNOHANG)  # it ended, and was reaped
    with pytest.raises(gitbase.GitError, match="not a git ref"):
        gitbase.files_at(tmp_path, "HEAD\nHEAD:a.yaml", ["b.yaml"])


def test_outside_a_repository_cat_file_is_a_git_error(tmp_path: Path) -> None:
    with pytest.raises(gitbase.GitError):
        gitbase.files_at(tmp_path, "HEAD", ["a.yaml"])
