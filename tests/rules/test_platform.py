"""platform: every device of a Site names a platform that drives its kind of device.

Before this rule `platform: junos` on a router passed validate and failed at apply with an
AttributeError; now validate points at the Site's line."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drivers.registry import register, unregister
from tests.drivers.toy_switch import ToySwitchDriver
from tests.rules.conftest import SITE, World, assert_at, site

ROUTER = SITE["spec"]["router"]
SWITCH = SITE["spec"]["switches"][0]


def test_platform_valid_repo_has_none(world: World) -> None:
    assert world.with_().of("platform") == []


def test_platform_unknown_on_a_router(world: World) -> None:
    result = world.with_(site(router={**ROUTER, "platform": "junos"}))
    finding = result.one("platform")
    assert finding.is_error
    assert finding.message == "site london-bridge: router lb-rtr1: platform 'junos' has no driver"
    assert "frr" in finding.hint and "cisco_iosxe" not in finding.hint
    assert_at(result, finding, "Site", "london-bridge", "platform: junos")


def test_platform_of_a_router_on_a_switch(world: World) -> None:
    result = world.with_(site(switches=[{**SWITCH, "platform": "frr"}]))
    finding = result.one("platform")
    assert finding.message == ("site london-bridge: switch lb-sw1: platform 'frr' drives "
                               "router devices, not a switch")
    assert_at(result, finding, "Site", "london-bridge", "platform: frr")


def test_platform_of_a_switch_on_a_router(world: World) -> None:
    result = world.with_(site(router={**ROUTER, "platform": "ovs"}))
    assert "drives switch devices, not a router" in result.one("platform").message


def test_platform_of_telephony_and_wifi(world: World) -> None:
    result = world.with_(site(
        telephony={"name": "lb-sip", "platform": "freeradius", "host": "192.0.2.12"},
        wifi={"name": "lb-radius", "platform": "kamailio", "host": "192.0.2.13"}))
    messages = sorted(f.message for f in result.errors("platform"))
    assert messages == [
        "site london-bridge: telephony lb-sip: platform 'freeradius' drives wifi devices, "
        "not a telephony",
        "site london-bridge: wifi lb-radius: platform 'kamailio' drives telephony devices, "
        "not a wifi",
    ]


def test_platform_render_and_aliases_drive_every_kind_they_name(world: World) -> None:
    result = world.with_(site(router={**ROUTER, "platform": "render"},
                              switches=[{**SWITCH, "platform": "ios"}],
                              wifi={"name": "lb-radius", "platform": "render", "host": "x"}))
    assert result.of("platform") == []


@pytest.fixture
def toy() -> Iterator[None]:
    register("switch", "toy", ToySwitchDriver)
    yield
    unregister("switch", "toy")


def test_platform_registered_through_the_registry_is_known(world: World, toy: None) -> None:
    assert world.with_(site(switches=[{**SWITCH, "platform": "toy"}])).of("platform") == []
    on_router = world.with_(site(router={**ROUTER, "platform": "toy"}))
    assert "drives switch devices, not a router" in on_router.one("platform").message
