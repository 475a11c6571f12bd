"""The loop every driver runs (drivers.contract.Driver.apply), watched on a toy platform
registered through the public registry, and the per-resource changes each real platform's
pure diff reports (what the drift report lists)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from drivers import freeradius, frr, kamailio
from drivers.base import (
    ConnectError,
    DriverError,
    Endpoint,
    GatewayIntent,
    Intent,
    IntentRefused,
    NumberIntent,
    PortIntent,
    PushError,
    ReadError,
    RouteIntent,
    RouterIntent,
    SwitchIntent,
    TelephonyIntent,
    VerifyError,
)
from drivers.cisco_iosxe import CiscoIosxeDriver
from drivers.contract import ABSENT, Change, SwitchRunning
from drivers.registry import create_driver, register, unregister
from tests.drivers.toy_switch import ToyDevice, ToySwitchDriver

EP = Endpoint("sw-toy", "toy", "toy1")
PARKED = PortIntent("port1", 999)
ACME = PortIntent("port1", 214, "acme desk", True, occupier="acme")


@pytest.fixture
def toy() -> Iterator[ToyDevice]:
    register("switch", "toy", ToySwitchDriver)
    device = ToyDevice({"port1": PARKED, "port2": PARKED})
    ToySwitchDriver.devices["toy1"] = device
    yield device
    unregister("switch", "toy")


def apply(*ports: PortIntent) -> tuple[int, list[str], list[str]]:
    t = create_driver("toy", "switch").apply(SwitchIntent(EP, ports), None)
    return t.sessions, t.reads, t.commands


def test_loop_pushes_the_difference_verifies_and_then_sends_nothing(toy: ToyDevice) -> None:
    sessions, reads, commands = apply(ACME)
    assert (sessions, reads, commands) == (1, ["ports", "ports"], ["set port1 vlan 214"])
    assert toy.ports["port1"] == ACME and toy.ports["port2"] == PARKED  # port2 not managed
    assert apply(ACME) == (1, ["ports"], [])  # converged: read once, nothing sent
    assert toy.log == ["open", "close", "open", "close"]


def test_drift_lists_each_differing_resource_with_its_occupier(toy: ToyDevice) -> None:
    intent = SwitchIntent(EP, (ACME, PortIntent("port2", 999)))
    drift = create_driver("toy", "switch").drift(intent)
    assert drift.changes == (
        Change("port port1", "vlan 999, shut", "vlan 214, up, 'acme desk'", "acme"),)
    assert toy.ports["port1"] == PARKED, "drift sends nothing"


def test_a_refused_push_is_permanent_and_rolled_back(toy: ToyDevice) -> None:
    toy.refuses_vlan = 300
    with pytest.raises(PushError) as err:
        apply(ACME, PortIntent("port2", 300, "globex", True))
    assert err.value.temporary is False and err.value.stage == "push"
    assert "rollback port2" in toy.log and toy.log[-1] == "close"
    assert toy.ports["port1"] == PARKED, "rolled back to what ran before"


def test_a_device_that_does_not_keep_the_change_fails_verify(toy: ToyDevice) -> None:
    toy.forgets = True
    with pytest.raises(VerifyError, match="port port1: vlan 999, shut -> vlan 214") as err:
        apply(ACME)
    assert err.value.temporary is False and toy.log[-1] == "close"


def test_an_untyped_failure_takes_the_type_of_its_stage_and_keeps_temporary(
    toy: ToyDevice,
) -> None:
    toy.fail_read = DriverError("sw-toy", "session dropped")
    with pytest.raises(ReadError) as err:
        apply(ACME)
    assert err.value.temporary is True and err.value.reason == "session dropped"
    assert isinstance(err.value, DriverError), "callers need only the root"


def test_an_unsafe_intent_is_refused_before_any_session(toy: ToyDevice) -> None:
    with pytest.raises(IntentRefused) as err:
        apply(PortIntent("port1; reload", 214))
    assert err.value.temporary is False and toy.log == []


def test_a_port_the_switch_lacks_is_a_permanent_read_error(toy: ToyDevice) -> None:
    with pytest.raises(ReadError, match="no such interface on the switch: port7") as err:
        apply(PortIntent("port7", 214))
    assert err.value.temporary is False


def test_cisco_diff_reports_ports_and_missing_vlans() -> None:
    running = SwitchRunning({"Gi0/1": PortIntent("Gi0/1", 214, "acme", True)},
                            frozenset({1, 214}))
    intent = SwitchIntent(Endpoint("sw", "cisco_iosxe", "h"),
                          (PortIntent("Gi0/1", 999, occupier=""),), vlans=(999,))
    remediation = CiscoIosxeDriver().diff(intent, running)
    assert remediation.changes == (
        Change("port Gi0/1", "vlan 214, up, 'acme'", "vlan 999, shut"),
        Change("vlan 999", ABSENT, "defined"))
    assert remediation.steps[:2] == ("vlan 999", " exit")


def test_frr_changes_name_the_route_and_gateway_owners() -> None:
    running = frr.parse_router("interface vlan214\n ip address 10.64.14.1/24\nexit\n"
                               "ip route 203.0.113.16/29 198.51.100.6\n"
                               "ip route 10.0.0.0/8 192.0.2.1\n")
    intent = RouterIntent(Endpoint("r", "frr", "h"),
                          (RouteIntent("203.0.113.8/29", "10.64.15.2", "globex"),),
                          (GatewayIntent(215, "10.64.15.1/24", "globex"),),
                          managed_prefixes=("203.0.113.0/24",))
    changes = frr.router_changes(running, intent, "vlan{vlan}")
    assert changes == (
        Change("interface vlan214", "address 10.64.14.1/24", ABSENT),
        Change("interface vlan215", ABSENT, "address 10.64.15.1/24, 'globex'", "globex"),
        Change("route 203.0.113.16/29", "via 198.51.100.6", ABSENT),
        Change("route 203.0.113.8/29", ABSENT, "via 10.64.15.2", "globex"),
    ), "10.0.0.0/8 is outside the managed pools: never listed"


def test_kamailio_changes_show_a_lost_live_table_and_pending_logouts() -> None:
    entry = kamailio.Entry("active", "acme")
    running = kamailio.Running({"+442079460001": entry}, {}, frozenset({"+442079460002"}))
    intended = {"+442079460001": entry,
                "+442079460002": kamailio.Entry("cooling-off", "acme", "2027-01-01")}
    changes = kamailio.number_changes(running, intended, ("+442079460002",))
    assert changes == (
        Change("number +442079460001", "active, occupier acme (live table: absent)",
               "active, occupier acme", "acme"),
        Change("number +442079460002", ABSENT, "cooling-off, occupier acme, until 2027-01-01",
               "acme"),
        Change("registration +442079460002", "registered", "logged out"),
    )


def test_freeradius_changes_hide_passwords_and_name_the_occupier() -> None:
    def rows(password: str) -> dict[str, Counter[tuple[str, ...]]]:
        return {"radgroupreply": Counter([("occ-acme", "Tunnel-Private-Group-Id", ":=", "101")]),
                "radcheck": Counter([("alice", "Cleartext-Password", ":=", password)]),
                "radusergroup": Counter([("alice", "occ-acme", "1")])}

    changes = freeradius.row_changes(rows("old-secret"), rows("new-secret"), "occ-")
    assert changes == (Change("user alice", "Cleartext-Password := ***; in occ-acme "
                              "(another password)", "Cleartext-Password := ***; in occ-acme",
                              "acme"),)
    assert "secret" not in str(changes)


def test_errors_form_one_tree_with_temporary_kept() -> None:
    for error in (IntentRefused, ConnectError, ReadError, PushError, VerifyError):
        assert issubclass(error, DriverError)
    assert IntentRefused("d", "x").temporary is False
    assert ConnectError("d", "x").temporary is True
    assert PushError("d", "x", temporary=False).temporary is False


def test_telephony_render_round_trip_holds_no_change(tmp_path: object) -> None:
    from drivers.render import RenderDriver

    intent = TelephonyIntent(Endpoint("sip", "render", "-"),
                             (NumberIntent("+442079460001", "active", "acme", None, "jo"),))
    driver = RenderDriver(str(tmp_path))
    assert driver.apply(intent).commands
    assert not driver.drift(intent), "the file parsed back is the intent"
    changed = TelephonyIntent(intent.endpoint,
                              (NumberIntent("+442079460001", "cooling-off", "acme", "2027-01-01"),))
    assert driver.drift(changed).changes == (Change(
        "number +442079460001", "active, occupier acme, assignee jo",
        "cooling-off, occupier acme, until 2027-01-01", "acme"),)


@pytest.mark.parametrize("kind", ["switch", "router", "telephony", "wifi"])
def test_render_files_parse_back_to_the_resources_of_their_intent(kind: str) -> None:
    from drivers.base import WifiDeviceIntent, WifiGroupIntent, WifiIntent, WifiUserIntent
    from drivers.render import parse, render, resources

    intents: dict[str, Intent] = {
        "switch": SwitchIntent(EP, (ACME, PortIntent("Gi0/2", 214, "", True, 40)), (214, 999)),
        "router": RouterIntent(EP, (RouteIntent("203.0.113.10/29", "10.64.14.2"),),
                               (GatewayIntent(214, "10.64.14.1/24", "acme"),),
                               ("203.0.113.0/24",)),
        "telephony": TelephonyIntent(EP, (NumberIntent("+442079460001", "active", "acme"),),
                                     ("+442079460001",)),
        "wifi": WifiIntent(EP, (WifiGroupIntent("acme", 214),),
                           (WifiUserIntent("alice", "acme", "wifi/alice"),),
                           (WifiDeviceIntent("02-00-00-00-00-01", "acme"),)),
    }
    intent = intents[kind]
    text = render(intent)[1]
    assert resources(parse(text, intent))[0] == resources(intent)[0]
    assert resources(parse("", intent))[0] == {}


def test_register_refuses_a_driver_of_another_kind() -> None:
    with pytest.raises(ValueError, match="drives switch devices, not router"):
        register("router", "toy", ToySwitchDriver)


def test_a_router_never_gets_a_switch_driver() -> None:
    from drivers.registry import UnknownPlatform, driver_for

    intent = RouterIntent(Endpoint("r", "openvswitch", "h"), ())
    with pytest.raises(UnknownPlatform, match="no driver for a router for platform 'openvswitch'"):
        driver_for(intent)
