"""The `tenantry` command line. Exit codes: 0 ok / no changes, 1 invalid input or failure,
2 `plan` found changes, 64 usage error."""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from reconciler import output, schemas
from reconciler.validate import validate as run_validate

EXIT_OK, EXIT_FAILED, EXIT_CHANGES, EXIT_USAGE = 0, 1, 2, 64


class Tenantry(click.Group):
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
        sys.exit(code if isinstance(code, int) else EXIT_OK)


def _today(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


path_argument = click.argument("path", default=".", type=click.Path(exists=True))
today_option = click.option(
    "--today", "today", metavar="YYYY-MM-DD", help="Evaluate dates as of this day (default: today)."
)
actor_option = click.option(
    "--actor",
    envvar="TENANTRY_ACTOR",
    help="Who makes the change (P1); in CI the pull-request author.",
)


@click.group(cls=Tenantry, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tenantry")
def main() -> None:
    """GitOps for flexible-workspace operators: occupiers, contracts and services as YAML."""


@main.command()
@path_argument
@click.option(
    "--format", "fmt", type=click.Choice(output.FORMATS), default="human", show_default=True
)
@today_option
@actor_option
def validate(path: str, fmt: str, today: str | None, actor: str | None) -> int:
    """Check every document below PATH against the schema and the catalogue rules."""
    result = run_validate(path, _today(today), actor)
    text = output.render(result.findings, fmt, checked=len(result.repo.sources))
    if text:
        click.echo(text)
    return EXIT_OK if result.ok else EXIT_FAILED


@main.command("schemas")
@click.option("--out", type=click.Path(file_okay=False), default="schemas", show_default=True)
@click.option("--check", is_flag=True, help="Exit 1 if the files are not up to date.")
def schemas_command(out: str, check: bool) -> int:
    """Write one JSON Schema per kind (for editors and CI)."""
    directory = Path(out)
    if check:
        stale = schemas.stale(directory)
        for name in stale:
            click.echo(f"{directory / name}: out of date; run `tenantry schemas`")
        return EXIT_FAILED if stale else EXIT_OK
    for path in schemas.write(directory):
        click.echo(f"wrote {path}")
    return EXIT_OK


def run() -> None:
    """Console entry point. After the work is done the process exits without tearing down
    the loaded repo object by object (tens of thousands of models: a quarter of a second)."""
    try:
        main()
        code = EXIT_OK
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
