"""T1: the main number, when declared, is one of the occupier's active numbers at that site,
one per site (seed 000: the first voice service allocates and activates numbers)."""

from typing import Any

from reconciler.findings import Severity
from tests.rules.conftest import World, assert_at, occupier, service

ONE, TWO = "+442079460001", "+442079460002"


def _numbers(*numbers: str) -> dict[str, Any]:
    return {"numbers": [{"site": "london-bridge", "number": n} for n in numbers]}


def _voice() -> dict[str, Any]:
    return service("acme-voice", "voice-line", quantity=2)


def test_t1_main_number_among_the_active_numbers_is_fine(world: World) -> None:
    result = world.with_(
        occupier(
            activations=_numbers(ONE, TWO), mainNumbers=[{"site": "london-bridge", "number": TWO}]
        ),
        _voice(),
    )
    assert result.of("T1") == []


def test_t1_no_declared_main_number_is_fine(world: World) -> None:
    assert world.with_(occupier(activations=_numbers(ONE)), _voice()).of("T1") == []


def test_t1_main_number_that_is_not_active_is_rejected(world: World) -> None:
    result = world.with_(
        occupier(activations=_numbers(ONE), mainNumbers=[{"site": "london-bridge", "number": TWO}]),
        _voice(),
    )
    finding = result.one("T1")
    assert finding.severity is Severity.ERROR
    assert (
        f"occupier acme: main number {TWO} is not one of its active numbers at london-bridge"
    ) == finding.message
    assert finding.hint == "activate it first"
    assert_at(result, finding, "Occupier", "acme", f"number: '{TWO}'")


def test_t1_two_main_numbers_at_one_site_are_rejected(world: World) -> None:
    result = world.with_(
        occupier(
            activations=_numbers(ONE, TWO),
            mainNumbers=[
                {"site": "london-bridge", "number": ONE},
                {"site": "london-bridge", "number": TWO},
            ],
        ),
        _voice(),
    )
    finding = result.one("T1")
    assert "occupier acme declares two main numbers at london-bridge" in finding.message
    # the second entry (site, then its number on the next line), not the first
    assert_at(result, finding, "Occupier", "acme", "site: london-bridge")
    assert_at(result, finding, "Occupier", "acme", TWO, span=2)
