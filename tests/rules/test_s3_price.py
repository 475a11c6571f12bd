"""S3: price defaults to rrp; a price under cost is a warning, not an error (seed 000).

Monthly totals and chargeable quantity (max(0, quantity - included), prorating) have no
function in the core yet; they are tested where they are added."""

from datetime import date
from decimal import Decimal

from click.testing import CliRunner

from reconciler.catalogue import terms_on
from reconciler.cli import main
from reconciler.findings import Severity
from tests.rules.conftest import TODAY, World, assert_at, service


def test_s3_price_at_or_above_cost_is_fine(world: World) -> None:
    result = world.with_(
        service("acme-pip-net", "internet-lan-100", price="1.00"),  # cost 1.00
        service("acme-pip", "public-ip", price="15.00"),
        service("acme-voice", "voice-line", price="0.00"),  # cost 0.00
    )
    assert result.of("S3") == []


def test_s3_price_under_cost_is_a_warning_naming_service_and_definition(world: World) -> None:
    result = world.with_(
        service("acme-net", "internet-lan-100"),
        service("acme-pip", "public-ip", price="4.99"),
    )
    finding = result.one("S3")
    assert finding.severity is Severity.WARNING
    assert not finding.is_error
    assert "service acme-pip is priced 4.99 per unit" in finding.message
    assert "under the cost of public-ip (5.00)" in finding.message
    assert_at(result, finding, "Service", "acme-pip", "price: '4.99'")
    assert result.findings == [finding]  # nothing else: the repo is valid


def test_s3_price_under_cost_still_validates_with_exit_code_0(world: World) -> None:
    result = world.with_(
        service("acme-net", "internet-lan-100"),
        service("acme-pip", "public-ip", price="4.99"),
    )
    run = CliRunner(env={"TENANTRY_ACTOR": None}).invoke(
        main, ["validate", str(result.root), "--today", TODAY.isoformat()]
    )
    assert run.exit_code == 0, run.output
    assert "warning[S3]" in run.output and "acme-pip" in run.output


def test_s3_price_defaults_to_rrp(world: World) -> None:
    result = world.with_(
        service("acme-net", "internet-lan-100"),
        service("acme-pip", "public-ip"),
    )
    assert result.of("S3") == []
    assert result.repo is not None
    _, quantity, price = terms_on(result.repo, result.repo.services["acme-pip"], date(2026, 12, 1))
    assert (quantity, price) == (1, Decimal("15.00"))


def test_s3_declared_price_wins_over_rrp(world: World) -> None:
    result = world.with_(service("acme-net", "internet-lan-100", price="7.50"))
    assert result.repo is not None
    _, _, price = terms_on(result.repo, result.repo.services["acme-net"], TODAY)
    assert price == Decimal("7.50")


def test_s3_discount_ending_before_it_starts_is_an_error_at_its_end(world: World) -> None:
    """A 10 % discount from 20 November to 10 November would never apply: the line would be
    charged in full while finance believes it is discounted."""
    backwards = {"percent": "10", "start": "2026-11-20", "end": "2026-11-10"}
    result = world.with_(
        service("acme-net", "internet-lan-100", discounts=[backwards]),
    )
    finding = result.one("S3")
    assert finding.is_error
    assert "acme-net: the 10% discount ends (2026-11-10) before it starts (2026-11-20)" in (
        finding.message
    )
    assert_at(result, finding, "Service", "acme-net", "end: '2026-11-10'")
    run = CliRunner(env={"TENANTRY_ACTOR": None}).invoke(
        main, ["validate", str(result.root), "--today", TODAY.isoformat()]
    )
    assert run.exit_code == 1, run.output
    assert f"{finding.file}:{finding.line}" in run.output and "error[S3]" in run.output


def test_s3_discount_of_one_day_or_open_ended_is_fine(world: World) -> None:
    result = world.with_(
        service(
            "acme-net",
            "internet-lan-100",
            discounts=[
                {"percent": "10", "start": "2026-11-20", "end": "2026-11-20"},
                {"percent": "5", "start": "2026-12-01"},
            ],
        ),
    )
    assert result.of("S3") == []
