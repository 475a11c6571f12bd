"""`tenantry comment` and `tenantry approvals`: the pull-request side — the plan as the pull
request's comment, and who wrote and approved a change (P1)."""

from __future__ import annotations

import os
from typing import Any

import click

from reconciler.cli.common import EXIT_FAILED, EXIT_OK


@click.command("comment")
@click.argument("plan_file", metavar="FILE", type=click.File("r"))
@click.option("--repo", envvar="GITHUB_REPOSITORY", required=True, help="OWNER/NAME.")
@click.option("--pr", "pr", type=int, required=True, help="Pull-request number.")
def comment_command(plan_file: Any, repo: str, pr: int) -> int:
    """Post FILE (`tenantry plan --format markdown`) as the pull request's tenantry comment:
    the existing one (found by its `<!-- tenantry-plan -->` marker) is updated, not duplicated.
    Uses the `gh` CLI (GH_TOKEN)."""
    from reconciler import comment

    try:
        action = comment.upsert(plan_file.read(), repo, pr)
    except (RuntimeError, OSError, ValueError) as exc:
        if comment.read_only(str(exc)):
            # a pull request from a fork gets a read-only token: the plan is in the job
            # summary (the Plan step wrote it there), which is where readers are sent
            click.echo(
                f"warning: cannot comment on pull request {pr} with a read-only token (a "
                "pull request from a fork?); the plan is in the job summary",
                err=True,
            )
            return EXIT_OK
        click.echo(f"error: {exc}", err=True)
        return EXIT_FAILED
    click.echo(f"{'updated' if action.method == 'PATCH' else 'created'}: {action.path}")
    return EXIT_OK


@click.command("approvals")
@click.option("--repo", envvar="GITHUB_REPOSITORY", help="GitHub: OWNER/NAME (uses `gh`).")
@click.option("--pr", "--mr", "pr", type=int, help="The pull (merge) request number.")
@click.option("--commit", metavar="SHA", help="The merged commit: find its pull request.")
@click.option("--gitlab", is_flag=True, help="GitLab: the merge request's approvals.")
@click.option("--project", envvar="CI_PROJECT_ID", help="GitLab: the project id or path.")
@click.option("--api", envvar="CI_API_V4_URL", help="GitLab: the API URL (CI_API_V4_URL).")
def approvals_command(
    repo: str | None,
    pr: int | None,
    commit: str | None,
    gitlab: bool,
    project: str | None,
    api: str | None,
) -> int:
    """Print TENANTRY_ACTOR (the author) and TENANTRY_APPROVERS (approving reviewers) of a
    pull request, or of the one a merged commit came from, for `>> $GITHUB_ENV` or
    `export $(…)` (P1). GitLab reads TENANTRY_GITLAB_TOKEN (read_api), else CI_JOB_TOKEN."""
    from reconciler import approvals

    if (pr is None) == (commit is None):
        raise click.UsageError("give exactly one of --pr (--mr) and --commit")
    try:
        if gitlab:
            if not project or not api:
                raise click.UsageError("--gitlab needs --project and --api (CI_API_V4_URL)")
            token = os.environ.get("TENANTRY_GITLAB_TOKEN") or (
                "job:" + os.environ.get("CI_JOB_TOKEN", "")
            )
            found = approvals.from_gitlab(project, pr, commit, approvals.gitlab_fetch(api, token))
        else:
            if not repo:
                raise click.UsageError("--repo OWNER/NAME is needed (or GITHUB_REPOSITORY)")
            found = approvals.from_github(repo, pr, commit)
    except (RuntimeError, OSError, ValueError, KeyError) as exc:
        click.echo(f"error: approvals: {exc}", err=True)
        return EXIT_FAILED
    click.echo(found.env())
    return EXIT_OK
