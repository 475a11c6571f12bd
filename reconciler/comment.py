"""`tenantry comment`: post the plan as ONE pull-request comment, updated on every push.

The comment is found by the marker its first line carries (`<!-- tenantry-plan -->`, written
by `tenantry plan --format markdown`). `decide` is the whole upsert logic, pure; `upsert` talks
to GitHub through the `gh` CLI (preinstalled on GitHub's runners; GH_TOKEN authenticates)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

MARKER = "<!-- tenantry-plan -->"


@dataclass(frozen=True)
class Action:
    """The one GitHub call that posts the plan comment: create it, or update the one there."""

    method: str  # "POST" (create) or "PATCH" (update)
    path: str  # GitHub REST path


def decide(comments: Sequence[dict[str, Any]], repo: str, pr: int, marker: str = MARKER) -> Action:
    """Update the oldest comment that carries the marker, else create one."""
    mine = [c for c in comments if marker in str(c.get("body") or "")]
    if mine:
        oldest = min(mine, key=lambda c: (str(c.get("created_at") or ""), int(c["id"])))
        return Action("PATCH", f"repos/{repo}/issues/comments/{int(oldest['id'])}")
    return Action("POST", f"repos/{repo}/issues/{pr}/comments")


def parse_pages(text: str) -> list[dict[str, Any]]:
    """`gh api --paginate` prints one JSON array per page, back to back."""
    decoder = json.JSONDecoder()
    out: list[dict[str, Any]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        page, position = decoder.raw_decode(text, position)
        out.extend(page)
        while position < len(text) and text[position].isspace():
            position += 1
    return out


Runner = Callable[[list[str], str | None], str]


def gh(args: list[str], stdin: str | None) -> str:
    done = subprocess.run(["gh", *args], input=stdin, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"gh {' '.join(args[:3])}: {done.stderr.strip() or done.stdout}")
    return done.stdout


def read_only(error: str) -> bool:
    """Whether `gh` failed because the token may not write (a fork's pull request)."""
    return "HTTP 403" in error or "Resource not accessible by integration" in error


def upsert(body: str, repo: str, pr: int, run: Runner = gh) -> Action:
    if MARKER not in body:
        body = f"{MARKER}\n{body}"
    listing = run(["api", "--paginate", f"repos/{repo}/issues/{pr}/comments"], None)
    action = decide(parse_pages(listing), repo, pr)
    run(["api", "--method", action.method, action.path, "--input", "-"], json.dumps({"body": body}))
    return action
