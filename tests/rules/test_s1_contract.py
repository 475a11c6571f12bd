"""S1: a service is charged against a contract of the same occupier at the same site; with one
contract there it is chosen automatically (seed 000)."""

from reconciler.catalogue import contract_of
from reconciler.findings import Severity
from tests.rules.conftest import World, assert_at, contract, occupier, service, site


def test_s1_only_contract_at_the_site_is_chosen_automatically(world: World) -> None:
    result = world.with_(service("acme-net", "internet-lan-100"))
    assert result.of("S1") == []
    assert result.repo is not None
    chosen = contract_of(result.repo, result.repo.services["acme-net"])
    assert chosen is not None and chosen.name == "acme-lb"


def test_s1_named_contract_of_the_same_occupier_and_site_is_fine(world: World) -> None:
    result = world.with_(
        contract("acme-lb-2", start="2026-06-01", spaces=["suite-302"]),
        service("acme-net", "internet-lan-100", contract="acme-lb-2"),
    )
    assert result.of("S1") == []
    assert result.repo is not None
    chosen = contract_of(result.repo, result.repo.services["acme-net"])
    assert chosen is not None and chosen.name == "acme-lb-2"


def test_s1_unknown_contract_is_rejected(world: World) -> None:
    result = world.with_(service("acme-net", "internet-lan-100", contract="acme-nowhere"))
    finding = result.one("S1")
    assert finding.severity is Severity.ERROR
    assert "acme-net" in finding.message and "'acme-nowhere' does not exist" in finding.message
    assert_at(result, finding, "Service", "acme-net", "contract: acme-nowhere")


def test_s1_contract_of_another_occupier_is_rejected_naming_both(world: World) -> None:
    result = world.with_(
        occupier("globex"),
        contract("globex-lb", occupier="globex", spaces=["suite-302"]),
        service("acme-net", "internet-lan-100", contract="globex-lb"),
    )
    finding = result.one("S1")
    assert finding.is_error
    assert "acme-net is for acme at london-bridge" in finding.message
    assert "contract globex-lb is globex's at london-bridge" in finding.message
    assert finding.hint == "charge the service against a contract of the same occupier and site"
    assert_at(result, finding, "Service", "acme-net", "contract: globex-lb")


def test_s1_contract_at_another_site_is_rejected(world: World) -> None:
    result = world.with_(
        site("canary-wharf", admins=["carol"], publicPools=[], numberBlocks=[]),
        contract("acme-cw", site="canary-wharf", spaces=["suite-301"]),
        service("acme-net", "internet-lan-100", contract="acme-cw"),
    )
    finding = result.one("S1")
    assert "acme-net is for acme at london-bridge" in finding.message
    assert "acme-cw is acme's at canary-wharf" in finding.message


def test_s1_no_contract_at_the_site_is_rejected(world: World) -> None:
    result = world.with_(
        occupier("globex"), service("globex-net", "internet-lan-100", occupier="globex")
    )
    finding = result.one("S1")
    assert finding.is_error
    assert "occupier globex has no contract at site london-bridge" in finding.message
    assert finding.hint == "add a Contract first"
    assert_at(result, finding, "Service", "globex-net", "occupier: globex")


def test_s1_two_contracts_at_the_site_need_an_explicit_choice(world: World) -> None:
    result = world.with_(
        contract("acme-lb-2", start="2026-06-01", spaces=["suite-302"]),
        service("acme-net", "internet-lan-100"),
    )
    finding = result.one("S1")
    assert finding.is_error
    assert "acme has 2 contracts at london-bridge (acme-lb, acme-lb-2)" in finding.message
    assert finding.hint == "set spec.contract"
    assert_at(result, finding, "Service", "acme-net")
    assert result.repo is not None
    assert contract_of(result.repo, result.repo.services["acme-net"]) is None
