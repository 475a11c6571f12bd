"""The pull-request path end to end, in real git repositories: `tenantry init`, commit, branch,
change, then the steps of the shipped GitHub Actions workflow exactly as written (its `run:`
scripts under bash with the environment the workflow sets), the PR comment upserted through a
stand-in `gh`, `tenantry apply` after merge, and the pre-commit hook through the real
`pre-commit` tool."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.comment import MARKER, Action, decide, parse_pages

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TENANTRY = BIN / "tenantry"
PUBLIC_IP = """---
apiVersion: tenantry.dev/v1alpha1
kind: Service
metadata:
  name: {name}
spec:
  occupier: example-co
  site: hq
  definition: public-ip
"""
FAKE_GH = '''\
#!{python}
"""Stands in for the GitHub CLI: `gh api` on a pull request, its reviews and comments and a
commit's pull requests, kept in a JSON file. FAKE_GH_READ_ONLY: writes answer HTTP 403, as
GitHub does to a fork's pull request."""
import json, os, sys
state_file = os.environ["FAKE_GH_STATE"]
state = {{"comments": [], "calls": [], "reviews": [], "pulls": []}}
if os.path.exists(state_file):
    state = json.load(open(state_file))
args = sys.argv[1:]
assert args[0] == "api", args
method = args[args.index("--method") + 1] if "--method" in args else "GET"
path = [a for a in args[1:] if a.startswith("repos/")][0]
body = json.loads(sys.stdin.read())["body"] if "--input" in args else None
state["calls"].append([method, path, os.environ.get("GH_TOKEN")])
def pages(items):  # two pages, as --paginate prints them
    print(json.dumps(items[:1]))
    print(json.dumps(items[1:]))
if method != "GET" and os.environ.get("FAKE_GH_READ_ONLY"):
    json.dump(state, open(state_file, "w"))
    sys.stderr.write("gh: Resource not accessible by integration (HTTP 403)\\n")
    sys.exit(1)
if path.endswith("/reviews"):
    pages(state["reviews"])
elif "/commits/" in path:
    pages(state["pulls"])
elif "/pulls/" in path:
    number = int(path.rsplit("/", 1)[1])
    print(json.dumps([p for p in state["pulls"] if p["number"] == number][0]))
elif method == "GET":
    pages(state["comments"])
elif method == "POST":
    new = {{"id": 1000 + len(state["comments"]), "body": body, "created_at": "2026-11-23"}}
    state["comments"].append(new)
    print(json.dumps(new))
else:
    wanted = int(path.rsplit("/", 1)[1])
    for comment in state["comments"]:
        if comment["id"] == wanted:
            comment["body"] = body
    print("{{}}")
json.dump(state, open(state_file, "w"))
'''


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=Dev", "-c", "user.email=dev@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


SITE_URL = "https://github.example/acme/desired-state/actions/runs/1/artifacts/2"


@dataclass
class Step:
    name: str
    code: int | None  # None: skipped
    output: str


class Workflow:
    """Runs the jobs of the shipped workflow the way GitHub's runner would: `${{ }}` replaced
    from the event, env merged (workflow, job, step), each `run:` under
    `bash --noprofile --norc -eo pipefail`, later steps skipped after a failure unless their
    `if:` says otherwise. Installing tenantry is the one step not run: it is installed."""

    def __init__(self, repo: Path, tmp: Path) -> None:
        self.repo = repo
        self.tmp = tmp
        self.doc = yaml.safe_load((repo / ".github/workflows/tenantry.yml").read_text())
        fake = tmp / "fake-bin"
        fake.mkdir(exist_ok=True)
        (fake / "gh").write_text(FAKE_GH.format(python=sys.executable))
        (fake / "gh").chmod(0o755)
        self.path = f"{BIN}:{fake}:{os.environ['PATH']}"
        self.gh_state = tmp / "gh-state.json"

    def gh(self) -> dict[str, Any]:
        return json.loads(self.gh_state.read_text()) if self.gh_state.exists() else {}

    def github(self, **changes: Any) -> None:
        """Set what the stand-in GitHub knows (pull requests, reviews)."""
        state = self.gh() or {"comments": [], "calls": [], "reviews": [], "pulls": []}
        state.update(changes)
        self.gh_state.write_text(json.dumps(state))

    def run(self, job: str, event: dict[str, Any], extra_env: dict[str, str]) -> list[Step]:
        spec = self.doc["jobs"][job]
        assert self.expr(spec["if"], event) is True
        assert spec["timeout-minutes"] > 0 and isinstance(spec["permissions"], dict)
        summary = self.tmp / "step-summary.md"
        github_env = self.tmp / "github-env"
        github_env.write_text("")
        env = {
            "PATH": self.path,
            "HOME": str(self.tmp),
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_ENV": str(github_env),
            "GITHUB_REPOSITORY": event["repository"],
            "GITHUB_SHA": event.get("sha", ""),
            "FAKE_GH_STATE": str(self.gh_state),
            "TENANTRY_LEDGER": str(self.tmp / "ledger.db"),
        }
        for scope in (self.doc.get("env", {}), spec.get("env", {})):
            env |= {k: self.subst(str(v), event) for k, v in scope.items()}
        env |= extra_env
        steps: list[Step] = []
        failed = False
        for step in spec["steps"]:
            name = step.get("name", step.get("uses", ""))
            condition = step.get("if")
            go = self.expr(condition, event, env) if condition else not failed
            if "run" not in step or re.search(r'pip"? install', step["run"]):
                # actions (checkout, setup-python, upload-sarif) and installing tenantry:
                # the repo is checked out, tenantry installed; recorded as run or skipped
                steps.append(Step(name, 0 if go else None, ""))
                continue
            if not go:
                steps.append(Step(name, None, ""))
                continue
            own = {k: self.subst(str(v), event) for k, v in step.get("env", {}).items()}
            done = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                cwd=self.repo,
                env=env | own,
                capture_output=True,
                text=True,
            )
            steps.append(Step(name, done.returncode, done.stdout + done.stderr))
            failed |= done.returncode != 0
            for line in github_env.read_text().splitlines():  # as the runner reads GITHUB_ENV
                key, _, value = line.partition("=")
                env[key] = value
            github_env.write_text("")
        return steps

    def subst(self, text: str, event: dict[str, Any]) -> str:
        return re.sub(r"\$\{\{\s*(.*?)\s*\}\}", lambda m: str(self.value(m[1], event)), text)

    def value(self, expression: str, event: dict[str, Any]) -> Any:
        context = {
            "github.event_name": event["name"],
            "github.event.pull_request.user.login": event.get("author", ""),
            "github.event.pull_request.number": event.get("number", ""),
            "github.event.pull_request.base.ref": event.get("base", ""),
            "github.event.pull_request.head.repo.full_name != github.repository": str(
                event.get("fork", False)
            ).lower(),
            "github.actor": event.get("actor", ""),
            "github.token": "token-123",
            "secrets.TENANTRY_LEDGER": str(self.tmp / "ledger.db"),
            "steps.site.outputs.artifact-url": SITE_URL,  # what upload-artifact returns
        }
        return context[expression]

    def expr(
        self, condition: str, event: dict[str, Any], env: dict[str, str] | None = None
    ) -> bool:
        inner = condition.strip()
        if inner.startswith("${{"):
            inner = inner[3:-2].strip()
        if inner == "github.event_name == 'pull_request' || github.event_name == " \
                "'pull_request_review'":
            return bool(event["name"] in ("pull_request", "pull_request_review"))
        if inner == "github.event_name == 'push'":
            return bool(event["name"] == "push")
        if inner == "!cancelled() && hashFiles('plan.md') != ''":
            return (self.repo / "plan.md").exists()
        if inner == "!cancelled() && hashFiles('tenantry.sarif') != '' && env.FORK == 'false'":
            return (self.repo / "tenantry.sarif").exists() and (env or {})["FORK"] == "false"
        raise AssertionError(f"unexpected condition {condition!r}")


@pytest.fixture
def desired(tmp_path: Path) -> Path:
    """`tenantry init`, committed on main and pushed to an `origin`, then a branch."""
    repo = tmp_path / "desired"
    done = subprocess.run([TENANTRY, "init", str(repo)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "tenantry init")
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    git(repo, "checkout", "-qb", "public-ip")
    return repo


def pull_request(author: str = "ops-team") -> dict[str, Any]:
    return {
        "name": "pull_request",
        "author": author,
        "number": 7,
        "base": "main",
        "repository": "acme/desired-state",
    }


def add_service(repo: Path, name: str) -> int:
    """Append a Public IP service; returns the line of its `definition:`."""
    file = repo / "occupiers/example-co/services.yaml"
    before = file.read_text()
    file.write_text(before + PUBLIC_IP.format(name=name))
    lines = file.read_text().splitlines()
    return max(i for i, line in enumerate(lines, 1) if "definition: public-ip" in line)


def by_name(steps: list[Step]) -> dict[str, Step]:
    return {s.name: s for s in steps}


def test_init_passes_validate_and_ships_schemas(tmp_path: Path) -> None:
    repo = tmp_path / "new"
    assert subprocess.run([TENANTRY, "init", str(repo)], capture_output=True).returncode == 0
    for path in (".gitignore", ".gitlab-ci.yml", ".pre-commit-config.yaml"):
        assert (repo / path).is_file()
    assert ".tenantry/" in (repo / ".gitignore").read_text()
    assert "rendered/" in (repo / ".gitignore").read_text()
    for file in repo.rglob("*.yaml"):
        if any(part.startswith(".") for part in file.relative_to(repo).parts):
            continue  # .github/, .pre-commit-config.yaml: not desired state
        first = file.read_text().splitlines()[0]
        schema = first.removeprefix("# yaml-language-server: $schema=")
        assert schema != first, file
        assert (file.parent / schema).resolve().is_file(), (file, schema)
    done = subprocess.run(
        [TENANTRY, "validate", "--actor", "ops-team"], cwd=repo, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout
    assert "0 error(s), 0 warning(s)" in done.stdout
    again = subprocess.run([TENANTRY, "init", str(repo)], capture_output=True, text=True)
    assert again.returncode == 1 and "not empty" in again.stderr
    gitlab = yaml.safe_load((repo / ".gitlab-ci.yml").read_text())
    assert "--write junit=tenantry-junit.xml" in " ".join(gitlab["validate"]["script"])
    assert gitlab["validate"]["artifacts"]["reports"]["junit"] == "tenantry-junit.xml"
    assert "--format markdown" in " ".join(gitlab["plan"]["script"])
    assert gitlab["apply"]["script"][-1] == "tenantry apply"
    assert gitlab["apply"]["tags"] == ["tenantry"]


def test_pull_request_workflow(desired: Path, tmp_path: Path) -> None:
    """The path a site admin walks: a colleague's branch and pull request, a red check naming
    the site and who can approve, her approving review re-running it green, the plan
    comment, the merge, and the apply judged as the author with her approval."""
    flow = Workflow(desired, tmp_path)
    add_service(desired, "example-co-public-ip")
    git(desired, "commit", "-qam", "Public IP for Example Co")
    flow.github(pulls=[{"number": 7, "user": {"login": "dev"}}])

    # dev, who administers no site, opens the pull request: red, naming hq and its admins
    steps = by_name(flow.run("pull-request", pull_request(author="dev"), {}))
    assert steps["Approvals"].code == 0, steps["Approvals"].output["Approvals"].output
    assert steps["Validate"].code == 1
    annotation = next(x for x in steps["Validate"].output.splitlines() if "P1" in x)
    assert annotation.startswith(
        "::error title=tenantry P1,file=occupiers/example-co/services.yaml,line="
    )
    assert annotation.endswith(
        "::dev is not an admin of site hq, which Service example-co-public-ip (added) touches "
        "(hint: an admin of hq must approve it: ops-team)"
    )
    assert "note: P1 judged dev on 1 document(s) changed since origin/main" in (
        steps["Validate"].output
    )
    assert steps["Plan"].code is None  # skipped after the failure
    assert (desired / "tenantry.sarif").exists()
    assert steps["Upload findings to code scanning"].code == 0

    # ops-team approves: the review event re-runs the job, green
    (desired / "plan.md").unlink(missing_ok=True)
    flow.github(reviews=[
        {"id": 1, "user": {"login": "ops-team"}, "state": "COMMENTED", "submitted_at": "1"},
        {"id": 2, "user": {"login": "ops-team"}, "state": "APPROVED", "submitted_at": "2"},
    ])
    review = pull_request(author="dev") | {"name": "pull_request_review"}
    steps = by_name(flow.run("pull-request", review, {}))
    assert steps["Validate"].code == 0, steps["Validate"].output
    assert "::error" not in steps["Validate"].output
    assert "P1 judged dev (approved by ops-team) on 1 document(s)" in steps["Validate"].output
    assert steps["Dashboard with the plan page"].code == 0, steps["Dashboard with the plan page"]
    assert steps["Plan"].code == 0, steps["Plan"].output  # plan exits 2 (changes): fine
    plan = (desired / "plan.md").read_text()
    lines = plan.splitlines()
    assert lines[0] == MARKER
    assert lines[1].startswith("**tenantry plan:** 2 to allocate or change, 0 to release")
    assert "### hq" in plan and "occupier example-co" in plan
    assert "+ public 203.0.113.2/32" in plan
    assert "| hq | public IPs | 1 | 13 | 8% |" in plan
    # the comment links the dashboard built with this pull request's plan page
    assert steps["Dashboard with the plan page"].code == 0, steps["Dashboard with the plan page"]
    assert steps["Keep the dashboard"].code == 0
    assert f"[Dashboard with this plan]({SITE_URL}) (download it, open plan.html)" in lines
    assert "public 203.0.113.2/32" in (desired / "site/plan.html").read_text()
    assert plan in (tmp_path / "step-summary.md").read_text()
    assert steps["Comment the plan"].code == 0, steps["Comment the plan"].output
    state = flow.gh()
    comments = [c[:2] for c in state["calls"] if "/comments" in c[1]]
    assert comments == [
        ["GET", "repos/acme/desired-state/issues/7/comments"],
        ["POST", "repos/acme/desired-state/issues/7/comments"],
    ]
    assert all(c[2] == "token-123" for c in state["calls"])  # GH_TOKEN from github.token
    assert state["comments"][0]["body"].strip() == plan.strip()

    # another push to the pull request: the same comment is updated, not duplicated
    (desired / "plan.md").unlink()
    steps = by_name(flow.run("pull-request", pull_request(author="dev"), {}))
    assert steps["Comment the plan"].code == 0
    state = flow.gh()
    assert len(state["comments"]) == 1
    assert state["calls"][-1][:2] == ["PATCH", "repos/acme/desired-state/issues/comments/1000"]

    # from a fork the token is read-only: no code scanning upload, the plan stays in the
    # job summary and the comment step says so instead of failing
    (desired / "plan.md").unlink()
    fork = pull_request(author="dev") | {"fork": True}
    steps = by_name(flow.run("pull-request", fork, {"FAKE_GH_READ_ONLY": "1"}))
    assert steps["Upload findings to code scanning"].code is None
    assert steps["Comment the plan"].code == 0, steps["Comment the plan"].output
    assert "the plan is in the job summary" in steps["Comment the plan"].output

    # merged: the push to main applies it, as dev with ops-team's approval
    git(desired, "checkout", "-q", "main")
    git(desired, "merge", "-q", "--ff-only", "public-ip")
    sha = git(desired, "rev-parse", "HEAD").strip()
    flow.github(pulls=[{"number": 7, "user": {"login": "dev"}, "merge_commit_sha": sha,
                        "merged_at": "2026-11-23T10:00:00Z"}])
    (desired / "plan.md").unlink(missing_ok=True)
    push = {"name": "push", "actor": "ops-team", "repository": "acme/desired-state", "sha": sha}
    # the template drives the real devices; here the render driver stands in for them
    steps = by_name(flow.run("apply", push, {"TENANTRY_DRIVERS": "render"}))
    assert steps["Approvals"].code == 0, steps["Approvals"].output
    assert steps["Apply"].code == 0, steps["Apply"].output
    assert "Applied: " in steps["Apply"].output
    assert "P1 judged dev (approved by ops-team) on " in steps["Apply"].output
    assert list((desired / "rendered").iterdir())
    # a re-run of the same push has nothing new to judge
    flow.github(pulls=[])
    steps = by_name(flow.run("apply", push | {"actor": "mallory"}, {"TENANTRY_DRIVERS": "render"}))
    assert steps["Apply"].code == 0, steps["Apply"].output
    assert "P1 checked nothing: no document changed since the last apply" in (
        steps["Apply"].output
    )


def test_invalid_pull_request_is_annotated(desired: Path, tmp_path: Path) -> None:
    flow = Workflow(desired, tmp_path)
    add_service(desired, "example-co-public-ip")
    second = add_service(desired, "example-co-public-ip-2")
    git(desired, "commit", "-qam", "two Public IPs")
    flow.github(pulls=[{"number": 7, "user": {"login": "ops-team"}}])
    steps = by_name(flow.run("pull-request", pull_request(), {}))
    validate = steps["Validate"]
    assert validate.code == 1
    annotation = (
        f"::error title=tenantry S5,file=occupiers/example-co/services.yaml,line={second},col=15::"
        "example-co may have at most 1 public-ip at hq: service example-co-public-ip-2 and "
        "example-co-public-ip exceed it"
    )
    assert annotation in validate.output, validate.output
    assert steps["Plan"].code is None and steps["Comment the plan"].code is None
    assert not flow.gh()["comments"]
    # the plan, run on its own, refuses too (exit 1) and names the finding
    done = subprocess.run(
        [TENANTRY, "plan", "--base", "origin/main", "--format", "markdown"],
        cwd=desired,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "error[S5]" in done.stdout


# ---------------------------------------------------------------- the PR comment, pure


def test_comment_decides_create_then_update() -> None:
    assert decide([], "o/r", 3) == Action("POST", "repos/o/r/issues/3/comments")
    comments = [
        {"id": 5, "body": "looks good", "created_at": "2026-01-01"},
        {"id": 9, "body": f"{MARKER}\nnew", "created_at": "2026-01-03"},
        {"id": 8, "body": f"{MARKER}\nold", "created_at": "2026-01-02"},
    ]
    assert decide(comments, "o/r", 3) == Action("PATCH", "repos/o/r/issues/comments/8")
    assert parse_pages('[{"id": 1}]\n[{"id": 2}, {"id": 3}]\n[]') == [
        {"id": 1},
        {"id": 2},
        {"id": 3},
    ]


# ---------------------------------------------------------------- pre-commit


def pre_commit_env(tmp_path: Path) -> dict[str, str]:
    if shutil.which("pre-commit", path=str(BIN)) is None:
        pytest.fail("pre-commit is not installed (pip install -e '.[test]')")
    return {
        **os.environ,
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
    }


def commit(repo: Path, env: dict[str, str], message: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "commit", "-qam", message], cwd=repo, env=env, capture_output=True, text=True
    )


@pytest.mark.parametrize("config", ["scaffold", "project hooks"])
def test_pre_commit_blocks_an_invalid_commit(desired: Path, tmp_path: Path, config: str) -> None:
    env = pre_commit_env(tmp_path)
    if config == "project hooks":
        # this project's .pre-commit-hooks.yaml, as `repo: <tenantry>` uses it (a local clone)
        hooks = tmp_path / "tenantry-hooks"
        hooks.mkdir()
        shutil.copy(ROOT / ".pre-commit-hooks.yaml", hooks)
        git(hooks, "init", "-q")
        git(hooks, "add", "-A")
        git(hooks, "commit", "-qm", "hooks")
        rev = git(hooks, "rev-parse", "HEAD").strip()
        (desired / ".pre-commit-config.yaml").write_text(
            textwrap.dedent(f"""\
            repos:
              - repo: file://{hooks}
                rev: {rev}
                hooks:
                  - id: tenantry-validate
            """)
        )
        git(desired, "add", ".pre-commit-config.yaml")
        git(desired, "commit", "-qm", "pre-commit: tenantry's hooks")
    installed = subprocess.run(
        [BIN / "pre-commit", "install"], cwd=desired, env=env, capture_output=True, text=True
    )
    assert installed.returncode == 0, installed.stderr

    add_service(desired, "example-co-public-ip")
    ok = commit(desired, env, "one Public IP")
    assert ok.returncode == 0, ok.stdout + ok.stderr

    line = add_service(desired, "example-co-public-ip-2")
    blocked = commit(desired, env, "a second Public IP")
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0, output
    assert "tenantry validate" in output and "Failed" in output
    assert f"occupiers/example-co/services.yaml:{line}:15: error[S5]" in output
    assert git(desired, "log", "-1", "--format=%s").strip() == "one Public IP"
