"""`tenantry approvals`: who wrote and who approved a pull (merge) request, for P1 in CI.

A site admin's part in a pull request is to approve it, not to author it: the workflow passes
the author as TENANTRY_ACTOR and the approving reviewers as TENANTRY_APPROVERS. On GitHub the
reviews come from the REST API through `gh` (a reviewer's latest review counts: approved, then
changes requested, is not an approval); on GitLab from the merge request's approvals. After a
merge, the pull request is found from the merged commit. The decisions are pure functions; the
fetching is a thin shell (`gh`, or HTTP to CI_API_V4_URL)."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.comment import Runner, gh, parse_pages

# Logins that are safe to write into $GITHUB_ENV or `export` (GitHub, GitLab, bots).
LOGIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-\[\]]*$")


@dataclass(frozen=True)
class Approval:
    """Who made a pull request and who approved it (P1's actor and approvers in CI)."""

    author: str  # '' : unknown (a direct push)
    approvers: tuple[str, ...]

    def env(self) -> str:
        """Lines for $GITHUB_ENV or `export $(…)`."""
        lines = [f"TENANTRY_ACTOR={self.author}"] if self.author else []
        lines.append(f"TENANTRY_APPROVERS={','.join(self.approvers)}")
        return "\n".join(lines)


def _login(value: object) -> str:
    text = str(value or "")
    return text if LOGIN.match(text) else ""


def github_approvers(reviews: Iterable[Mapping[str, Any]], author: str) -> tuple[str, ...]:
    """Reviewers whose latest deciding review approves (comments decide nothing)."""
    latest: dict[str, str] = {}
    for review in sorted(reviews, key=lambda r: (str(r.get("submitted_at") or ""), r.get("id", 0))):
        login = _login((review.get("user") or {}).get("login"))
        state = str(review.get("state") or "")
        if login and state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            latest[login] = state
    return tuple(sorted(u for u, s in latest.items() if s == "APPROVED" and u != author))


def merged_pull(pulls: Iterable[Mapping[str, Any]], sha: str) -> Mapping[str, Any] | None:
    """The pull request a pushed commit merged (its merge commit, else the one merged)."""
    candidates = list(pulls)
    for pull in candidates:
        if pull.get("merge_commit_sha") == sha:
            return pull
    merged = [p for p in candidates if p.get("merged_at")]
    return merged[0] if merged else None


def from_github(repo: str, pr: int | None, commit: str | None, run: Runner = gh) -> Approval:
    if pr is None:
        listing = run(["api", "--paginate", f"repos/{repo}/commits/{commit}/pulls"], None)
        pull = merged_pull(parse_pages(listing), commit or "")
        if pull is None:
            return Approval("", ())
        pr = int(pull["number"])
        author = _login((pull.get("user") or {}).get("login"))
    else:
        pull = json.loads(run(["api", f"repos/{repo}/pulls/{pr}"], None))
        author = _login((pull.get("user") or {}).get("login"))
    reviews = parse_pages(run(["api", "--paginate", f"repos/{repo}/pulls/{pr}/reviews"], None))
    return Approval(author, github_approvers(reviews, author))


Fetch = Callable[[str], Any]


def gitlab_fetch(api: str, token: str) -> Fetch:
    """GET a GitLab API path as JSON (PRIVATE-TOKEN, or JOB-TOKEN for CI_JOB_TOKEN)."""

    def get(path: str) -> Any:
        header = "JOB-TOKEN" if token.startswith("job:") else "PRIVATE-TOKEN"
        request = urllib.request.Request(
            api.rstrip("/") + path, headers={header: token.removeprefix("job:")}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read().decode())
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"GitLab API {path}: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise RuntimeError(f"GitLab API {path}: {exc}") from None

    return get


def from_gitlab(project: str, mr: int | None, commit: str | None, get: Fetch) -> Approval:
    base = f"/projects/{urllib.parse.quote(project, safe='')}"
    if mr is None:
        found = get(f"{base}/repository/commits/{commit}/merge_requests")
        merged = [m for m in found if m.get("state") == "merged"] or list(found)
        if not merged:
            return Approval("", ())
        mr = int(merged[0]["iid"])
    request = get(f"{base}/merge_requests/{mr}")
    author = _login((request.get("author") or {}).get("username"))
    approvals = get(f"{base}/merge_requests/{mr}/approvals")
    names = {
        _login((a.get("user") or {}).get("username")) for a in approvals.get("approved_by", [])
    }
    return Approval(author, tuple(sorted(n for n in names if n and n != author)))
