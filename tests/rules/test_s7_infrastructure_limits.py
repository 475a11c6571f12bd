"""S7: X ≤ Y always. An activation beyond the allocation is rejected; removing or reducing a
service below what is in use is rejected, saying what to deactivate first (seed 000:
"Telephony extension 1/0")."""

from datetime import date
from typing import Any

from reconciler.findings import Severity
from tests.rules.conftest import World, assert_at, occupier, service

NUMBER = "+442079460001"


def _numbers(*numbers: str) -> dict[str, Any]:
    return {"numbers": [{"site": "london-bridge", "number": n} for n in numbers]}


def _ports(*ports: tuple[str, str]) -> dict[str, Any]:
    return {"floorPorts": [{"site": "london-bridge", "floorPort": p, "role": r} for p, r in ports]}


def test_s7_active_number_within_the_voice_allocation_is_fine(world: World) -> None:
    result = world.with_(
        occupier(activations=_numbers(NUMBER)), service("acme-voice", "voice-line")
    )
    assert result.of("S7") == []


def test_s7_removing_voice_while_a_number_is_active_shows_telephony_1_of_0(world: World) -> None:
    result = world.with_(occupier(activations=_numbers(NUMBER)))  # no voice service any more
    finding = result.one("S7")
    assert finding.severity is Severity.ERROR
    assert finding.message.startswith("telephony 1/0 for acme at london-bridge")
    assert f"deactivate {NUMBER} first" in finding.message
    assert finding.hint.startswith("deactivate the number first")
    assert_at(result, finding, "Occupier", "acme", NUMBER, span=2)


def test_s7_activating_more_numbers_than_allocated_is_rejected(world: World) -> None:
    result = world.with_(
        occupier(activations=_numbers(NUMBER, "+442079460002")),
        service("acme-voice", "voice-line"),
    )
    finding = result.one("S7")
    assert "telephony 2/1 for acme at london-bridge" in finding.message
    assert "deactivate +442079460002 first" in finding.message
    assert_at(result, finding, "Occupier", "acme", "+442079460002", span=2)


def test_s7_reducing_voice_below_the_active_numbers_is_rejected(world: World) -> None:
    result = world.with_(
        occupier(activations=_numbers(NUMBER, "+442079460002")),
        service("acme-voice", "voice-line", quantity=1),
    )
    assert "telephony 2/1" in result.one("S7").message
    ok = world.with_(
        occupier(activations=_numbers(NUMBER, "+442079460002")),
        service("acme-voice", "voice-line", quantity=2),
    )
    assert ok.of("S7") == []


def test_s7_scheduled_reduction_below_what_is_in_use_is_rejected(world: World) -> None:
    result = world.with_(
        occupier(activations=_numbers(NUMBER, "+442079460002")),
        service(
            "acme-voice", "voice-line", quantity=2, changes=[{"on": "2027-01-01", "quantity": 1}]
        ),
    )
    finding = result.one("S7")
    assert finding.on == date(2027, 1, 1)
    assert finding.text().endswith(
        "error[S7] on 2027-01-01: telephony 2/1 for acme at london-bridge: 2 in use but the "
        "services allocate 1; deactivate +442079460002 first (hint: deactivate the number first "
        "(remove it from activations.numbers) or add a service)"
    )


def test_s7_more_floor_ports_than_switch_ports_allocated_is_rejected(world: World) -> None:
    result = world.with_(
        occupier(activations=_ports(("F3-01", "internet"), ("F3-02", "internet"))),
        service("acme-net", "internet-lan-100"),
    )
    finding = result.one("S7")
    assert "switch ports 2/1 for acme at london-bridge" in finding.message
    assert "deactivate floor port F3-02 first" in finding.message
    assert finding.hint.startswith("deactivate a floor port first")
    assert_at(result, finding, "Occupier", "acme", "F3-02", span=2)


def test_s7_public_ip_and_internet_allow_three_ports_by_role(world: World) -> None:
    result = world.with_(
        occupier(
            activations=_ports(
                ("F3-01", "internet"), ("F3-02", "public-ip"), ("F3-03", "public-ip")
            )
        ),
        service("acme-net", "internet-lan-100"),
        service("acme-pip", "public-ip"),
    )
    assert result.of("S7") == []


def test_s7_floor_port_with_a_role_no_service_allocates_is_rejected(world: World) -> None:
    result = world.with_(
        occupier(activations=_ports(("F3-01", "public-ip"))),
        service("acme-net", "internet-lan-100"),
    )
    finding = result.one("S7")
    assert "1 floor ports with role public-ip are active for acme at london-bridge" in (
        finding.message
    )
    assert "services allocate 0 with that role" in finding.message
    assert_at(result, finding, "Occupier", "acme", "F3-01", span=2)


def test_s7_wifi_device_without_allocation_is_rejected(world: World) -> None:
    result = world.with_(
        occupier(
            wifiDevices=[{"name": "printer", "mac": "00:11:22:33:44:55", "site": "london-bridge"}]
        )
    )
    finding = result.one("S7")
    assert "Wi-Fi devices 1/0 for acme at london-bridge" in finding.message
    assert finding.hint.startswith("delete a Wi-Fi device first")
    assert_at(result, finding, "Occupier", "acme", "printer")


def test_s7_wifi_users_beyond_allocation_are_rejected(world: World) -> None:
    users = [{"name": n, "email": f"{n}@acme.example", "wifi": True} for n in ("ann", "bob")]
    result = world.with_(occupier(users=users), service("acme-wifi", "wifi-user"))
    finding = result.one("S7")
    assert "Wi-Fi users 2/1 for acme at london-bridge" in finding.message
    assert finding.hint.startswith("remove Wi-Fi from a user first")
    ok = world.with_(occupier(users=users), service("acme-wifi", "wifi-user", quantity=2))
    assert ok.of("S7") == []


def test_s7_decommissioned_occupier_is_not_counted(world: World) -> None:
    result = world.with_(
        occupier(
            activations=_numbers(NUMBER),
            decommission={"confirm": "Acme Ltd", "irreversible": True},
        )
    )
    assert result.of("S7") == []


def test_s7_an_edit_over_allocating_two_types_reports_both(world: World) -> None:
    result = world.with_(
        occupier(
            activations={
                **_numbers(NUMBER),
                **_ports(("F3-01", "internet"), ("F3-02", "internet")),
            }
        ),
        service("acme-net", "internet-lan-100"),
    )
    assert sorted(f.message.split(":")[0] for f in result.errors("S7")) == [
        "switch ports 2/1 for acme at london-bridge",
        "telephony 1/0 for acme at london-bridge",
    ]
