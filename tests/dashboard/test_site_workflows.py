"""The dashboard's CI jobs that `tenantry init` writes: valid for GitHub Actions and GitLab CI
(their schemas, checked by check-jsonschema), and their scripts, run as written in a real
git repository, build the site after apply and the plan page for a pull request."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.support import validators
from tests.test_pr_workflow import add_service, git

BIN = Path(sys.executable).parent


def schema_check(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
    )


def test_ci_files_are_valid_for_github_and_gitlab(desired: Path, tmp_path: Path) -> None:
    github = desired / ".github/workflows/tenantry-site.yml"
    gitlab = desired / ".gitlab/tenantry-site.yml"
    done = schema_check(
        "vendor.github-workflows", github, desired / ".github/workflows/tenantry.yml"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    done = schema_check("vendor.gitlab-ci", desired / ".gitlab-ci.yml", gitlab)
    assert done.returncode == 0, done.stdout + done.stderr
    found = validators.actionlint(github)  # only the self-hosted runner's own label
    assert [f["kind"] for f in found] == ["runner-label"], found
    included = yaml.safe_load((desired / ".gitlab-ci.yml").read_text())["include"]
    assert {"local": ".gitlab/tenantry-site.yml"} in included
    assert "site/" in (desired / ".gitignore").read_text().splitlines()
    # the check is real: a step with neither `run` nor `uses` is refused
    broken = yaml.safe_load(github.read_text())
    broken["jobs"]["publish"]["steps"].append({"name": "nothing"})
    bad = tmp_path / "broken.yml"
    bad.write_text(yaml.safe_dump(broken))
    assert schema_check("vendor.github-workflows", bad).returncode == 1


def run_script(repo: Path, script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A `run:` (or a GitLab `script:`) as the runner does it: bash, fail on the first error."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=repo,
        env={"PATH": f"{BIN}:{os.environ['PATH']}", "HOME": str(repo.parent), **env},
        capture_output=True,
        text=True,
    )


def without_install(script: list[str]) -> str:
    """A GitLab script without the lines that install tenantry (the test's own is used;
    tests/test_templates.py checks that each install line names a valid requirement)."""
    install = ("pip install", "-m venv", "venv/bin:")
    return "\n".join(line for line in script if not any(word in line for word in install))


def steps(workflow: dict[str, Any], job: str) -> dict[str, str]:
    return {s["name"]: s["run"] for s in workflow["jobs"][job]["steps"] if "run" in s}


def test_github_publishes_after_apply_and_leaves_pull_requests_to_tenantry_yml(
    desired: Path, tmp_path: Path
) -> None:
    workflow = yaml.safe_load((desired / ".github/workflows/tenantry-site.yml").read_text())
    triggers = workflow[True]  # PyYAML reads YAML 1.1: a bare `on` is true
    assert triggers["workflow_run"]["workflows"] == ["tenantry"]  # after the apply
    publish = workflow["jobs"]["publish"]
    assert publish["permissions"]["pages"] == "write"
    uses = [s.get("uses", "") for s in publish["steps"]]
    assert any(u.startswith("actions/upload-pages-artifact@") for u in uses)
    assert any(u.startswith("actions/deploy-pages@") for u in uses)
    ledger = {"TENANTRY_LEDGER": str(tmp_path / "ledger.db")}
    applied = run_script(desired, "tenantry apply", ledger)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    built = run_script(desired, steps(workflow, "publish")["Build the site"], ledger)
    assert built.returncode == 0, built.stdout + built.stderr
    index = (desired / "site/index.html").read_text()
    assert "documents only" not in index  # built from the ledger the apply wrote
    assert 'class="badge applied"' in (desired / "site/sites/hq.html").read_text()

    # a pull request's plan page is built by tenantry.yml and linked from the plan comment
    # (tests/test_pr_workflow.py runs it); this workflow builds nothing for pull requests
    assert set(triggers) == {"workflow_run"} and set(workflow["jobs"]) == {"publish"}


def test_gitlab_pages_after_apply_and_plan_page_for_a_merge_request(
    desired: Path, tmp_path: Path
) -> None:
    jobs = yaml.safe_load((desired / ".gitlab/tenantry-site.yml").read_text())
    pages = jobs["pages"]
    assert pages["needs"] == ["apply"] and pages["artifacts"]["paths"] == ["public"]
    assert pages["tags"] == ["tenantry"]  # the apply's runner, which reaches the ledger
    ledger = {"TENANTRY_LEDGER": str(tmp_path / "ledger.db")}
    assert run_script(desired, "tenantry apply", ledger).returncode == 0
    done = run_script(desired, without_install(pages["script"]), ledger)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (desired / "public/index.html").is_file()
    assert (desired / "public/occupiers/example-co.html").is_file()

    add_service(desired, "example-co-public-ip")
    git(desired, "commit", "-qam", "Public IP for Example Co")
    request = jobs["site-plan"]
    assert request["artifacts"]["expose_as"] == "tenantry site"
    env = {"CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main"}
    done = run_script(desired, without_install(request["script"]), env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "public 203.0.113.2/32" in (desired / "site/plan.html").read_text()
