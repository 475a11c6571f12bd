"""T2: numbers come from the site's number blocks, are real E.164 numbers, and are held by one
occupier at a time; a user's number is one the occupier has activated (seeds 000, 002)."""

from pathlib import Path
from typing import Any

from reconciler.findings import Severity
from tests.rules.conftest import World, assert_at, contract, occupier, service, site

ONE, TWO = "+442079460001", "+442079460002"


def _numbers(*numbers: str) -> dict[str, Any]:
    return {"numbers": [{"site": "london-bridge", "number": n} for n in numbers]}


def _voice(owner: str = "acme", quantity: int = 2) -> dict[str, Any]:
    return service(f"{owner}-voice", "voice-line", occupier=owner, quantity=quantity)


def test_t2_numbers_from_the_site_block_are_fine(world: World) -> None:
    result = world.with_(
        occupier(
            activations=_numbers(ONE, TWO),
            users=[{"name": "ann", "email": "ann@acme.example", "number": ONE}],
        ),
        _voice(),
    )
    assert result.of("T2") == []


def test_t2_block_end_that_is_not_a_real_number_is_rejected(world: World) -> None:
    result = world.with_(site(numberBlocks=[{"first": "+4410000000", "last": "+4410000099"}]))
    found = result.errors("T2")
    assert len(found) == 2
    assert "+4410000000 is not a valid phone number" in found[0].message
    assert_at(result, found[0], "Site", "london-bridge", "first: '+4410000000'")


def test_t2_block_with_first_after_last_is_rejected(world: World) -> None:
    result = world.with_(site(numberBlocks=[{"first": "+442079460199", "last": "+442079460000"}]))
    finding = result.one("T2")
    assert finding.severity is Severity.ERROR
    assert "number block +442079460199..+442079460000 must have first ≤ last" in finding.message
    assert_at(result, finding, "Site", "london-bridge", "+442079460199")


def test_t2_overlapping_blocks_are_rejected(world: World) -> None:
    result = world.with_(
        site(
            numberBlocks=[
                {"first": "+442079460000", "last": "+442079460199"},
                {"first": "+442079460100", "last": "+442079460299"},
            ]
        )
    )
    finding = result.one("T2")
    assert "number blocks +442079460000.. and +442079460100.. overlap" in finding.message
    assert_at(result, finding, "Site", "london-bridge", "+442079460100")


def test_t2_number_outside_the_site_blocks_is_rejected(world: World) -> None:
    result = world.with_(occupier(activations=_numbers("+442079461000")), _voice())
    finding = result.one("T2")
    assert finding.message == (
        "occupier acme: +442079461000 is not in a number block of site london-bridge"
    )
    assert_at(result, finding, "Occupier", "acme", "+442079461000")


def test_t2_number_that_is_not_real_is_rejected(world: World) -> None:
    result = world.with_(occupier(activations=_numbers("+4410000000")), _voice())
    assert result.one("T2").message == "occupier acme: +4410000000 is not a valid phone number"


def test_t2_number_activated_by_two_occupiers_is_rejected_naming_both(world: World) -> None:
    result = world.with_(
        occupier(activations=_numbers(ONE)),
        occupier("globex", activations=_numbers(ONE)),
        contract("globex-lb", occupier="globex", spaces=["suite-302"]),
        _voice(),
        _voice("globex"),
    )
    finding = result.one("T2")
    assert f"number {ONE} is activated by both acme and globex" in finding.message
    assert_at(result, finding, "Occupier", "globex", ONE)


def test_t2_number_activated_twice_by_one_occupier_is_rejected(world: World) -> None:
    result = world.with_(occupier(activations=_numbers(ONE, ONE)), _voice())
    finding = result.one("T2")
    assert f"occupier acme activates {ONE} twice" in finding.message
    assert finding.hint == "remove the second activation"
    assert_at(result, finding, "Occupier", "acme", ONE)
    lines = Path(finding.file).read_text().splitlines()
    assert finding.line == 1 + max(i for i, line in enumerate(lines) if ONE in line)  # 2nd


def test_t2_user_number_the_occupier_has_not_activated_is_rejected(world: World) -> None:
    result = world.with_(
        occupier(
            activations=_numbers(ONE),
            users=[{"name": "ann", "email": "ann@acme.example", "number": TWO}],
        ),
        _voice(),
    )
    finding = result.one("T2")
    assert f"user ann of acme is assigned {TWO}, which the occupier has not activated" in (
        finding.message
    )
    assert finding.hint == "activate the number first"
    assert_at(result, finding, "Occupier", "acme", f"number: '{TWO}'")
