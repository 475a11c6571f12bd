"""S10: a scheduled quantity or plan change takes effect on its date, not before (seeds 003,
004: "schedule a future change, change the plan")."""

from datetime import date

from reconciler.catalogue import Infra, allocated, terms_on
from reconciler.findings import Severity
from tests.rules.conftest import TODAY, World, assert_at, service


def test_s10_future_quantity_change_is_fine_and_waits_for_its_date(world: World) -> None:
    result = world.with_(
        service(
            "acme-voice", "voice-line", quantity=2, changes=[{"on": "2027-01-01", "quantity": 5}]
        ),
    )
    assert result.of("S10") == []
    repo = result.repo
    assert repo is not None
    voice = repo.services["acme-voice"]
    assert terms_on(repo, voice, date(2026, 12, 31))[1] == 2
    assert terms_on(repo, voice, date(2027, 1, 1))[1] == 5
    assert (
        allocated(repo, "acme", "london-bridge", date(2026, 12, 31), TODAY)[Infra.PHONE_NUMBERS]
        == 2
    )
    assert (
        allocated(repo, "acme", "london-bridge", date(2027, 1, 1), TODAY)[Infra.PHONE_NUMBERS] == 5
    )


def test_s10_plan_change_switches_the_definition_on_its_date(world: World) -> None:
    result = world.with_(
        service(
            "acme-net",
            "internet-lan-100",
            changes=[{"on": "2027-01-01", "definition": "internet-lan-1000", "price": "30.00"}],
        ),
    )
    assert result.of("S10") == []
    repo = result.repo
    assert repo is not None
    net = repo.services["acme-net"]
    before, _, price_before = terms_on(repo, net, date(2026, 12, 31))
    after, _, price_after = terms_on(repo, net, date(2027, 1, 1))
    assert before is not None and before.name == "internet-lan-100"
    assert after is not None and after.name == "internet-lan-1000"
    assert (str(price_before), str(price_after)) == ("10.00", "30.00")


def test_s10_change_dates_must_increase(world: World) -> None:
    result = world.with_(
        service(
            "acme-voice",
            "voice-line",
            changes=[{"on": "2027-03-01", "quantity": 3}, {"on": "2027-02-01", "quantity": 2}],
        ),
    )
    finding = result.one("S10")
    assert finding.severity is Severity.ERROR
    assert "change dates must increase (2027-02-01 after 2027-03-01)" in finding.message
    assert_at(result, finding, "Service", "acme-voice", "'2027-02-01'")


def test_s10_change_on_or_before_the_contract_start_is_rejected(world: World) -> None:
    result = world.with_(
        service("acme-voice", "voice-line", changes=[{"on": "2026-01-01", "quantity": 3}]),
    )
    finding = result.one("S10")
    assert "change on 2026-01-01 is not after the contract start 2026-01-01" in finding.message
    assert finding.hint == "change the service itself"
    assert_at(result, finding, "Service", "acme-voice", "'2026-01-01'")


def test_s10_change_that_changes_nothing_is_rejected(world: World) -> None:
    result = world.with_(service("acme-voice", "voice-line", changes=[{"on": "2027-01-01"}]))
    finding = result.one("S10")
    assert finding.message == "service acme-voice: change on 2027-01-01 changes nothing"
    assert_at(result, finding, "Service", "acme-voice", "'2027-01-01'")


def test_s10_change_to_an_unknown_definition_is_rejected(world: World) -> None:
    result = world.with_(
        service(
            "acme-net",
            "internet-lan-100",
            changes=[{"on": "2027-01-01", "definition": "internet-lan-10g"}],
        )
    )
    finding = result.one("S10")
    assert "change to unknown definition 'internet-lan-10g'" in finding.message
    assert_at(result, finding, "Service", "acme-net", "definition: internet-lan-10g")


def test_s10_change_to_an_inactive_definition_is_rejected(world: World) -> None:
    result = world.with_(
        service(
            "acme-net",
            "internet-lan-100",
            changes=[{"on": "2027-01-01", "definition": "adsl-legacy"}],
        )
    )
    finding = result.one("S10")
    assert "adsl-legacy is inactive and cannot be newly assigned" in finding.message
    assert_at(result, finding, "Service", "acme-net", "definition: adsl-legacy")


def test_s10_changed_quantity_outside_min_max_is_rejected(world: World) -> None:
    result = world.with_(
        service("acme-net", "internet-lan-100", changes=[{"on": "2027-01-01", "quantity": 11}])
    )
    finding = result.one("S10")
    assert "on 2027-01-01 quantity 11 of internet-lan-100 must be at most 10" in finding.message
    assert_at(result, finding, "Service", "acme-net", "quantity: 11")


def test_s10_plan_change_checks_quantity_against_the_new_definition(world: World) -> None:
    result = world.with_(
        service(
            "acme-voice",
            "voice-line",
            quantity=20,
            changes=[{"on": "2027-01-01", "definition": "internet-lan-100"}],
        )
    )
    assert "quantity 20 of internet-lan-100 must be at most 10" in result.one("S10").message
