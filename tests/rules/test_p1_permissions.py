"""P1: a change that touches a site must come from one of that site's admins (`--actor`, or the
pull-request author in CI) (seed 002: site permissions)."""

from click.testing import CliRunner

from reconciler.cli import main
from reconciler.findings import Severity
from reconciler.model.repo import Ref
from tests.rules.conftest import TODAY, World, assert_at, contract, service, site


def test_p1_site_admin_gets_no_finding(world: World) -> None:
    result = world.with_(service("acme-net", "internet-lan-100"), actor="alice")
    assert result.of("P1") == []


def test_p1_without_actor_there_is_no_check(world: World) -> None:
    assert world.with_(service("acme-net", "internet-lan-100")).of("P1") == []


def test_p1_actor_who_is_not_a_site_admin_is_rejected(world: World) -> None:
    result = world.with_(service("acme-net", "internet-lan-100"), actor="mallory")
    found = {f.message: f for f in result.errors("P1")}
    assert sorted(found) == sorted(
        f"mallory is not an admin of site london-bridge, which {what} touches"
        for what in ("Site london-bridge", "Occupier acme", "Contract acme-lb", "Service acme-net")
    )
    for finding in found.values():
        assert finding.severity is Severity.ERROR
        assert finding.hint == "ask one of alice, ops-team to make or approve it"
    net = found["mallory is not an admin of site london-bridge, which Service acme-net touches"]
    assert_at(result, net, "Service", "acme-net", "name: acme-net")


def test_p1_only_documents_the_change_touches_are_checked(world: World) -> None:
    result = world.with_(
        service("acme-net", "internet-lan-100"),
        actor="mallory",
        changed=frozenset({Ref("Service", "acme-net"), Ref("ServiceDefinition", "public-ip")}),
    )
    finding = result.one("P1")
    assert "which Service acme-net touches" in finding.message
    assert_at(result, finding, "Service", "acme-net", "name: acme-net")


def test_p1_catalogue_changes_touch_no_site(world: World) -> None:
    result = world.with_(
        actor="mallory", changed=frozenset({Ref("ServiceDefinition", "public-ip")})
    )
    assert result.of("P1") == []


def test_p1_occupier_touches_every_site_where_it_has_a_contract(world: World) -> None:
    result = world.with_(
        site("canary-wharf", admins=["carol"], publicPools=[], numberBlocks=[]),
        contract("acme-cw", site="canary-wharf"),
        actor="alice",
        changed=frozenset({Ref("Occupier", "acme")}),
    )
    finding = result.one("P1")
    assert finding.message == (
        "alice is not an admin of site canary-wharf, which Occupier acme touches"
    )
    assert finding.hint == "ask one of carol to make or approve it"
    assert_at(result, finding, "Occupier", "acme", "name: acme")


def test_p1_cli_actor_option_fails_validation(world: World) -> None:
    result = world.with_()
    args = ["validate", str(result.root), "--today", TODAY.isoformat()]
    assert CliRunner().invoke(main, [*args, "--actor", "alice"]).exit_code == 0
    run = CliRunner().invoke(main, [*args, "--actor", "mallory"])
    assert run.exit_code == 1
    assert "error[P1]: mallory is not an admin of site london-bridge" in run.output
