"""S2: the start date comes from the contract and cannot be overridden; a future start makes
the service Scheduled (seed 000)."""

from datetime import date

from reconciler.catalogue import Status, service_status
from reconciler.findings import Severity
from tests.rules.conftest import World, assert_at, contract, service


def test_s2_service_without_its_own_start_is_fine(world: World) -> None:
    assert world.with_(service("acme-net", "internet-lan-100")).of("S2") == []


def test_s2_service_repeating_the_contract_start_is_fine(world: World) -> None:
    result = world.with_(service("acme-net", "internet-lan-100", start="2026-01-01"))
    assert result.of("S2") == []


def test_s2_service_start_differing_from_its_contract_is_rejected(world: World) -> None:
    result = world.with_(service("acme-net", "internet-lan-100", start="2026-03-01"))
    finding = result.one("S2")
    assert finding.severity is Severity.ERROR
    assert "service acme-net starts 2026-03-01" in finding.message
    assert "contract acme-lb (2026-01-01) and cannot be overridden" in finding.message
    assert finding.hint == "remove spec.start"
    assert_at(result, finding, "Service", "acme-net", "start: '2026-03-01'")


def test_s2_start_is_compared_with_the_named_contract(world: World) -> None:
    result = world.with_(
        contract("acme-lb-2", start="2027-01-01", spaces=["suite-302"]),
        service("acme-net", "internet-lan-100", contract="acme-lb-2", start="2026-01-01"),
    )
    finding = result.one("S2")
    assert "contract acme-lb-2 (2027-01-01)" in finding.message


def test_s2_future_contract_start_makes_the_service_scheduled(world: World) -> None:
    result = world.with_(
        contract(start="2027-02-01"),
        service("acme-net", "internet-lan-100"),
    )
    assert result.of("S2") == []
    repo = result.repo
    assert repo is not None
    net = repo.services["acme-net"]
    assert service_status(repo, net, date(2026, 11, 23)) is Status.SCHEDULED
    assert service_status(repo, net, date(2027, 1, 31)) is Status.SCHEDULED
    assert service_status(repo, net, date(2027, 2, 1)) is Status.ACTIVE


def test_s2_past_contract_start_makes_the_service_active(world: World) -> None:
    result = world.with_(service("acme-net", "internet-lan-100"))
    assert result.repo is not None
    net = result.repo.services["acme-net"]
    assert service_status(result.repo, net, date(2026, 11, 23)) is Status.ACTIVE
