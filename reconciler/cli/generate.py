"""`tenantry schemas`, `tenantry crds` and `tenantry init`: the files tenantry writes for other
tools (JSON Schemas, CustomResourceDefinitions) and a new desired-state repo."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.cli.common import EXIT_FAILED, EXIT_OK, write_or_check


@click.command("schemas")
@click.option("--out", type=click.Path(file_okay=False), default="schemas", show_default=True)
@click.option("--check", is_flag=True, help="Exit 1 if the files are not up to date.")
def schemas_command(out: str, check: bool) -> int:
    """Write one JSON Schema per kind (for editors and CI)."""
    from reconciler.schemas import render_all

    return write_or_check(Path(out), render_all(), check, "tenantry schemas")


@click.command("init")
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Write into a directory that is not empty.")
def init_command(directory: str, force: bool) -> int:
    """Scaffold a desired-state repo in DIRECTORY: a site, a catalogue, an occupier, the JSON
    Schemas, GitHub Actions and GitLab CI, pre-commit. It passes `tenantry validate` at once."""
    from reconciler import scaffold

    try:
        written = scaffold.init(Path(directory), force)
    except scaffold.InitError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_FAILED
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"\nNext: cd {directory} && git init && tenantry validate && pre-commit install")
    return EXIT_OK


@click.command("crds")
@click.option(
    "--out", type=click.Path(file_okay=False), default="charts/tenantry/crds", show_default=True
)
@click.option("--check", is_flag=True, help="Exit 1 if the files are not up to date.")
def crds_command(out: str, check: bool) -> int:
    """Write the CustomResourceDefinitions generated from the models (for the Helm chart)."""
    from reconciler.crds import render_all

    return write_or_check(Path(out), render_all(), check, "tenantry crds")
