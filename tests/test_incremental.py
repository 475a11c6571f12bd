"""`validate --changed-since`: for every kind of one-file change, the findings of the covered
files are exactly those of a full run (restricted to the same files), in a real git repo whose
dependency index is kept across the changes (so its refresh is exercised too)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest

from reconciler.change import Change
from reconciler.incremental import INDEX_FILE, validate_changed
from reconciler.rules import Context
from reconciler.validate import validate

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 23)
SERVICE = """---
apiVersion: tenantry.dev/v1alpha1
kind: Service
metadata:
  name: {name}
spec:
  occupier: {occupier}
  site: {site}
  definition: {definition}
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("incremental") / "repo"
    shutil.copytree(ROOT / "desired-state", where)
    git(where, "init", "-q", "-b", "main")
    (where / ".gitignore").write_text(".tenantry/\n")
    git(where, "add", "-A")
    git(where, "commit", "-qm", "base")
    return where


def edit(path: str, old: str, new: str) -> Callable[[Path], None]:
    def change(repo: Path) -> None:
        file = repo / path
        text = file.read_text()
        assert old in text, (path, old)
        file.write_text(text.replace(old, new, 1))

    return change


def append(path: str, text: str) -> Callable[[Path], None]:
    def change(repo: Path) -> None:
        with (repo / path).open("a") as handle:
            handle.write(text)

    return change


def delete(path: str) -> Callable[[Path], None]:
    def change(repo: Path) -> None:
        (repo / path).unlink()

    return change


def create(path: str, text: str) -> Callable[[Path], None]:
    def change(repo: Path) -> None:
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)

    return change


def both(*changes: Callable[[Path], None]) -> Callable[[Path], None]:
    def change(repo: Path) -> None:
        for one in changes:
            one(repo)

    return change


CASES: dict[str, tuple[Callable[[Path], None], str | None]] = {
    # an occupier's service file: a second Public IP (S5, maxPerOccupier)
    "S5 second public ip": (
        append(
            "occupiers/acme/services.yaml",
            SERVICE.format(
                name="acme-lb-public-ip-2",
                occupier="acme",
                site="london-bridge",
                definition="public-ip",
            ),
        ),
        "S5",
    ),
    # a voice line that becomes a second public IP on a later date: S5 on that date (S10)
    "S5 on a scheduled date": (
        append(
            "occupiers/acme/services.yaml",
            SERVICE.format(
                name="acme-lb-later-ip",
                occupier="acme",
                site="london-bridge",
                definition="voice-line",
            )
            + '  changes:\n    - {"on": 2027-06-01, definition: public-ip}\n',
        ),
        "S5",
    ),
    "service added (valid)": (
        append(
            "occupiers/acme/services.yaml",
            SERVICE.format(
                name="acme-lb-extension",
                occupier="acme",
                site="london-bridge",
                definition="telephony-extension",
            ),
        ),
        None,
    ),
    # the finding is on the occupier document, the change in the services file (S7)
    "S7 service reduced": (
        edit(
            "occupiers/acme/services.yaml",
            "quantity: 4                           #",
            "quantity: 1 #",
        ),
        "S7",
    ),
    # acme (first by name) takes globex's number: T2 flags globex, whose file did not change
    "T2 number taken": (
        edit(
            "occupiers/acme/occupier.yaml",
            '{site: london-bridge, number: "+442079460003", handset: softphone}',
            '{site: london-bridge, number: "+442079460100", handset: softphone}',
        ),
        "T2",
    ),
    "N3 floor port taken": (
        edit(
            "occupiers/acme/occupier.yaml",
            "floorPort: F1-06, role: voice",
            "floorPort: F2-07, role: voice",
        ),
        "N3",
    ),
    "definition changed": (
        edit("catalogue/voice.yaml", "phoneNumbers: 1", "phoneNumbers: 0"),
        "S7",
    ),
    "site changed (pools overlap)": (
        edit("sites/london-bridge.yaml", "cidr: 203.0.113.0/26", "cidr: 198.51.100.0/24"),
        "N2",
    ),
    "site changed (space removed)": (
        edit("sites/london-bridge.yaml", "name: suite-202", "name: suite-299"),
        "N3",
    ),
    "site changed (number block not real)": (
        edit("sites/london-bridge.yaml", '"+442079460999"', '"+449999999999"'),
        "T2",
    ),
    "contracts deleted": (delete("occupiers/globex/contracts.yaml"), "S1"),
    # a file git ignores is desired state all the same: a full run reads it
    "ignored file": (
        both(
            append(".gitignore", "local/\n"),
            create(
                "local/more.yaml",
                SERVICE.format(
                    name="acme-lb-public-ip-3",
                    occupier="acme",
                    site="london-bridge",
                    definition="public-ip",
                ),
            ),
        ),
        "S5",
    ),
    "new file with a duplicate": (
        create(
            "occupiers/zed/services.yaml",
            SERVICE.format(
                name="acme-lb-ivr", occupier="acme", site="london-bridge", definition="ivr"
            ),
        ),
        "duplicate",
    ),
    "schema error": (edit("occupiers/acme/contracts.yaml", "atEnd: keep", "atEnd: 3"), "schema"),
}


def as_tuples(findings: list) -> list[tuple[object, ...]]:  # type: ignore[type-arg]
    return [(f.file, f.line, f.column, f.rule, str(f.severity), f.message, f.on) for f in findings]


@pytest.mark.parametrize("actor", [None, "alice"])
@pytest.mark.parametrize("case", list(CASES))
def test_same_findings_as_a_full_run(repo: Path, case: str, actor: str | None) -> None:
    change, rule = CASES[case]
    git(repo, "checkout", "-q", "--", ".")
    git(repo, "clean", "-qfd", "-e", ".tenantry")
    change(repo)
    context = Context(today=TODAY, actor=actor)
    partial = validate_changed(str(repo), "HEAD", context)
    full = validate(str(repo), TODAY, actor, context=context)
    covered = set(partial.covered)
    expected = [f for f in full.findings if f.file in covered]
    assert as_tuples(partial.findings) == as_tuples(expected)
    if rule is not None:
        assert rule in {f.rule for f in partial.findings}, as_tuples(partial.findings)
    if not partial.full:
        assert len(covered) < len({s.file for s in full.repo.sources.values()})
    git(repo, "checkout", "-q", "--", ".")
    git(repo, "clean", "-qfd", "-e", ".tenantry")


def test_covers_files_whose_findings_depend_on_the_change(repo: Path) -> None:
    """T2: the number acme takes is globex's; globex's file did not change but is covered."""
    CASES["T2 number taken"][0](repo)
    try:
        partial = validate_changed(str(repo), "HEAD", Context(today=TODAY))
        flagged = {Path(f.file).relative_to(repo).as_posix() for f in partial.findings}
        assert "occupiers/globex/occupier.yaml" in flagged
        assert not partial.full
    finally:
        git(repo, "checkout", "-q", "--", ".")


def test_committed_changes_count_since_the_ref(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    try:
        CASES["S5 second public ip"][0](repo)
        git(repo, "commit", "-qam", "second public ip")
        nothing = validate_changed(str(repo), "HEAD", Context(today=TODAY))
        assert nothing.findings == [] and nothing.documents == 0
        since_main = validate_changed(str(repo), "main", Context(today=TODAY))
        assert "S5" in {f.rule for f in since_main.findings}
    finally:
        git(repo, "checkout", "-q", "main")
        git(repo, "branch", "-qD", "feature")


def test_bench_repo_site_change(tmp_path: Path) -> None:
    """The bench's shape (one file per occupier): a Site change covers the site's occupiers
    and every Site, not the other sites' occupiers."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from generate import generate
    finally:
        sys.path.pop(0)
    repo = tmp_path / "bench"
    generate(repo, 4, 40)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    context = Context(today=TODAY)
    for change in (
        edit("sites/site-001.yaml", "cidr: 100.64.4.0/22", "cidr: 100.64.0.0/22"),
        edit("occupiers/site-002/occ-003.yaml", "quantity: 2", "quantity: 1"),
        edit("catalogue/services.yaml", "wifiUsers: 1", "wifiUsers: 0"),
    ):
        git(repo, "checkout", "-q", "--", ".")
        change(repo)
        partial = validate_changed(str(repo), "HEAD", context)
        full = validate(str(repo), TODAY, context=context)
        covered = set(partial.covered)
        assert partial.findings, "each change makes an error"
        assert as_tuples(partial.findings) == as_tuples(
            [f for f in full.findings if f.file in covered]
        )
    site_change = validate_changed(str(repo), "HEAD", context)  # the catalogue: everything
    assert len(site_change.covered) > 40


def touches(change: Change | None) -> list[tuple[object, ...]]:
    """What P1 judged (nothing when the rules did not run: a duplicate stops them)."""
    found = change.touches.values() if change is not None else ()
    return sorted((str(t.ref), t.how, t.sites, t.file) for t in found)


@pytest.mark.parametrize("case", list(CASES))
def test_p1_since_the_ref_from_the_partial_repo(
    repo: Path, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--changed-since HEAD --actor`: P1's base is the partial repo as it was at HEAD, not a
    checkout of HEAD loaded in full (which took longer than a full validate at 10,000
    occupiers); the change and the findings are those measured from the full checkout."""
    from reconciler import baseline
    from reconciler.validate import measured_change

    change, _ = CASES[case]
    git(repo, "checkout", "-q", "--", ".")
    git(repo, "clean", "-qfd", "-e", ".tenantry")
    change(repo)
    try:
        context = Context(today=TODAY, actor="bob")
        base, label = baseline.at_ref(str(repo), "HEAD")
        full = validate(
            str(repo), TODAY, "bob", context=context._replace(base=base, base_label=label)
        )
        with monkeypatch.context() as patched:  # (a case that runs in full reads it lazily too)
            patched.setattr(baseline, "at_ref", lambda *_: pytest.fail("loaded HEAD in full"))
            partial = validate_changed(str(repo), "HEAD", context, judged_from="HEAD")
        covered = set(partial.covered)
        assert as_tuples(partial.findings) == as_tuples(
            [f for f in full.findings if f.file in covered]
        )
        assert touches(measured_change(partial.loaded.repo)) == touches(measured_change(full.repo))
        judged = measured_change(partial.loaded.repo)
        assert judged is None or judged.base == label
        if case in ("site changed (space removed)", "contracts deleted"):
            # bob is not an admin of london-bridge; a deletion is judged at the deleted file
            assert "P1" in {f.rule for f in partial.findings}
    finally:
        git(repo, "checkout", "-q", "--", ".")
        git(repo, "clean", "-qfd", "-e", ".tenantry")


def test_p1_since_a_ref_that_moved_on_loads_the_fork_point(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A branch behind REF: P1 measures from where the branch left REF (as `--base`), so what
    others merged into REF since is not the actor's change; only the files that differ since
    are read from git there, never a checkout loaded in full."""
    from reconciler import baseline

    monkeypatch.setattr(baseline, "at_ref", lambda *_: pytest.fail("loaded main in full"))
    same = edit("occupiers/globex/services.yaml", 'price: "230.00"', 'price: "240.00"')
    git(repo, "checkout", "-q", "-b", "behind")
    same(repo)  # the branch and main both make this edit: not since main, but since the fork
    git(repo, "commit", "-qam", "globex: the same edit on both")
    git(repo, "checkout", "-q", "main")
    same(repo)
    edit("occupiers/hooli/services.yaml", 'price: "55.00"', 'price: "60.00"')(repo)
    git(repo, "commit", "-qam", "hooli: new price")
    git(repo, "checkout", "-q", "behind")
    try:
        CASES["S7 service reduced"][0](repo)
        fork = git(repo, "merge-base", "main", "HEAD").strip()
        partial = validate_changed(
            str(repo), "main", Context(today=TODAY, actor="bob"), judged_from="main"
        )
        from reconciler.validate import measured_change

        change = measured_change(partial.loaded.repo)
        assert change is not None and change.base == f"main ({fork[:12]})"
        # globex's edit is the branch's since the fork, but not since main: this run does not
        # load its file (nor report on it), so P1 does not count it either
        assert [str(r) for r in change.touches] == ["Service/acme-lb-wifi-users"]
        full = validate(
            str(repo), TODAY, context=Context(today=TODAY, actor="bob", base_ref="main")
        )
        covered = set(partial.covered)
        assert as_tuples(partial.findings) == as_tuples(
            [f for f in full.findings if f.file in covered]
        )
        assert "P1" in {f.rule for f in partial.findings}  # bob is not london-bridge's admin
    finally:
        git(repo, "checkout", "-q", "--", ".")
        git(repo, "checkout", "-q", "main")
        git(repo, "reset", "-q", "--hard", "HEAD~1")
        git(repo, "branch", "-qD", "behind")


def test_p1_since_a_ref_that_moved_on_judges_a_deleted_file(repo: Path) -> None:
    """A branch behind REF deletes a file: P1 judges the deletion (at the deleted file, which
    the run covers) as a full run from the fork point does."""
    with behind_main(repo, "behind"):
        CASES["contracts deleted"][0](repo)
        git(repo, "commit", "-qam", "globex: contracts deleted")
        context = Context(today=TODAY, actor="bob")
        partial = validate_changed(str(repo), "main", context, judged_from="main")
        full = validate(str(repo), TODAY, context=context._replace(base_ref="main"))
        covered = set(partial.covered)
        assert as_tuples(partial.findings) == as_tuples(
            [f for f in full.findings if f.file in covered]
        )
        assert "P1" in {f.rule for f in partial.findings}  # bob is not london-bridge's admin


@contextmanager
def behind_main(repo: Path, branch: str) -> Iterator[None]:
    """On a new `branch`, left from main just before main's next commit (hooli's new price);
    afterwards main again, without that commit nor the branch."""
    git(repo, "checkout", "-q", "-b", branch)
    git(repo, "checkout", "-q", "main")
    edit("occupiers/hooli/services.yaml", 'price: "55.00"', 'price: "60.00"')(repo)
    git(repo, "commit", "-qam", "hooli: new price")
    git(repo, "checkout", "-q", branch)
    try:
        yield
    finally:
        git(repo, "checkout", "-q", "--", ".")
        git(repo, "checkout", "-q", "main")
        git(repo, "reset", "-q", "--hard", "HEAD~1")
        git(repo, "branch", "-qD", branch)


@pytest.mark.parametrize("actor", [None, "bob"])
def test_git_commands_started_ahead_are_taken_over(repo: Path, actor: str | None) -> None:
    """The console entry point starts git's commands before it imports the models; the run
    takes every one of them over, and finds what a run that starts them itself finds."""
    from reconciler import gitbase
    from reconciler.cli import entry

    CASES["contracts deleted"][0](repo)
    try:
        context = Context(today=TODAY, actor=actor)
        by_itself = validate_changed(str(repo), "HEAD", context, judged_from="HEAD")
        entry.git_ahead(str(repo), "HEAD", fork=actor is not None)
        # cat-file (the commit HEAD names, the files as they were), merge-base, ls-files, diff
        assert len(gitbase.started_ahead()) == (4 if actor else 3)
        ahead = validate_changed(str(repo), "HEAD", context, judged_from="HEAD")
        assert gitbase.started_ahead() == {}
        assert as_tuples(ahead.findings) == as_tuples(by_itself.findings)
        assert ("P1" in {f.rule for f in ahead.findings}) == (actor is not None)
    finally:
        gitbase.stop_ahead()
        git(repo, "checkout", "-q", "--", ".")


def test_the_console_script_finds_what_the_command_finds_in_process(repo: Path) -> None:
    from click.testing import CliRunner

    from reconciler.cli import main

    CASES["S5 second public ip"][0](repo)
    try:
        args = ["validate", str(repo), "--changed-since", "HEAD", "--today", str(TODAY)]
        script = Path(sys.executable).with_name("tenantry")
        done = subprocess.run([str(script), *args], capture_output=True, text=True, timeout=120)
        in_process = CliRunner().invoke(main, args)  # nothing started ahead
        assert (done.returncode, done.stdout) == (in_process.exit_code, in_process.stdout)
        assert "error[S5]" in done.stdout or "warning[S5]" in done.stdout, done.stdout
    finally:
        git(repo, "checkout", "-q", "--", ".")


def test_the_index_leaves_no_write_ahead_log_for_the_next_run(tmp_path: Path) -> None:
    """A run closes the index: SQLite folds its write-ahead log back into the file. Left
    open (the CLI ends with os._exit), the log of a build (the whole index) stays, and every
    later process reads all of it when it opens the index."""
    where = tmp_path / "repo"
    shutil.copytree(ROOT / "desired-state", where)
    git(where, "init", "-q")
    git(where, "add", "-A")
    git(where, "commit", "-qm", "base")
    script = Path(sys.executable).with_name("tenantry")
    args = [str(script), "validate", str(where), "--changed-since", "HEAD"]
    for _ in range(2):  # the build, then a refresh
        done = subprocess.run(args, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        index = where / INDEX_FILE
        assert index.stat().st_size > 0
        log = index.with_name(index.name + "-wal")
        assert not log.exists() or log.stat().st_size == 0


def test_a_site_loaded_for_context_only_costs_no_number_checks(repo: Path) -> None:
    """T2 checks a site's number blocks against libphonenumber's metadata (a tenth of a
    second to load) only when the site's findings are reported."""
    CASES["S5 second public ip"][0](repo)
    try:
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "reconciler.cli", "validate", str(repo),
             "--changed-since", "HEAD", "--today", str(TODAY)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert "S5" in done.stdout, done.stdout  # london-bridge is loaded, not reported
        assert "| phonenumbers" not in done.stderr
    finally:
        git(repo, "checkout", "-q", "--", ".")


def test_what_git_does_not_track_is_read_as_a_full_load_reads_it(tmp_path: Path) -> None:
    """Files git does not track, ignored ones included, are new; a folder git lists whole is
    walked as discover() walks it (hidden folders and node_modules are not)."""
    from reconciler.gitbase import UNTRACKED, names
    from reconciler.gitbase import git as run_git
    from reconciler.incremental.index import untracked

    for name in ["a/b/x.yaml", "a/y.yaml", "a/notes.txt", ".venv/lib/z.yaml",
                 "node_modules/x/q.yaml", "ign/i.yaml", "top.yaml", "tracked/t.yaml",
                 "tracked/new.yml"]:  # fmt: skip
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}\n")
    (tmp_path / ".gitignore").write_text("ign/\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".gitignore", "tracked/t.yaml")
    git(tmp_path, "commit", "-qm", "base")

    def listed(folder: Path) -> set[str]:
        return untracked(str(folder), names(run_git(folder, *UNTRACKED)))

    assert listed(tmp_path) == {"a/b/x.yaml", "a/y.yaml", "ign/i.yaml", "top.yaml",
                                "tracked/new.yml"}  # fmt: skip
    assert listed(tmp_path / "a") == {"b/x.yaml", "y.yaml"}  # git says "./"


def test_pre_commit_takes_over_what_was_started_ahead(repo: Path) -> None:
    """`tenantry pre-commit` as the console script runs it: git's commands for what the
    commit changes and for the change since HEAD are started before the models import, and
    every one of them is taken over; the findings are those of a run that starts them."""
    from click.testing import CliRunner

    from reconciler import gitbase
    from reconciler.cli import entry, main

    CASES["S5 second public ip"][0](repo)
    args = ["pre-commit", "occupiers/acme/services.yaml", "--path", str(repo)]
    args += ["--today", str(TODAY)]
    try:
        by_itself = CliRunner().invoke(main, args)
        assert entry.pre_commit_args(args) == (
            ["occupiers/acme/services.yaml"],
            {"--path": [str(repo)], "--today": [str(TODAY)]},
        )
        entry.commit_ahead(str(repo))
        assert len(gitbase.started_ahead()) == len(gitbase.what_a_commit_changes()) + 3
        ahead = CliRunner().invoke(main, args)
        assert gitbase.started_ahead() == {}
        assert (ahead.exit_code, ahead.output) == (by_itself.exit_code, by_itself.output)
        assert "S5" in ahead.output and "documents checked" in ahead.output
    finally:
        gitbase.stop_ahead()
        git(repo, "checkout", "-q", "--", ".")


def test_changed_since_head_judged_from_a_pull_requests_base(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--changed-since HEAD --base main`: the files changed since HEAD are checked, and P1
    judges what the branch changed in them since it left main (a commit on the branch
    included), as a full run with `--base main` does; main's own later commits are not the
    branch's change. No checkout of main is loaded."""
    from click.testing import CliRunner

    from reconciler import baseline
    from reconciler.cli import main
    from reconciler.validate import measured_change

    with behind_main(repo, "feature"):
        CASES["S5 second public ip"][0](repo)
        git(repo, "commit", "-qam", "acme: a second public IP")
        CASES["S7 service reduced"][0](repo)  # the same file, in the work tree
        fork = git(repo, "merge-base", "main", "HEAD").strip()
        context = Context(today=TODAY, actor="bob")
        with monkeypatch.context() as patched:
            patched.setattr(baseline, "at_ref", lambda *_: pytest.fail("loaded main in full"))
            partial = validate_changed(str(repo), "HEAD", context, judged_from="main")
        change = measured_change(partial.loaded.repo)
        assert change is not None and change.base == f"main ({fork[:12]})"
        assert sorted(str(r) for r in change.touches) == [
            "Service/acme-lb-public-ip-2",
            "Service/acme-lb-wifi-users",
        ]
        full = validate(str(repo), TODAY, context=context._replace(base_ref="main"))
        covered = set(partial.covered)
        assert as_tuples(partial.findings) == as_tuples(
            [f for f in full.findings if f.file in covered]
        )
        assert "P1" in {f.rule for f in partial.findings}  # bob is not london-bridge's admin
        args = ["validate", str(repo), "--changed-since", "HEAD", "--base", "main"]
        by_cli = CliRunner().invoke(main, [*args, "--actor", "bob", "--today", str(TODAY)])
        assert by_cli.exit_code == 1 and f"since main ({fork[:12]})" in by_cli.stderr
        assert by_cli.stdout.count("error[P1]") == sum(f.rule == "P1" for f in partial.findings)


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "{repo}", "--changed-since={option}"],
        ["validate", "{repo}", "--changed-since", "HEAD", "--base={option}", "--actor", "bob"],
        ["validate", "{repo}", "--base={option}", "--actor", "bob"],
        ["plan", "{repo}", "--base={option}"],
    ],
)
def test_a_ref_that_is_a_git_option_is_refused(
    repo: Path, tmp_path: Path, args: list[str]
) -> None:
    """`--output=FILE` given as a ref would have `git diff` write (or empty) FILE: it is
    refused as no ref before git runs, by the console script (which starts git early) too."""
    target = tmp_path / "written-by-git"
    option = f"--output={target}"
    argv = [a.format(repo=repo, option=option) for a in args]
    script = Path(sys.executable).with_name("tenantry")
    done = subprocess.run([str(script), *argv], capture_output=True, text=True, timeout=120)
    assert done.returncode == 64, done.stdout + done.stderr
    assert f"{option} is not a git ref" in done.stderr
    assert not target.exists()
