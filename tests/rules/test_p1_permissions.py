"""P1: a change that touches a site must come from, or be approved by, one of that site's admins
(`--actor`, `--approved-by`; in CI the pull-request author and its approving reviewers) (seed
002: site permissions). The change is the difference from a base state: documents nobody
touched are never judged."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from reconciler.change import state
from reconciler.cli import main
from reconciler.findings import Severity
from reconciler.load import load
from reconciler.model.repo import Ref
from reconciler.rules import Context
from tests.rules.conftest import (
    CATALOGUE,
    SITE,
    TODAY,
    Result,
    World,
    assert_at,
    contract,
    occupier,
    service,
    site,
)

CANARY = site("canary-wharf", admins=["carol", "dave"], publicPools=[], numberBlocks=[],
              switches=[], spaces=[{"name": "cw-1", "floorPorts": []}])


def before() -> list[dict[str, Any]]:
    """Two sites: acme at london-bridge (alice, ops-team), globex at canary-wharf (carol,
    dave)."""
    return [
        SITE, CANARY, *CATALOGUE,
        occupier(), contract(), service("acme-net", "internet-lan-100", price="40.00"),
        occupier("globex"),
        contract("globex-cw", occupier="globex", site="canary-wharf", spaces=["cw-1"]),
        service("globex-rec", "wifi-user", occupier="globex", site="canary-wharf"),
    ]


def judged(world: World, after: list[dict[str, Any]], actor: str | None = "alice",
           approvers: frozenset[str] = frozenset()) -> Result:
    """The findings of `after`, judged against the state `before()` as P1's base."""
    base_dir = world.root / f"base{len(list(world.root.iterdir()))}"
    base_dir.mkdir()
    for index, doc in enumerate(before()):
        (base_dir / f"{index:02d}-{doc['kind'].lower()}.yaml").write_text(yaml.safe_dump(doc))
    base = state(load(str(base_dir)).repo, str(base_dir))
    return world.with_(*after, base=[], actor=actor, approvers=approvers, base_state=base)


def edited(doc: dict[str, Any], **spec: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out["spec"].update(spec)
    return out


def without(docs: list[dict[str, Any]], kind: str, name: str) -> list[dict[str, Any]]:
    return [d for d in docs if (d["kind"], d["metadata"]["name"]) != (kind, name)]


def replaced(docs: list[dict[str, Any]], new: dict[str, Any]) -> list[dict[str, Any]]:
    return [*without(docs, new["kind"], new["metadata"]["name"]), new]


def price_edit(name: str, occupier_: str, site_: str, definition: str) -> dict[str, Any]:
    return service(name, definition, occupier=occupier_, site=site_, price="45.00")


def test_p1_site_admin_edits_a_price_at_her_site(world: World) -> None:
    after = replaced(before(), service("acme-net", "internet-lan-100", price="45.00"))
    assert judged(world, after).of("P1") == []


def test_p1_untouched_documents_are_never_judged(world: World) -> None:
    """mallory administers nothing, but a change that changes nothing touches nothing."""
    assert judged(world, before(), actor="mallory").of("P1") == []


def test_p1_edit_at_another_site_names_that_site_and_its_admins(world: World) -> None:
    after = replaced(before(), price_edit("globex-rec", "globex", "canary-wharf", "wifi-user"))
    result = judged(world, after)
    finding = result.one("P1")
    assert finding.severity is Severity.ERROR
    assert finding.message == (
        "alice is not an admin of site canary-wharf, which Service globex-rec (edited) touches"
    )
    assert finding.hint == "an admin of canary-wharf must approve it: carol or dave"
    assert_at(result, finding, "Service", "globex-rec", "name: globex-rec")


def test_p1_approval_by_an_admin_of_the_site_makes_it_pass(world: World) -> None:
    after = replaced(before(), price_edit("globex-rec", "globex", "canary-wharf", "wifi-user"))
    assert judged(world, after, approvers=frozenset({"dave"})).of("P1") == []
    other = judged(world, after, approvers=frozenset({"ops-team"})).one("P1")
    assert other.message.startswith(
        "neither alice nor approver ops-team is an admin of site canary-wharf"
    )


def test_p1_deleting_an_occupier_touches_its_old_sites(world: World) -> None:
    after = without(before(), "Service", "globex-rec")
    finding = judged(world, after).one("P1")
    assert finding.message == (
        "alice is not an admin of site canary-wharf, which Service globex-rec (deleted) touches"
    )
    assert finding.file.endswith("-service.yaml") and finding.line == 1


def test_p1_moving_a_contract_between_sites_touches_both(world: World) -> None:
    moved = contract("acme-lb", site="canary-wharf", spaces=["cw-1"])
    after = replaced(before(), moved)
    messages = {f.message for f in judged(world, after, actor="carol").of("P1")}
    assert "carol is not an admin of site london-bridge, which Contract acme-lb (edited) " \
        "touches" in messages
    assert not any("canary-wharf, which Contract" in m for m in messages)
    # an admin of each site between them: alice acts, carol approves
    result = judged(world, after, approvers=frozenset({"carol"}))
    assert [f for f in result.of("P1") if "Contract acme-lb" in f.message] == []


def test_p1_editing_a_shared_definition_touches_every_site_using_it(world: World) -> None:
    wifi = next(d for d in CATALOGUE if d["metadata"]["name"] == "wifi-user")
    after = replaced(before(), edited(wifi, rrp="4.00"))
    finding = judged(world, after).one("P1")
    assert finding.message == (
        "alice is not an admin of site canary-wharf, which ServiceDefinition wifi-user "
        "(edited) touches"
    )
    unused = next(d for d in CATALOGUE if d["metadata"]["name"] == "adsl-legacy")
    assert judged(world, replaced(before(), edited(unused, rrp="9.00"))).of("P1") == []


def test_p1_adding_yourself_to_a_sites_admins_does_not_count(world: World) -> None:
    grabbed = edited(CANARY, admins=["carol", "dave", "alice"])
    finding = judged(world, replaced(before(), grabbed)).one("P1")
    assert finding.message == (
        "alice is not an admin of site canary-wharf, which Site canary-wharf (edited) touches"
    )


def test_p1_without_actor_there_is_no_check(world: World) -> None:
    after = replaced(before(), price_edit("globex-rec", "globex", "canary-wharf", "wifi-user"))
    assert judged(world, after, actor=None).of("P1") == []


def test_p1_without_a_base_every_document_counts(world: World) -> None:
    result = world.with_(service("acme-net", "internet-lan-100"), actor="mallory")
    found = {f.message for f in result.errors("P1")}
    assert found == {
        f"mallory is not an admin of site london-bridge, which {what} (changed) touches"
        for what in (
            "Site london-bridge", "Occupier acme", "Contract acme-lb", "Service acme-net",
            "ServiceDefinition internet-lan-100",
        )
    }


def test_p1_only_documents_the_change_names_are_checked(world: World) -> None:
    result = world.with_(
        service("acme-net", "internet-lan-100"),
        actor="mallory",
        changed=frozenset({Ref("Service", "acme-net"), Ref("ServiceDefinition", "public-ip")}),
    )
    finding = result.one("P1")
    assert "which Service acme-net (changed) touches" in finding.message
    assert_at(result, finding, "Service", "acme-net", "name: acme-net")


def test_p1_context_from_a_loaded_base(tmp_path: Path) -> None:
    """The base state is plain data (what the ledger keeps): sites and admins per document."""
    (tmp_path / "repo.yaml").write_text(yaml.safe_dump_all(before(), sort_keys=False))
    repo = load(str(tmp_path)).repo
    marks = state(repo, str(tmp_path))
    assert marks[Ref("Occupier", "globex")].sites == ("canary-wharf",)
    assert marks[Ref("Site", "canary-wharf")].admins == ("carol", "dave")
    assert marks[Ref("ServiceDefinition", "wifi-user")].sites == ("canary-wharf",)
    assert marks[Ref("Service", "acme-net")].file == "repo.yaml"
    assert Context(TODAY, actor="a", approvers=frozenset({"b", "a"})).deciders == ("a", "b")


def test_p1_cli_actor_option_fails_validation(world: World) -> None:
    result = world.with_()
    args = ["validate", str(result.root), "--today", TODAY.isoformat()]
    assert CliRunner().invoke(main, [*args, "--actor", "alice"]).exit_code == 0
    run = CliRunner().invoke(main, [*args, "--actor", "mallory"])
    assert run.exit_code == 1
    assert "error[P1]: mallory is not an admin of site london-bridge" in run.output
