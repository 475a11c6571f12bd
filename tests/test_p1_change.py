"""P1 on the change, in real git repositories with the example desired state: what a site
admin's pull request is judged on (`--base`), approvals, and `apply` judged on what changed
since the desired state the ledger recorded at the last apply."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler.cli import main
from tests.test_incremental import git

ROOT = Path(__file__).resolve().parent.parent
TODAY = ["--today", "2026-11-23"]
HOOLI = "occupiers/hooli/services.yaml"  # manchester-works (bob, ops-team)
ACME = "occupiers/acme/services.yaml"  # london-bridge (alice, ops-team)


def tenantry(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def edit(repo: Path, path: str, old: str, new: str) -> None:
    file = repo / path
    text = file.read_text()
    assert old in text, (path, old)
    file.write_text(text.replace(old, new, 1))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The example desired state committed on main, and a branch for the change."""
    where = tmp_path / "desired"
    shutil.copytree(ROOT / "desired-state", where)
    (where / ".gitignore").write_text(".tenantry/\nrendered/\n")
    git(where, "init", "-q", "-b", "main")
    git(where, "add", "-A")
    git(where, "commit", "-qm", "base")
    git(where, "checkout", "-qb", "change")
    return where


def p1(result: Result) -> list[str]:
    return [line for line in result.stdout.splitlines() if "error[P1]" in line]


def test_site_admins_price_edit_at_her_site_passes_validate_and_plan(repo: Path) -> None:
    edit(repo, ACME, 'price: "90.00"', 'price: "95.00"')
    git(repo, "commit", "-qam", "acme: new price")
    done = tenantry("validate", str(repo), *TODAY, "--actor", "alice", "--base", "main")
    assert done.exit_code == 0, done.output
    assert "note: P1 judged alice on 1 document(s) changed since main (" in done.stderr
    assert "touching london-bridge" in done.stderr
    # without a base every document counts: the old behaviour, said in one line
    full = tenantry("validate", str(repo), *TODAY, "--actor", "alice")
    assert full.exit_code == 1 and len(p1(full)) > 10
    assert "no base to compare with" in full.stderr
    plan = tenantry(
        "plan",
        str(repo),
        *TODAY,
        "--actor",
        "alice",
        "--base",
        "main",
        "--state",
        str(repo / ".tenantry/none.db"),
    )
    assert plan.exit_code in (0, 2), plan.output
    assert "error[P1]" not in plan.output


def test_the_same_edit_at_another_site_fails_until_its_admin_approves(repo: Path) -> None:
    edit(repo, HOOLI, 'price: "55.00"', 'price: "60.00"')
    git(repo, "commit", "-qam", "hooli: new price")
    args = ["validate", str(repo), *TODAY, "--actor", "alice", "--base", "main"]
    done = tenantry(*args)
    assert done.exit_code == 1
    [line] = p1(done)
    assert line.startswith(f"{repo}/{HOOLI}:")
    assert "alice is not an admin of site manchester-works, which Service hooli-" in line
    assert (
        "(edited) touches (hint: an admin of manchester-works must approve it: bob or "
        "ops-team)" in line
    )
    assert tenantry(*args, "--approved-by", "bob").exit_code == 0
    assert tenantry(*args, env={"TENANTRY_APPROVERS": "carol,bob"}).exit_code == 0
    refused = tenantry(*args, "--approved-by", "carol")
    assert "neither alice nor approver carol is an admin" in refused.stdout
    # the pre-commit style check of the work tree judges the same change
    edit(repo, HOOLI, 'price: "60.00"', 'price: "61.00"')
    partial = tenantry("validate", str(repo), *TODAY, "--actor", "alice", "--changed-since", "HEAD")
    assert partial.exit_code == 1 and len(p1(partial)) == 1
    assert "on 1 document(s) changed since HEAD (" in partial.stderr


def test_a_branch_is_not_judged_on_what_others_merged_into_its_base(repo: Path) -> None:
    """alice branched before bob's price edit at manchester-works reached main: her pull
    request is her edit at london-bridge only, as `git diff main...HEAD` shows it."""
    edit(repo, ACME, 'price: "90.00"', 'price: "95.00"')
    git(repo, "commit", "-qam", "acme: new price")
    git(repo, "checkout", "-q", "main")
    edit(repo, HOOLI, 'price: "55.00"', 'price: "60.00"')
    git(repo, "commit", "-qam", "hooli: new price")
    fork = git(repo, "merge-base", "main", "change").strip()
    git(repo, "checkout", "-q", "change")
    done = tenantry("validate", str(repo), *TODAY, "--actor", "alice", "--base", "main")
    assert done.exit_code == 0, done.output
    assert p1(done) == []
    assert f"on 1 document(s) changed since main ({fork[:12]}), touching london-bridge" in (
        done.stderr
    )
    plan = tenantry(
        "plan",
        str(repo),
        *TODAY,
        "--actor",
        "alice",
        "--base",
        "main",
        "--state",
        str(repo / ".tenantry/none.db"),
    )
    assert "error[P1]" not in plan.output and plan.exit_code in (0, 2), plan.output


def test_deleting_an_occupier_touches_its_sites(repo: Path) -> None:
    shutil.rmtree(repo / "occupiers/hooli")
    git(repo, "commit", "-qam", "hooli leaves")
    done = tenantry("validate", str(repo), *TODAY, "--actor", "alice", "--base", "main")
    lines = p1(done)
    assert lines and all("site manchester-works" in line for line in lines)
    assert any("Occupier hooli (deleted)" in line for line in lines)
    assert any(line.startswith(f"{repo}/occupiers/hooli/occupier.yaml:1:1:") for line in lines)
    assert not any("london-bridge" in line for line in lines)
    ok = tenantry("validate", str(repo), *TODAY, "--actor", "bob", "--base", "main")
    assert p1(ok) == []


def test_moving_an_occupier_between_sites_touches_both(repo: Path) -> None:
    for path in ("contracts.yaml", "services.yaml", "occupier.yaml"):
        file = repo / "occupiers/hooli" / path
        file.write_text(file.read_text().replace("manchester-works", "london-bridge"))
    git(repo, "commit", "-qam", "hooli moves")
    done = tenantry("validate", str(repo), *TODAY, "--actor", "alice", "--base", "main")
    assert any("site manchester-works, which Contract hooli" in line for line in p1(done))
    both = tenantry("validate", str(repo), *TODAY, "--actor", "bob", "--base", "main")
    assert any("site london-bridge, which Contract hooli" in line for line in p1(both))
    approved = tenantry(
        "validate", str(repo), *TODAY, "--actor", "bob", "--base", "main", "--approved-by", "alice"
    )
    assert p1(approved) == []


def test_editing_a_shared_definition_touches_every_site_using_it(repo: Path) -> None:
    edit(repo, "catalogue/connectivity.yaml", 'rrp: "95.00"', 'rrp: "96.00"')
    git(repo, "commit", "-qam", "internet-lan-100 rrp")
    done = tenantry("validate", str(repo), *TODAY, "--actor", "alice", "--base", "main")
    [line] = p1(done)
    assert "site manchester-works, which ServiceDefinition internet-lan-100 (edited)" in line
    assert line.startswith(f"{repo}/catalogue/connectivity.yaml:7:")
    assert (
        p1(tenantry("validate", str(repo), *TODAY, "--actor", "ops-team", "--base", "main")) == []
    )


def test_apply_judges_the_change_since_the_last_apply(repo: Path, tmp_path: Path) -> None:
    ledger = str(tmp_path / "ledger.db")
    common = [*TODAY, "--state", ledger, "--out", str(tmp_path / "rendered")]
    git(repo, "checkout", "-q", "main")
    # nothing recorded yet: the first apply judges everything; ops-team administers both
    first = tenantry("apply", str(repo), *common, "--actor", "alice")
    assert first.exit_code == 1 and p1(first)
    assert "since nothing (no apply recorded a desired state yet)" in first.stderr
    assert tenantry("apply", str(repo), *common, "--actor", "ops-team").exit_code == 0
    # alice's merged price edit at her site is all the next apply judges
    git(repo, "checkout", "-q", "change")
    edit(repo, ACME, 'price: "90.00"', 'price: "95.00"')
    git(repo, "commit", "-qam", "acme: new price")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--ff-only", "change")
    commit = git(repo, "rev-parse", "HEAD").strip()
    done = tenantry("apply", str(repo), *common, "--actor", "alice")
    assert done.exit_code == 0, done.output
    assert "P1 judged alice on 1 document(s) changed since the last apply" in done.stderr
    # a second apply with nothing new checks nothing, whoever runs it
    again = tenantry("apply", str(repo), *common, "--actor", "mallory")
    assert again.exit_code == 0, again.output
    assert (
        f"P1 checked nothing: no document changed since the last apply (commit "
        f"{commit[:12]})" in again.stderr
    )
    # an unapproved change at manchester-works is refused, and not recorded as applied
    edit(repo, HOOLI, 'price: "55.00"', 'price: "60.00"')
    git(repo, "commit", "-qam", "hooli: new price")
    refused = tenantry("apply", str(repo), *common, "--actor", "alice")
    assert refused.exit_code == 1 and len(p1(refused)) == 1
    approved = tenantry("apply", str(repo), *common, "--actor", "alice", "--approved-by", "bob")
    assert approved.exit_code == 0, approved.output
    assert "1 document(s) changed" in approved.stderr


def test_without_actor_the_output_says_p1_was_not_run(repo: Path, tmp_path: Path) -> None:
    edit(repo, HOOLI, 'price: "55.00"', 'price: "60.00"')
    done = tenantry("validate", str(repo), *TODAY, "--base", "main")
    assert done.exit_code == 0
    notes = [line for line in done.stderr.splitlines() if line.startswith("note:")]
    assert notes == [
        "note: P1 and D2's admin check not run: no --actor (TENANTRY_ACTOR) says who makes "
        "the change"
    ]


def test_decommission_judges_the_request_it_writes(repo: Path, tmp_path: Path) -> None:
    ledger = str(tmp_path / "none.db")
    done = tenantry(
        "decommission", "acme", str(repo), *TODAY, "--actor", "alice", "--state", ledger
    )
    assert "error[P1]" not in done.output and "error[D2]" not in done.output, done.output
    assert "P1 judged alice on 1 document(s) changed since before the request" in done.stderr
    git(repo, "checkout", "-q", "--", ".")
    # umbrella has contracts at both sites: alice alone cannot, bob's approval covers the rest
    refused = tenantry(
        "decommission", "umbrella", str(repo), *TODAY, "--actor", "alice", "--state", ledger
    )
    assert refused.exit_code == 1
    assert (
        "cannot decommission umbrella: alice is not an admin of manchester-works" in refused.stdout
    )
    git(repo, "checkout", "-q", "--", ".")
    approved = tenantry(
        "decommission",
        "umbrella",
        str(repo),
        *TODAY,
        "--actor",
        "alice",
        "--approved-by",
        "bob",
        "--state",
        ledger,
    )
    assert "error[D2]: cannot decommission umbrella: alice" not in approved.stdout
    assert "error[P1]" not in approved.stdout
