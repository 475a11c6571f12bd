"""`tenantry site` at the command line: what it writes, and one clear line when it cannot."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from reconciler.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main

ROOT = Path(__file__).resolve().parent.parent.parent


def site(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["site", *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_documents_only_without_a_ledger(tmp_path: Path) -> None:
    out = tmp_path / "site"
    code, text = site(str(ROOT / "desired-state"), "--out", str(out), "--today", "2026-11-23")
    assert code == EXIT_OK, text
    assert text.startswith("wrote 12 pages to ")  # index, 2 sites, directory, 8 occupiers
    written = {p.relative_to(out).as_posix() for p in out.rglob("*.html")}
    assert {"index.html", "sites/london-bridge.html", "occupiers/acme.html"} <= written
    assert "from the documents only" in (out / "index.html").read_text()
    assert not (tmp_path / "private-ledger.db").exists()  # reading never creates a ledger


def test_a_rebuild_drops_pages_of_occupiers_that_left(tmp_path: Path) -> None:
    repo = tmp_path / "desired-state"
    shutil.copytree(ROOT / "desired-state", repo)
    out = tmp_path / "site"
    assert site(str(repo), "--out", str(out))[0] == EXIT_OK
    assert (out / "occupiers/hooli.html").is_file()
    shutil.rmtree(repo / "occupiers/hooli")
    assert site(str(repo), "--out", str(out))[0] == EXIT_OK
    assert not (out / "occupiers/hooli.html").exists()


def test_invalid_documents_are_one_line_each(tmp_path: Path) -> None:
    repo = tmp_path / "desired-state"
    shutil.copytree(ROOT / "desired-state", repo)
    broken = repo / "occupiers/acme/occupier.yaml"
    broken.write_text(broken.read_text().replace("displayName:", "displayNam:"))
    code, text = site(str(repo), "--out", str(tmp_path / "site"))
    assert code == EXIT_FAILED
    assert "occupiers/acme/occupier.yaml:" in text and "Traceback" not in text
    assert not (tmp_path / "site").exists()


def test_an_unwritable_output_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "site"
    blocker.write_text("a file, not a folder")
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "tenantry"),
            "site",
            str(ROOT / "desired-state"),
            "--out",
            str(blocker / "inner"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == EXIT_FAILED
    assert done.stderr.startswith(f"error: {blocker / 'inner'}: cannot write the site")
    assert len(done.stderr.strip().splitlines()) == 1


def test_an_unknown_plan_base_is_a_usage_error(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "desired-state", repo)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    code, text = site(str(repo), "--plan-base", "no-such-ref", "--out", str(tmp_path / "s"))
    assert code == EXIT_USAGE
    assert "--plan-base no-such-ref" in text


def test_the_plan_page_judges_p1_on_the_pull_requests_change(tmp_path: Path) -> None:
    """alice (admin of london-bridge) edits a price there: her plan page builds; the same
    edit at manchester-works needs bob's approval, as `validate --base` says."""
    from tests.test_incremental import git

    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "desired-state", repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    acme = repo / "occupiers/acme/services.yaml"
    acme.write_text(acme.read_text().replace('price: "90.00"', 'price: "95.00"', 1))
    args = ["--plan-base", "main", "--today", "2026-11-23", "--actor", "alice"]
    code, text = site(str(repo), *args, "--out", str(tmp_path / "s"))
    assert code == EXIT_OK, text
    assert (tmp_path / "s/plan.html").is_file()
    hooli = repo / "occupiers/hooli/services.yaml"
    hooli.write_text(hooli.read_text().replace('price: "55.00"', 'price: "60.00"', 1))
    code, text = site(str(repo), *args, "--out", str(tmp_path / "t"))
    assert code == EXIT_FAILED
    [error] = [line for line in text.splitlines() if "error[" in line]
    assert "error[P1]: alice is not an admin of site manchester-works, which Service" in error
    code, text = site(str(repo), *args, "--approved-by", "bob", "--out", str(tmp_path / "t"))
    assert code == EXIT_OK, text
