"""The `tenantry` group: exit codes for every way a command ends, and lazy commands.

The group knows each command's name, its "module:attr" and its one-line help; it imports a
command's module only when that command runs (or its --help is asked), so `tenantry --version`
and `tenantry validate` (the pre-commit hook) load neither the planner, the drivers, billing,
the dashboard nor the operator (click's LazyGroup pattern).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, NamedTuple

import click

from reconciler import __version__
from reconciler.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from reconciler.cli.entry import run as run
from reconciler.cli.entry import without_pydantic_plugins

without_pydantic_plugins()


class Lazy(NamedTuple):
    """A command not imported yet: where it is, and the line `tenantry --help` shows for it
    (tests/test_cli_lazy.py checks it against the command's own docstring)."""

    target: str  # "module:attr"
    help: str  # the first sentence of the command's docstring


COMMANDS: dict[str, Lazy] = {
    "validate": Lazy(
        "reconciler.cli.validate:validate",
        "Check every document below PATH against the schema and the catalogue rules, today "
        "and on every later date where the desired state changes.",
    ),
    "pre-commit": Lazy(
        "reconciler.cli.validate:pre_commit_command",
        "The pre-commit hook: validate what the commit changes and what depends on it (the "
        "findings of a full run for those files).",
    ),
    "plan": Lazy(
        "reconciler.cli.plan:plan", "Show what `apply` would allocate, configure and release."
    ),
    "apply": Lazy(
        "reconciler.cli.apply:apply_command",
        "Validate, plan, then allocate in the ledger and configure every device.",
    ),
    "drift": Lazy(
        "reconciler.cli.drift:drift_command",
        "Read every device and list what differs from the intent of the last apply: "
        "someone's change by hand.",
    ),
    "decommission": Lazy(
        "reconciler.cli.apply:decommission_command",
        "Write the decommission request (D1) into OCCUPIER's document, then show the plan, "
        "judging (P1, D2) the request it wrote.",
    ),
    "report": Lazy(
        "reconciler.cli.report:report",
        "Reports: `services` (seed 000's Manage services: definition, description, start, "
        "quantity, price, cost, rrp, total, status, bill date, next change, infrastructure "
        "X/Y), `pools` (utilization per site, ≥ 90 % flagged), `charges --month YYYY-MM` "
        "(prorated).",
    ),
    "catalogue": Lazy(
        "reconciler.cli.report:catalogue_command",
        "Seed 000's Available services: what OCCUPIER may still add at the site, with each "
        "definition's description; for the others, the rule that forbids them; and the case "
        "to raise for those that need one (IVR, conference bridge).",
    ),
    "site": Lazy(
        "reconciler.cli.report:site_command",
        "Build the static dashboard: an index of every site, one page per site and per "
        "occupier (and a plan page with --plan-base).",
    ),
    "billing": Lazy(
        "reconciler.cli.billing:billing_group",
        "Billing: close a month so that its charges never change again.",
    ),
    "ledger": Lazy("reconciler.cli.ledger:ledger_group", "Inspect the ledger."),
    "schemas": Lazy(
        "reconciler.cli.generate:schemas_command",
        "Write one JSON Schema per kind (for editors and CI).",
    ),
    "crds": Lazy(
        "reconciler.cli.generate:crds_command",
        "Write the CustomResourceDefinitions generated from the models (for the Helm chart).",
    ),
    "init": Lazy(
        "reconciler.cli.generate:init_command",
        "Scaffold a desired-state repo in DIRECTORY: a site, a catalogue, an occupier, the "
        "JSON Schemas, GitHub Actions and GitLab CI, pre-commit.",
    ),
    "comment": Lazy(
        "reconciler.cli.review:comment_command",
        "Post FILE (`tenantry plan --format markdown`) as the pull request's tenantry "
        "comment: the existing one (found by its `<!-- tenantry-plan -->` marker) is "
        "updated, not duplicated.",
    ),
    "approvals": Lazy(
        "reconciler.cli.review:approvals_command",
        "Print TENANTRY_ACTOR (the author) and TENANTRY_APPROVERS (approving reviewers) of a "
        "pull request, or of the one a merged commit came from, for `>> $GITHUB_ENV` or "
        "`export $(…)` (P1).",
    ),
    "operator": Lazy(
        "reconciler.cli.operator:operator_command",
        "Run the Kubernetes operator and its admission webhook (settings: TENANTRY_* env).",
    ),
}


def load_command(name: str) -> click.Command:
    """Import the module of command `name` and return the command."""
    module, _, attr = COMMANDS[name].target.partition(":")
    command = getattr(importlib.import_module(module), attr)
    if not isinstance(command, click.Command):
        raise TypeError(f"{COMMANDS[name].target} is not a click command")
    return command


class Tenantry(click.Group):
    """Exit codes: 0 ok / no changes, 1 invalid input or failure, 2 `plan` found changes
    (`drift`: drift), 64 usage error. A fault of the ledger is one line, never a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            return load_command(cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """`tenantry --help` lists every command from the table, importing none of them."""
        shown = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in shown)
        rows = [(name, self._short_help(ctx, name, limit)) for name in shown]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def _short_help(self, ctx: click.Context, name: str, limit: int) -> str:
        """The table's sentence shortened as click shortens a docstring to `limit`."""
        if name not in COMMANDS:
            command = super().get_command(ctx, name)
            return command.get_short_help_str(limit) if command else ""
        return click.Command(name, help=COMMANDS[name].help).get_short_help_str(limit)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
            sys.exit(EXIT_USAGE)
        except click.UsageError as exc:
            exc.show()
            sys.exit(EXIT_USAGE)
        except click.exceptions.Abort:
            sys.exit(EXIT_FAILED)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(EXIT_FAILED)
        except Exception as exc:
            from reconciler.ledger.sql import LedgerError

            if not isinstance(exc, LedgerError):
                raise
            # a fault of the ledger (or the disk under it) is one line, never a traceback
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_FAILED)
        sys.exit(code if isinstance(code, int) else EXIT_OK)


@click.group(cls=Tenantry, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, package_name="tenantry")
def main() -> None:
    """GitOps for flexible-workspace operators: occupiers, contracts and services as YAML."""
