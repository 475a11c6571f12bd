"""The command line as CI and people use it: exit codes, formats, plan → apply → plan,
pull-request previews with --base against a real git repository, reports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from tests.support.example import ZETA

ROOT = Path(__file__).resolve().parent.parent
TODAY = ["--today", "2026-11-23"]


def run(*args: str, cwd: Path | None = None) -> tuple[int, str]:
    runner = CliRunner()
    result = runner.invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout


def run_stdout(*args: str) -> tuple[int, str]:
    """stdout alone: what a machine reads (notes for people go to stderr)."""
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    target = tmp_path / "desired-state"
    shutil.copytree(ROOT / "desired-state", target)
    return target


def add_second_public_ip(repo: Path) -> Path:
    extra = repo / "occupiers" / "northwind" / "extra.yaml"
    extra.write_text(
        "apiVersion: tenantry.dev/v1alpha1\nkind: Service\nmetadata:\n  name: northwind-ip-2\n"
        "spec:\n  occupier: northwind\n  site: london-bridge\n  definition: public-ip\n"
        "  quantity: 1\n"
    )
    return extra


def test_validate_exit_codes_and_human_format(repo: Path) -> None:
    code, out = run("validate", str(repo), *TODAY)
    assert code == 0 and "0 error(s)" in out
    extra = add_second_public_ip(repo)
    code, out = run("validate", str(repo), *TODAY)
    assert code == 1
    line = next(x for x in out.splitlines() if "error[S5]" in x and x.startswith(f"{extra}:"))
    assert "northwind-ip-2" in line and "northwind-lb-public-ip" in line


@pytest.mark.parametrize("fmt", ["json", "junit", "sarif", "github"])
def test_validate_machine_formats(repo: Path, fmt: str) -> None:
    extra = add_second_public_ip(repo)
    code, out = run_stdout("validate", str(repo), *TODAY, "--format", fmt)
    assert code == 1
    if fmt == "json":
        findings = json.loads(out)["findings"]
        assert any(
            f["rule"] == "S5" and f["file"] == str(extra) and f["line"] > 0 for f in findings
        )
    elif fmt == "junit":
        tree = ElementTree.fromstring(out)
        assert tree.find(".//failure") is not None
    elif fmt == "sarif":
        results = json.loads(out)["runs"][0]["results"]
        assert any(r["ruleId"] == "S5" for r in results)
        assert results[0]["locations"][0]["physicalLocation"]["region"]["startLine"] > 0
    else:
        relative = os.path.relpath(extra)  # the workspace is the working directory
        assert any(
            x.startswith(f"::error title=tenantry S5,file={relative},line=")
            for x in out.splitlines()
        )


def test_usage_error_is_64() -> None:
    code, _ = run("validate", "--format", "nope")
    assert code == 64
    code, _ = run("frobnicate")
    assert code == 64


def test_parallel_is_one_option_that_says_what_it_does_for_apply_and_drift() -> None:
    """`--parallel` is read the same way by both commands: the same help, the same bounds."""
    helps = {}
    for command in ("apply", "drift"):
        code, out = run(command, "--help")
        assert code == 0
        option = out[out.index("--parallel") : out.index("\n  --", out.index("--parallel"))]
        helps[command] = " ".join(option.split())
        code, _ = run(command, "--parallel", "0")
        assert code == 64, "at least one device at a time"
    assert helps["apply"] == helps["drift"], helps
    assert "reads" in helps["drift"] and "configures" in helps["apply"]


def test_plan_apply_plan(repo: Path, tmp_path: Path) -> None:
    state = str(tmp_path / "state.db")
    out_dir = str(tmp_path / "rendered")
    code, out = run("plan", str(repo), *TODAY, "--state", state)
    assert code == 2, out
    assert "+ VLAN 102" in out and "device lb-sw1" in out
    assert not Path(state).exists()  # a plan never writes the ledger
    code, out = run("apply", str(repo), *TODAY, "--state", state, "--out", out_dir)
    assert code == 0, out
    assert (tmp_path / "rendered" / "lb-sw1.switch.cfg").exists()
    run("apply", str(repo), *TODAY, "--state", state, "--out", out_dir)  # S8 retires the old line
    code, out = run("plan", str(repo), *TODAY, "--state", state)
    assert code == 0, out
    assert "No changes" in out
    code, out = run("apply", str(repo), *TODAY, "--state", state, "--out", out_dir)
    assert code == 0 and "0 commands" in out


def test_apply_refuses_invalid_input_and_touches_nothing(repo: Path, tmp_path: Path) -> None:
    add_second_public_ip(repo)
    state = tmp_path / "state.db"
    code, out = run(
        "apply", str(repo), *TODAY, "--state", str(state), "--out", str(tmp_path / "rendered")
    )
    assert code == 1 and "error[S5]" in out
    assert not state.exists() and not (tmp_path / "rendered").exists()


def test_plan_formats(repo: Path, tmp_path: Path) -> None:
    state = str(tmp_path / "state.db")
    code, out = run_stdout("plan", str(repo), *TODAY, "--state", state, "--format", "json")
    assert code == 2
    data = json.loads(out)
    assert {
        "site": "london-bridge",
        "kind": "vlan",
        "value": "102",
        "occupier": "acme",
        "state": "held",
        "role": "",
        "new": True,
    } in data["allocate"]
    code, out = run_stdout("plan", str(repo), *TODAY, "--state", state, "--format", "markdown")
    assert code == 2
    assert out.startswith("<!-- tenantry-plan -->") and "### london-bridge" in out
    assert "| london-bridge | VLANs |" in out


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def test_plan_base_previews_only_the_pull_request(tmp_path: Path) -> None:
    work = tmp_path / "gitops"
    shutil.copytree(ROOT / "desired-state", work / "desired-state")
    git(work, "init", "-q", "-b", "main")
    git(work, "-c", "user.email=t@e", "-c", "user.name=t", "add", ".")
    git(work, "-c", "user.email=t@e", "-c", "user.name=t", "commit", "-qm", "base")
    # the pull request: a new occupier moves into an empty studio at Manchester
    (work / "desired-state" / "occupiers" / "zeta.yaml").write_text(ZETA)
    code, out = run(
        "plan",
        str(work / "desired-state"),
        *TODAY,
        "--base",
        "main",
        "--state",
        str(tmp_path / "none.db"),
        "--format",
        "json",
    )
    assert code == 2, out
    data = json.loads(out)
    assert {a["occupier"] for a in data["allocate"]} == {"zeta"}  # nothing else moves
    assert sorted(a["kind"] for a in data["allocate"]) == ["port", "prefix", "vlan"]
    assert data["release"] == []
    code, out = run("plan", str(work / "desired-state"), *TODAY, "--base", "no-such-ref")
    assert code == 64


def test_report_shows_the_seed_example_and_filters(repo: Path, tmp_path: Path) -> None:
    code, out = run("report", str(repo), *TODAY, "--format", "json")
    assert code == 0
    rows = json.loads(out)
    northwind = [r for r in rows if r["occupier"] == "northwind"]
    assert northwind and all("switch ports 0/3" in r["infrastructure"] for r in northwind)
    code, out = run(
        "report", str(repo), *TODAY, "--contract-status", "Scheduled", "--format", "json"
    )
    scheduled = json.loads(out)
    assert "Scheduled" in {r["contract_status"] for r in scheduled}
    # seed 000: Scheduled also covers services with a future change
    assert all(r["contract_status"] == "Scheduled" or r["next_change"] for r in scheduled)
    code, out = run("report", "pools", str(repo), *TODAY, "--format", "csv")
    assert out.splitlines()[0] == "site,pool,used,size,percent,warning"


def test_report_charges_prorate_by_day(repo: Path, tmp_path: Path) -> None:
    state = str(tmp_path / "state.db")
    run("apply", str(repo), "--today", "2026-11-16", "--state", state, "--out", str(tmp_path / "r"))
    code, out = run(
        "report",
        "charges",
        str(repo),
        "--month",
        "2026-11",
        "--state",
        state,
        "--format",
        "json",
        "--today",
        "2026-11-30",
    )
    assert code == 0
    rows = {r["service"]: r for r in json.loads(out)}
    internet = rows["northwind-lb-internet"]
    # activated on the 16th: 15 of 30 days; price × (quantity − included)
    assert (internet["days"], internet["days_in_month"]) == (15, 30)
    expected = round(float(internet["price"]) * internet["chargeable"] * 15 / 30, 2)
    assert float(internet["amount"]) == pytest.approx(expected)
    code, _ = run("report", "charges", str(repo))
    assert code == 64


def test_s8_upgrade_is_make_before_break_within_one_apply(repo: Path, tmp_path: Path) -> None:
    """acme-lb-internet-1000 replaces acme-lb-internet-100: one apply provisions the new line,
    records it Active, then retires the old one; the next plan has nothing to do."""
    state = str(tmp_path / "state.db")
    code, out = run("apply", str(repo), *TODAY, "--state", state, "--out", str(tmp_path / "r"))
    assert code == 0, out
    code, out = run("report", str(repo), *TODAY, "--state", state, "--format", "json")
    rows = {r["service"]: r for r in json.loads(out)}
    assert rows["acme-lb-internet-1000"]["status"] == "Active"
    old = rows["acme-lb-internet-100"]
    assert (old["status"], old["reason"]) == ("Inactive", "replaced by acme-lb-internet-1000")
    code, out = run("plan", str(repo), *TODAY, "--state", state)
    assert code == 0 and "No changes" in out, out
