"""CiscoIosxeDriver against a real SSH switch CLI (fake-switches, started per test)."""

from __future__ import annotations

import time

import pytest

from drivers._ssh import SshOptions
from drivers.base import Credentials, DriverError, PortIntent, SwitchIntent
from drivers.cisco_iosxe import CiscoIosxeDriver
from drivers.credentials import CredentialStore
from drivers.registry import create_driver

from .conftest import timed
from .netlab import FakeCiscoLab, free_port

pytestmark = pytest.mark.lab

GI1, GI2, GI3 = "GigabitEthernet0/1", "GigabitEthernet0/2", "GigabitEthernet0/3"
PARKING = 999


def intent(lab: FakeCiscoLab, *ports: PortIntent) -> SwitchIntent:
    vlans = sorted({p.vlan for p in ports} | {PARKING})
    return SwitchIntent(lab.endpoint(), ports, vlans=tuple(vlans))


def parked(interface: str) -> PortIntent:
    return PortIntent(interface, PARKING)


@pytest.fixture
def driver(ssh_options: SshOptions) -> CiscoIosxeDriver:
    return CiscoIosxeDriver(ssh_options)


def test_apply_reads_back_and_second_apply_sends_nothing(
    cisco_lab: FakeCiscoLab, driver: CiscoIosxeDriver
) -> None:
    want = intent(
        cisco_lab,
        PortIntent(GI1, 214, "acme (floor 3) desk 12", enabled=True, voice_vlan=40),
        PortIntent(GI2, 215, "globex", enabled=True),
        parked(GI3),
    )
    t0 = time.monotonic()
    first = driver.apply(want, cisco_lab.credentials())
    timed("cisco apply (3 ports, changes)", time.monotonic() - t0)
    assert first.sessions == 1
    assert "switchport access vlan 214" in first.commands
    assert "switchport voice vlan 40" in first.commands

    running = driver.read(want, cisco_lab.credentials())
    assert running == {p.interface: p for p in want.ports}

    t0 = time.monotonic()
    second = driver.apply(want, cisco_lab.credentials())
    timed("cisco apply (3 ports, converged)", time.monotonic() - t0)
    assert second.commands == []
    assert second.reads == ["show running-config"]


def test_release_parks_the_port(cisco_lab: FakeCiscoLab, driver: CiscoIosxeDriver) -> None:
    cred = cisco_lab.credentials()
    driver.apply(intent(cisco_lab, PortIntent(GI1, 214, "acme", True, voice_vlan=40)), cred)
    released = intent(cisco_lab, parked(GI1))
    t = driver.apply(released, cred)
    # the port goes dark before it changes VLAN
    assert t.commands[:2] == [f"interface {GI1}", "shutdown"]
    assert driver.read(released, cred)[GI1] == PortIntent(GI1, PARKING, "", False, None)
    assert driver.apply(released, cred).commands == []


def test_enabling_comes_last(cisco_lab: FakeCiscoLab, driver: CiscoIosxeDriver) -> None:
    cred = cisco_lab.credentials()
    driver.apply(intent(cisco_lab, parked(GI2)), cred)
    t = driver.apply(intent(cisco_lab, PortIntent(GI2, 300, "initech", True)), cred)
    assert t.commands[-1] == "no shutdown"


@pytest.mark.parametrize(
    "description",
    ["acme\nshutdown", "acme\r\ninterface Vlan1", "acme; reload", "a" * 81, "acme`x`"],
)
def test_hostile_description_is_refused_before_connecting(
    cisco_lab: FakeCiscoLab, driver: CiscoIosxeDriver, description: str
) -> None:
    cred = cisco_lab.credentials()
    before = driver.read(intent(cisco_lab, parked(GI1)), cred)
    with pytest.raises(DriverError) as err:
        driver.apply(intent(cisco_lab, PortIntent(GI1, 214, description, True)), cred)
    assert not err.value.temporary
    assert "unsafe" in err.value.reason
    assert driver.read(intent(cisco_lab, parked(GI1)), cred) == before


def test_cli_keyword_in_a_description_stays_text(
    cisco_lab: FakeCiscoLab, driver: CiscoIosxeDriver
) -> None:
    want = intent(cisco_lab, PortIntent(GI1, 214, "no shutdown exit end", enabled=False))
    driver.apply(want, cisco_lab.credentials())
    port = driver.read(want, cisco_lab.credentials())[GI1]
    assert port.description == "no shutdown exit end"
    assert port.enabled is False


def test_wrong_password_is_a_permanent_error(
    cisco_lab: FakeCiscoLab, driver: CiscoIosxeDriver
) -> None:
    bad = Credentials(cisco_lab.username, "wrong", cisco_lab.enable)
    with pytest.raises(DriverError) as err:
        driver.apply(intent(cisco_lab, parked(GI1)), bad)
    assert err.value.temporary is False
    assert "authentication" in err.value.reason


def test_wrong_enable_secret_is_a_permanent_error(
    cisco_lab: FakeCiscoLab, driver: CiscoIosxeDriver
) -> None:
    bad = Credentials(cisco_lab.username, cisco_lab.password, "wrong-enable")
    with pytest.raises(DriverError) as err:
        driver.apply(intent(cisco_lab, parked(GI1)), bad)
    assert err.value.temporary is False
    assert "enable refused" in err.value.reason


def test_unreachable_switch_is_a_temporary_error(driver: CiscoIosxeDriver) -> None:
    lab = FakeCiscoLab()  # never started: nothing listens on the port
    lab.port = free_port()
    t0 = time.monotonic()
    with pytest.raises(DriverError) as err:
        driver.apply(intent(lab, parked(GI1)), lab.credentials())
    assert err.value.temporary is True
    assert "unreachable" in err.value.reason
    assert time.monotonic() - t0 < 5


def test_rejected_command_rolls_the_interface_back(
    cisco_lab: FakeCiscoLab, driver: CiscoIosxeDriver
) -> None:
    cred = cisco_lab.credentials()
    old = intent(cisco_lab, PortIntent(GI1, 214, "acme", True), PortIntent(GI2, 300, "old", True))
    driver.apply(old, cred)
    # the lab switch refuses VLAN 4000, as IOS refuses a command it cannot take
    new = intent(cisco_lab, PortIntent(GI1, 215, "acme", True),
                 PortIntent(GI2, 4000, "new", False))
    with pytest.raises(DriverError) as err:
        driver.apply(new, cred)
    assert err.value.temporary is False
    assert "Invalid input" in err.value.reason and GI2 in err.value.reason
    running = driver.read(new, cred)
    assert running[GI1] == new.ports[0]  # pushed before the failure: new
    assert running[GI2] == old.ports[1]  # the failing block was rolled back: old


def test_dropped_session_is_temporary_and_the_next_run_converges(
    cisco_lab: FakeCiscoLab, driver: CiscoIosxeDriver
) -> None:
    cred = cisco_lab.credentials()
    broken = intent(cisco_lab, PortIntent(GI1, 214, "acme", True),
                    PortIntent(GI2, 300, "DROP-SESSION", True))
    with pytest.raises(DriverError) as err:
        driver.apply(broken, cred)
    assert err.value.temporary is True
    fixed = intent(cisco_lab, PortIntent(GI1, 214, "acme", True),
                   PortIntent(GI2, 300, "globex", True))
    driver.apply(fixed, cred)
    assert driver.read(fixed, cred) == {p.interface: p for p in fixed.ports}
    assert driver.apply(fixed, cred).commands == []


def test_unknown_interface_is_refused(cisco_lab: FakeCiscoLab, driver: CiscoIosxeDriver) -> None:
    with pytest.raises(DriverError) as err:
        driver.apply(intent(cisco_lab, parked("GigabitEthernet0/99")), cisco_lab.credentials())
    assert err.value.temporary is False
    assert "no such interface" in err.value.reason


def test_registry_and_env_credentials_end_to_end(
    cisco_lab: FakeCiscoLab, ssh_options: SshOptions
) -> None:
    store = CredentialStore(env=cisco_lab.cred_env("sw-floor3"))
    cred = store.get("sw-floor3")
    assert cred is not None and "labpass" not in repr(cred)
    driver = create_driver("cisco_iosxe", ssh=ssh_options)
    want = SwitchIntent(cisco_lab.endpoint("sw-floor3"), (PortIntent(GI3, 214, "acme", True),))
    assert driver.apply(want, cred).commands
    assert driver.apply(want, cred).commands == []


def test_all_ports_in_one_session(cisco_lab: FakeCiscoLab, driver: CiscoIosxeDriver) -> None:
    ports = tuple(
        PortIntent(f"GigabitEthernet0/{i}", 200 + i, f"occupier {i}", True) for i in range(1, 9)
    )
    want = intent(cisco_lab, *ports)
    t0 = time.monotonic()
    t = driver.apply(want, cisco_lab.credentials())
    timed("cisco apply (8 ports, changes)", time.monotonic() - t0)
    assert t.sessions == 1
    assert len(t.reads) == 2  # one read, one verify
    assert driver.apply(want, cisco_lab.credentials()).commands == []
