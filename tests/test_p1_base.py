"""P1's base of a pull request (`validate --base REF`): the change measured from the loaded
desired state and git's copy of the files that differ since REF's fork point is the one
measured from a full checkout of the fork point (`baseline.at_ref`), for every kind of change
of the incremental tests, committed or not, and for files git does not track."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from reconciler import baseline, gitbase
from reconciler.change import Change, between, state
from reconciler.load import Loaded, load
from reconciler.rules import Context
from reconciler.validate import measured_change, validate
from tests.test_incremental import CASES, SERVICE, TODAY, append, as_tuples, edit, git

ROOT = Path(__file__).resolve().parent.parent
MOVED = "occupiers/acme/moved.yaml"


def touches(change: Change | None) -> list[tuple[object, ...]]:
    found = change.touches.values() if change is not None else ()
    return sorted((str(t.ref), t.how, t.sites, t.file) for t in found)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("p1base") / "repo"
    shutil.copytree(ROOT / "desired-state", where)
    (where / ".gitignore").write_text(".tenantry/\nlocal/\n")
    git(where, "init", "-q", "-b", "main")
    git(where, "add", "-A")
    git(where, "commit", "-qm", "base")
    return where


def move_a_service(repo: Path) -> None:
    """The last service of acme's file moves to a file of its own, unchanged."""
    services = repo / "occupiers/acme/services.yaml"
    text = services.read_text()
    head, sep, last = text.rpartition("\n---\n")
    services.write_text(head + "\n")
    (repo / MOVED).write_text(sep.lstrip("\n") + last)


def ignored_file(repo: Path) -> None:
    """A file git ignores is still desired state to tenantry: its service is new since the
    base (P1 judges it)."""
    (repo / "local").mkdir(exist_ok=True)
    (repo / "local/services.yaml").write_text(
        SERVICE.format(
            name="hooli-mw-extension",
            occupier="hooli",
            site="manchester-works",
            definition="telephony-extension",
        )
    )


EXTRA = {"service moved to another file": move_a_service, "ignored file": ignored_file}
CHANGES = {name: change for name, (change, _) in CASES.items()} | EXTRA


def clean(repo: Path) -> None:
    git(repo, "checkout", "-q", "--", ".")
    git(repo, "clean", "-qfdx", "-e", ".tenantry")


def judged_both_ways(repo: Path, ref: str, actor: str) -> None:
    context = Context(today=TODAY, actor=actor)
    base, label = baseline.at_ref(str(repo), ref)
    full = validate(str(repo), TODAY, actor, context=context._replace(base=base, base_label=label))
    fast = validate(str(repo), TODAY, actor, context=context._replace(base_ref=ref))
    assert as_tuples(fast.findings) == as_tuples(full.findings)
    assert touches(measured_change(fast.repo)) == touches(measured_change(full.repo))
    if not any(f.is_error for f in full.loaded.findings):  # the rules ran: a change was measured
        change = baseline.change_since(fast.loaded, ref)
        expected = between(base, state(fast.repo, str(repo)), label, str(repo))
        assert touches(change) == touches(expected)
        assert change.base == expected.base == label
        for site, admins in change.admins.items():
            assert expected.admins[site] == admins
        same_as_a_checkout(fast.loaded, ref)


def same_as_a_checkout(loaded: Loaded, ref: str) -> None:
    """The plan's base (`plan --base`): the documents of a checkout, from the same files."""
    then = baseline.repo_at(loaded, ref)[0]
    tmp, where = gitbase.checkout(loaded.root, ref)
    try:
        whole = load(where).repo
    finally:
        tmp.cleanup()
    for table in ("sites", "definitions", "occupiers", "contracts", "services"):
        assert getattr(then, table) == getattr(whole, table), table
    assert {
        r: (os.path.relpath(s.file, loaded.root), s.index) for r, s in then.sources.items()
    } == {r: (os.path.relpath(s.file, where), s.index) for r, s in whole.sources.items()}


@pytest.mark.parametrize("case", list(CHANGES))
def test_the_change_in_the_work_tree(repo: Path, case: str) -> None:
    clean(repo)
    CHANGES[case](repo)
    try:
        judged_both_ways(repo, "HEAD", "bob")
        judged_both_ways(repo, "HEAD", "alice")
        if case == "ignored file":
            change = baseline.change_since(validate(str(repo), TODAY).loaded, "HEAD")
            assert [str(r) for r in change.touches] == ["Service/hooli-mw-extension"]
    finally:
        clean(repo)


@pytest.mark.parametrize(
    "case", ["S5 second public ip", "contracts deleted", "site changed (space removed)"]
)
def test_the_change_of_a_branch_behind_its_base(repo: Path, case: str) -> None:
    """Committed on a branch, while main moved on: measured from the fork point, so what
    main gained since is not the branch's change."""
    clean(repo)
    git(repo, "checkout", "-q", "-b", "feature")
    git(repo, "checkout", "-q", "main")
    edit("occupiers/hooli/services.yaml", 'price: "55.00"', 'price: "60.00"')(repo)
    append("occupiers/globex/services.yaml", "\n")(repo)
    git(repo, "commit", "-qam", "main moves on")
    git(repo, "checkout", "-q", "feature")
    try:
        CHANGES[case](repo)
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", case)
        judged_both_ways(repo, "main", "bob")
        change = baseline.change_since(validate(str(repo), TODAY).loaded, "main")
        assert "Service/hooli-mw-internet" not in {str(r) for r in change.touches}
    finally:
        clean(repo)
        git(repo, "checkout", "-q", "main")
        git(repo, "reset", "-q", "--hard", "HEAD~1")
        git(repo, "branch", "-qD", "feature")


def test_an_unknown_base_is_one_line_before_anything_loads(repo: Path) -> None:
    from click.testing import CliRunner

    from reconciler.cli import main
    from reconciler.cli.common import EXIT_USAGE

    done = CliRunner().invoke(
        main, ["validate", str(repo), "--today", "2026-11-23", "--actor", "bob", "--base", "nope"]
    )
    assert done.exit_code == EXIT_USAGE
    assert "Error: --base nope:" in done.output and "Traceback" not in done.output


@pytest.mark.parametrize("folder", ["aaa", "zzz"])
def test_a_name_the_base_declared_twice_is_the_first_one_loaded(repo: Path, folder: str) -> None:
    """The base declared acme-lb-wifi-users twice (a file since deleted): a checkout loads
    the one of the file that comes first, so the change is an edit when the deleted copy
    came first and nothing when it came last."""
    clean(repo)
    git(repo, "checkout", "-q", "-b", "twice")
    copy = repo / "occupiers" / folder / "copy.yaml"
    copy.parent.mkdir()
    copy.write_text(
        SERVICE.format(
            name="acme-lb-wifi-users",
            occupier="acme",
            site="london-bridge",
            definition="wifi-user",
        )
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a copy")
    try:
        copy.unlink()
        judged_both_ways(repo, "HEAD", "bob")
        change = baseline.change_since(validate(str(repo), TODAY).loaded, "HEAD")
        expected = ["Service/acme-lb-wifi-users"] if folder == "aaa" else []
        assert [str(r) for r in change.touches] == expected
    finally:
        clean(repo)
        git(repo, "checkout", "-q", "main")
        git(repo, "branch", "-qD", "twice")


def test_a_file_the_base_could_not_load_had_no_documents(repo: Path) -> None:
    """A file that was not UTF-8 at the base loaded to nothing there (its checkout is refused
    whole), so the document now written in it is new."""
    clean(repo)
    git(repo, "checkout", "-q", "-b", "garbled")
    extra = repo / "occupiers/hooli/extra.yaml"
    service = SERVICE.format(
        name="hooli-mw-extension",
        occupier="hooli",
        site="manchester-works",
        definition="telephony-extension",
    )
    extra.write_bytes(b"# caf\xe9 (Latin-1)\n" + service.encode())
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a file that is not UTF-8")
    try:
        extra.write_text(service)
        judged_both_ways(repo, "HEAD", "alice")
        change = baseline.change_since(validate(str(repo), TODAY).loaded, "HEAD")
        assert [(str(r), t.how) for r, t in change.touches.items()] == [
            ("Service/hooli-mw-extension", "added")
        ]
    finally:
        clean(repo)
        git(repo, "checkout", "-q", "main")
        git(repo, "branch", "-qD", "garbled")
