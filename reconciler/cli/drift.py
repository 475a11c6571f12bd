"""`tenantry drift`: read every device and list what someone changed by hand since the last
apply (the comparison is reconciler.drift, the reads App.drift); `plan --refresh` and
`apply --only-drift` use the same pieces."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from reconciler import output
from reconciler.cli.common import EXIT_FAILED
from reconciler.cli.options import (
    drivers_option,
    ledger_option,
    out_option,
    parallel_option,
    path_argument,
    report_format_option,
)

if TYPE_CHECKING:
    from reconciler.app import App
    from reconciler.drift import DriftReport


@click.command("drift")
@path_argument
@report_format_option
@drivers_option
@out_option
@parallel_option
@ledger_option
def drift_command(path: str, fmt: str, drivers: str, out: str, parallel: int, state: str) -> int:
    """Read every device and list what differs from the intent of the last apply: someone's
    change by hand. Nothing is sent. Exit 0: in sync; 2: drift; 1: a device could not be
    read (it is named; the others are still checked)."""
    from reconciler.app import App
    from reconciler.drift import FORMATS

    report = drift_report(path, App(state, drivers, out), parallel)
    click.echo(FORMATS[fmt](report))
    return report.exit_code


def drift_report(path: str, app: App, parallel: int, required: bool = True) -> DriftReport:
    """The desired state's devices read against the ledger's record of the last apply;
    without one, an error (`drift`) or a note (`plan --refresh`: nothing applied yet)."""
    from reconciler.load import load

    loaded = load(path)
    errors = [f for f in loaded.findings if f.is_error]
    if errors:
        click.echo(output.render(errors, "human", checked=len(loaded.repo.sources)))
        raise SystemExit(EXIT_FAILED)
    report = app.drift(loaded.repo, parallel)
    if report.devices or not report.unapplied:
        return report
    if not required:
        click.echo(f"note: no apply recorded in {app.state}: no drift to read", err=True)
        return report
    click.echo(
        f"error: no apply recorded in {app.state} for {', '.join(report.unapplied)}: nothing "
        "to compare the devices with (run tenantry apply, or give --state)",
        err=True,
    )
    raise SystemExit(EXIT_FAILED)
