"""The options several commands take (click): one definition each, so that `plan` and `apply`
say --state the same way."""

import click

from reconciler.cli.common import LEDGER

path_argument = click.argument("path", default=".", type=click.Path(exists=True))
today_option = click.option(
    "--today", "today", metavar="YYYY-MM-DD", help="Evaluate dates as of this day (default: today)."
)
actor_option = click.option(
    "--actor",
    envvar="TENANTRY_ACTOR",
    help="Who makes the change (P1, D2); in CI the pull-request author. Without it P1 and "
    "D2's admin check are not run (the output says so).",
)
approvers_option = click.option(
    "--approved-by",
    "approved_by",
    envvar="TENANTRY_APPROVERS",
    metavar="NAME,NAME",
    help="Who approved the change: an approver who is admin of a touched site stands in for "
    "the actor there (P1, D2); in CI the pull request's approving reviewers.",
)
mass_release_option = click.option(
    "--allow-mass-release",
    is_flag=True,
    help="Let the plan release more than 10% of a site's holdings (G1).",
)
ledger_option = click.option(
    "--state",
    "state",
    envvar="TENANTRY_LEDGER",
    default=LEDGER,
    show_default=True,
    help="The ledger: a SQLite file, or a postgresql:// URL.",
)
drivers_option = click.option(
    "--drivers",
    type=click.Choice(["render", "devices"]),
    default="render",
    envvar="TENANTRY_DRIVERS",
    show_default=True,
    help="render: each device's configuration is a file in --out (written, and read back); "
    "devices: each device's platform driver (SSH, RPC, SQL).",
)
out_option = click.option(
    "--out",
    default="rendered",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where the render driver writes its files.",
)
parallel_option = click.option(  # apply and drift
    "--parallel",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Devices worked on at the same time (drift reads them; apply reads and configures them).",
)
report_format_option = click.option(  # plan and drift: for people, tools and PR comments
    "--format",
    "fmt",
    type=click.Choice(["human", "json", "markdown"]),
    default="human",
    show_default=True,
)
table_format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
)
