"""ref: every name a document uses must be declared — no dangling references."""

from reconciler.findings import Severity
from tests.rules.conftest import World, assert_at, contract, definition, occupier, service


def test_references_valid_repo_has_none(world: World) -> None:
    result = world.with_(service("acme-net", "internet-lan-100"))
    assert result.of("ref") == []


def test_references_contract_with_unknown_occupier_and_site(world: World) -> None:
    result = world.with_(contract("ghost-lb", occupier="ghost", site="atlantis", spaces=[]))
    found = {f.message: f for f in result.errors("ref")}
    assert sorted(found) == [
        "contract ghost-lb: occupier 'ghost' is not declared",
        "contract ghost-lb: site 'atlantis' is not declared",
    ]
    occupier_finding = found["contract ghost-lb: occupier 'ghost' is not declared"]
    assert occupier_finding.severity is Severity.ERROR
    assert_at(result, occupier_finding, "Contract", "ghost-lb", "occupier: ghost")
    assert_at(
        result,
        found["contract ghost-lb: site 'atlantis' is not declared"],
        "Contract",
        "ghost-lb",
        "site: atlantis",
    )


def test_references_service_with_unknown_occupier_site_and_definition(world: World) -> None:
    result = world.with_(
        service("ghost-net", "internet-lan-10g", occupier="ghost", site="atlantis")
    )
    messages = sorted(f.message for f in result.errors("ref"))
    assert messages == [
        "service ghost-net: definition 'internet-lan-10g' is not declared",
        "service ghost-net: occupier 'ghost' is not declared",
        "service ghost-net: site 'atlantis' is not declared",
    ]
    for finding in result.errors("ref"):
        assert finding.file == result.file_of("Service", "ghost-net")


def test_references_definition_requiring_or_excluding_unknown_definitions(world: World) -> None:
    result = world.with_(
        definition(
            "fax",
            "other",
            requires=["phone-line", {"anyOf": ["voice-line", "isdn"]}],
            excludes=["telex"],
        )
    )
    found = {f.message: f for f in result.errors("ref")}
    assert sorted(found) == [
        "fax excludes unknown definition 'telex'",
        "fax requires unknown definition 'isdn'",
        "fax requires unknown definition 'phone-line'",
    ]
    assert_at(
        result,
        found["fax requires unknown definition 'phone-line'"],
        "ServiceDefinition",
        "fax",
        "phone-line",
    )
    assert_at(
        result,
        found["fax excludes unknown definition 'telex'"],
        "ServiceDefinition",
        "fax",
        "telex",
    )


def test_references_occupier_items_at_unknown_sites(world: World) -> None:
    result = world.with_(
        occupier(
            activations={
                "floorPorts": [{"site": "atlantis", "floorPort": "F1", "role": "internet"}],
                "numbers": [{"site": "atlantis", "number": "+442079460001"}],
            },
            wifiDevices=[{"name": "tv", "mac": "00:11:22:33:44:55", "site": "atlantis"}],
            mainNumbers=[{"site": "atlantis", "number": "+442079460001"}],
        )
    )
    found = result.errors("ref")
    assert len(found) == 4
    assert {f.message for f in found} == {"occupier acme: site 'atlantis' is not declared"}
    for finding in found:
        assert_at(result, finding, "Occupier", "acme", "site: atlantis")
