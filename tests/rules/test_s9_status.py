"""S9: contract status Active / Scheduled / Inactive and service status Active / Scheduled /
Inactive; occupiers keep their services after a contract ends unless it says to deprovision
(seed 000: "Occupiers continue to receive services despite their contracts being inactive")."""

from datetime import date

from reconciler.catalogue import Status, contract_status, service_status
from reconciler.findings import Severity
from reconciler.model.repo import Repo
from tests.rules.conftest import World, assert_at, contract, occupier, service


def _repo(world: World, *docs: dict[str, object]) -> Repo:
    result = world.with_(*docs)  # type: ignore[arg-type]
    assert [f.text() for f in result.findings if f.is_error] == []
    assert result.repo is not None
    return result.repo


def test_s9_contract_status_follows_its_dates(world: World) -> None:
    repo = _repo(world, contract(start="2026-01-01", end="2026-12-31"))
    lease = repo.contracts["acme-lb"]
    assert contract_status(lease, date(2025, 12, 31)) is Status.SCHEDULED
    assert contract_status(lease, date(2026, 1, 1)) is Status.ACTIVE
    assert contract_status(lease, date(2026, 12, 31)) is Status.ACTIVE  # the end day counts
    assert contract_status(lease, date(2027, 1, 1)) is Status.INACTIVE


def test_s9_open_ended_contract_stays_active(world: World) -> None:
    repo = _repo(world)
    assert contract_status(repo.contracts["acme-lb"], date(2099, 1, 1)) is Status.ACTIVE


def test_s9_services_keep_running_after_a_keep_contract_ends(world: World) -> None:
    repo = _repo(world, contract(end="2026-06-30"), service("acme-net", "internet-lan-100"))
    assert repo.contracts["acme-lb"].spec.at_end == "keep"
    today = date(2026, 11, 23)
    assert contract_status(repo.contracts["acme-lb"], today) is Status.INACTIVE
    assert service_status(repo, repo.services["acme-net"], today) is Status.ACTIVE


def test_s9_services_become_inactive_after_a_deprovision_contract_ends(world: World) -> None:
    repo = _repo(
        world,
        contract(end="2026-06-30", atEnd="deprovision"),
        service("acme-net", "internet-lan-100"),
    )
    net = repo.services["acme-net"]
    assert service_status(repo, net, date(2026, 6, 30)) is Status.ACTIVE
    assert service_status(repo, net, date(2026, 7, 1)) is Status.INACTIVE


def test_s9_service_of_a_future_contract_is_scheduled(world: World) -> None:
    repo = _repo(world, contract(start="2027-01-01"), service("acme-net", "internet-lan-100"))
    assert service_status(repo, repo.services["acme-net"], date(2026, 11, 23)) is (Status.SCHEDULED)


def test_s9_services_of_a_decommissioned_occupier_are_inactive(world: World) -> None:
    repo = _repo(
        world,
        occupier(decommission={"confirm": "Acme Ltd", "irreversible": True, "at": "2026-12-01"}),
        service("acme-net", "internet-lan-100"),
    )
    net = repo.services["acme-net"]
    assert service_status(repo, net, date(2026, 11, 30)) is Status.ACTIVE
    assert service_status(repo, net, date(2026, 12, 1)) is Status.INACTIVE


def test_s9_valid_contract_dates_give_no_finding(world: World) -> None:
    assert world.with_(contract(end="2026-01-01")).of("S9") == []  # one-day contract


def test_s9_contract_ending_before_it_starts_is_rejected(world: World) -> None:
    result = world.with_(contract(start="2026-01-01", end="2025-12-31"))
    finding = result.one("S9")
    assert finding.severity is Severity.ERROR
    assert finding.message == ("contract acme-lb ends (2025-12-31) before it starts (2026-01-01)")
    assert_at(result, finding, "Contract", "acme-lb", "end: '2025-12-31'")
