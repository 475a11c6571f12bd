"""The planner on small repos: what is allocated, kept, released and configured, and when."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from drivers.base import RouterIntent, SwitchIntent, TelephonyIntent
from reconciler.catalogue import Infra, infrastructure
from reconciler.ledger.model import Holdings, Kind, State
from reconciler.load import load
from reconciler.plan import Plan, make_plan
from tests.rules.conftest import CATALOGUE, SITE, TODAY, contract, definition, occupier, service

ACME_NUMBERS = {"site": "london-bridge", "number": "+442079460000", "handset": "digital"}


def repo_of(tmp_path: Path, *docs: dict[str, Any], base: list[dict[str, Any]] | None = None) -> Any:
    import yaml

    folder = tmp_path / f"r{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    everything = base if base is not None else [SITE, *CATALOGUE]
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    everything = [d for d in everything if (d["kind"], d["metadata"]["name"]) not in names]
    for i, doc in enumerate([*everything, *docs]):
        (folder / f"{i:02d}.yaml").write_text(yaml.safe_dump(doc))
    loaded = load(str(folder))
    assert not loaded.findings, [f.message for f in loaded.findings]
    return loaded.repo


def held(plan: Plan, holder: str, kind: Kind) -> list[str]:
    return sorted(a.value for a in plan.after.held_by("london-bridge", holder, kind))


def seed_example(tmp_path: Path) -> Any:
    return repo_of(
        tmp_path,
        occupier(),
        contract(),
        service("acme-internet", "internet-lan-100"),
        service("acme-ip", "public-ip"),
    )


def test_s6_seed_example_allocates_three_ports_none_in_use(tmp_path: Path) -> None:
    repo = seed_example(tmp_path)
    plan = make_plan(repo, Holdings(), TODAY)
    ports = [a for a in plan.allocations if a.kind is Kind.PORT]
    assert len(ports) == 3 and all(a.state is State.RESERVED for a in ports)
    assert sorted(a.role for a in ports) == ["internet", "public-ip", "public-ip"]
    assert held(plan, "acme", Kind.VLAN) == ["102"]  # 100, 101 reserved
    assert held(plan, "acme", Kind.PREFIX) == ["10.64.0.0/24"]
    assert held(plan, "acme", Kind.PUBLIC) == ["203.0.113.3/32"]  # .1 gateway, .2 excluded
    usage = infrastructure(repo, "acme", "london-bridge", TODAY, public_in_use=0)
    assert str(usage[Infra.SWITCH_PORTS]) == "0/3"


def test_n2_router_gets_a_route_for_the_public_address(tmp_path: Path) -> None:
    plan = make_plan(seed_example(tmp_path), Holdings(), TODAY)
    router = plan.intents["lb-rtr1"]
    assert isinstance(router, RouterIntent)
    assert [(r.prefix, r.next_hop) for r in router.routes] == [("203.0.113.3/32", "10.64.0.2")]
    assert [(g.vlan, g.address) for g in router.gateways] == [(102, "10.64.0.1/24")]
    assert router.managed_prefixes == ("203.0.113.0/26",)


def test_n3_activated_port_gets_the_occupier_vlan_others_stay_parked(tmp_path: Path) -> None:
    acme = occupier(
        activations={
            "floorPorts": [
                {
                    "site": "london-bridge",
                    "floorPort": "F3-02",
                    "role": "internet",
                    "device": "dock",
                }
            ]
        }
    )
    repo = repo_of(tmp_path, acme, contract(), service("acme-internet", "internet-lan-100"))
    plan = make_plan(repo, Holdings(), TODAY)
    switch = plan.intents["lb-sw1"]
    assert isinstance(switch, SwitchIntent)
    ports = {p.interface: p for p in switch.ports}
    assert (ports["GigabitEthernet1/0/2"].vlan, ports["GigabitEthernet1/0/2"].enabled) == (
        102,
        True,
    )
    assert ports["GigabitEthernet1/0/2"].description == "acme dock"
    parked = [p for name, p in ports.items() if name != "GigabitEthernet1/0/2"]
    assert all((p.vlan, p.enabled, p.description) == (999, False, "") for p in parked)
    assert held(plan, "acme", Kind.PORT) == ["F3-02"]  # the activation fills the allocation


def test_n4_allocations_are_stable_and_deterministic(tmp_path: Path) -> None:
    first = seed_example(tmp_path)
    plan = make_plan(first, Holdings(), TODAY)
    assert make_plan(first, Holdings(), TODAY).allocations == plan.allocations
    # a new occupier arrives (ordered before acme by name): acme keeps everything it holds
    aardvark = [
        occupier("aardvark"),
        contract("aardvark-lb", "aardvark", spaces=["suite-302"]),
        service("aardvark-internet", "internet-lan-100", occupier="aardvark"),
    ]
    second = repo_of(
        tmp_path,
        occupier(),
        contract(),
        service("acme-internet", "internet-lan-100"),
        service("acme-ip", "public-ip"),
        *aardvark,
    )
    again = make_plan(second, plan.after, TODAY)
    assert not again.releases
    assert {a.holder for a in again.allocations} == {"aardvark"}
    assert held(again, "acme", Kind.VLAN) == ["102"]
    assert held(again, "aardvark", Kind.VLAN) == ["103"]
    assert make_plan(second, again.after, TODAY).changes == []


def test_s2_future_contract_is_provisioned_from_its_start(tmp_path: Path) -> None:
    start = TODAY + timedelta(days=10)
    repo = repo_of(
        tmp_path,
        occupier(),
        contract(start=start.isoformat()),
        service("acme-internet", "internet-lan-100"),
    )
    assert make_plan(repo, Holdings(), TODAY).allocations == []
    on_the_day = make_plan(repo, Holdings(), start)
    assert held(on_the_day, "acme", Kind.VLAN) == ["102"]


def test_s10_scheduled_quantity_change_takes_effect_on_its_date(tmp_path: Path) -> None:
    change_day = TODAY + timedelta(days=30)
    repo = repo_of(
        tmp_path,
        occupier(),
        contract(),
        service(
            "acme-voice",
            "voice-line",
            quantity=1,
            changes=[{"on": change_day.isoformat(), "quantity": 3}],
        ),
    )
    before = make_plan(repo, Holdings(), change_day - timedelta(days=1))
    assert held(before, "acme", Kind.NUMBER) == ["+442079460000"]
    after = make_plan(repo, before.after, change_day)
    assert held(after, "acme", Kind.NUMBER) == ["+442079460000", "+442079460001", "+442079460002"]


def test_t1_first_voice_service_activates_numbers_and_picks_the_main(tmp_path: Path) -> None:
    repo = repo_of(
        tmp_path, occupier(), contract(), service("acme-voice", "voice-line", quantity=2)
    )
    plan = make_plan(repo, Holdings(), TODAY)
    numbers = [a for a in plan.allocations if a.kind is Kind.NUMBER]
    assert [(a.value, a.state, a.role) for a in numbers] == [
        ("+442079460000", State.ACTIVE, "main"),
        ("+442079460001", State.ACTIVE, ""),
    ]
    telephony_less = plan.intents.get("lb-sip1")
    assert telephony_less is None  # the test site has no telephony server


def test_t1_declared_main_number_wins(tmp_path: Path) -> None:
    acme = occupier(
        activations={
            "numbers": [
                {"site": "london-bridge", "number": "+442079460005"},
                {"site": "london-bridge", "number": "+442079460007"},
            ]
        },
        mainNumbers=[{"site": "london-bridge", "number": "+442079460007"}],
    )
    repo = repo_of(tmp_path, acme, contract(), service("acme-voice", "voice-line", quantity=2))
    plan = make_plan(repo, Holdings(), TODAY)
    roles = {a.value: (a.state, a.role) for a in plan.allocations if a.kind is Kind.NUMBER}
    assert roles == {"+442079460005": (State.ACTIVE, ""), "+442079460007": (State.ACTIVE, "main")}


def test_t2_released_numbers_cool_off_and_are_reused_only_after(tmp_path: Path) -> None:
    with_voice = repo_of(tmp_path, occupier(), contract(), service("acme-voice", "voice-line"))
    first = make_plan(with_voice, Holdings(), TODAY)
    without = repo_of(
        tmp_path,
        occupier(),
        contract(),
        occupier("bravo"),
        contract("bravo-lb", "bravo", spaces=["suite-302"]),
        service("bravo-voice", "voice-line", occupier="bravo"),
    )
    second = make_plan(without, first.after, TODAY)
    [release] = [r for r in second.releases if r.allocation.kind is Kind.NUMBER]
    assert release.allocation.value == "+442079460000"
    assert release.until == TODAY + timedelta(days=90)
    assert held(second, "bravo", Kind.NUMBER) == ["+442079460001"]  # not the cooling one
    cooled = second.after.by_key["london-bridge", Kind.NUMBER, "+442079460000"]
    assert cooled.state is State.COOLING_OFF and cooled.holder == ""
    # at the end of cooling-off the number is available again at this site
    later = make_plan(without, second.after, TODAY + timedelta(days=90))
    assert any(r.allocation.value == "+442079460000" for r in later.releases)
    assert "+442079460000" not in later.after.values("london-bridge", Kind.NUMBER)


def test_cooling_numbers_are_refused_as_activations(tmp_path: Path) -> None:
    first = make_plan(
        repo_of(tmp_path, occupier(), contract(), service("acme-voice", "voice-line")),
        Holdings(),
        TODAY,
    )
    gone = make_plan(repo_of(tmp_path, occupier(), contract()), first.after, TODAY)
    bravo = occupier(
        "bravo", activations={"numbers": [{"site": "london-bridge", "number": "+442079460000"}]}
    )
    grab = make_plan(
        repo_of(
            tmp_path,
            occupier(),
            contract(),
            bravo,
            contract("bravo-lb", "bravo", spaces=["suite-302"]),
            service("bravo-voice", "voice-line", occupier="bravo"),
        ),
        gone.after,
        TODAY,
    )
    assert [f.rule for f in grab.errors] == ["T2"]
    assert "cooling-off until" in grab.errors[0].message


def test_d3_decommissioned_occupier_releases_everything(tmp_path: Path) -> None:
    live = seed_example(tmp_path)
    plan = make_plan(live, Holdings(), TODAY)
    gone = occupier(decommission={"confirm": "Acme Ltd", "irreversible": True})
    repo = repo_of(
        tmp_path,
        gone,
        contract(),
        service("acme-internet", "internet-lan-100"),
        service("acme-ip", "public-ip"),
    )
    after = make_plan(repo, plan.after, TODAY)
    assert after.allocations == []
    assert {r.allocation.kind for r in after.releases} == {
        Kind.VLAN,
        Kind.PREFIX,
        Kind.PUBLIC,
        Kind.PORT,
    }
    router = after.intents["lb-rtr1"]
    assert isinstance(router, RouterIntent) and router.routes == ()


def test_pool_past_90_percent_is_warned(tmp_path: Path) -> None:
    small = dict(SITE)
    small["spec"] = {**SITE["spec"], "vlans": {"range": "100-102", "reserved": [], "parking": 999}}
    repo = repo_of(
        tmp_path, small, occupier(), contract(), service("acme-internet", "internet-lan-100")
    )
    plan = make_plan(repo, Holdings(), TODAY)
    assert any(f.rule == "N4" and "VLANs" not in f.message for f in plan.findings) is False
    tiny = dict(SITE)
    tiny["spec"] = {**SITE["spec"], "vlans": {"range": "100-100", "reserved": [], "parking": 999}}
    plan = make_plan(
        repo_of(
            tmp_path, tiny, occupier(), contract(), service("acme-internet", "internet-lan-100")
        ),
        Holdings(),
        TODAY,
    )
    warnings = [f for f in plan.findings if f.rule == "N4" and not f.is_error]
    assert warnings and "VLANs at 1/1 (100%)" in warnings[0].message


def test_exhausted_pool_is_an_error_not_a_partial_plan(tmp_path: Path) -> None:
    tiny = dict(SITE)
    tiny["spec"] = {
        **SITE["spec"],
        "vlans": {"range": "100-100", "reserved": [100], "parking": 999},
    }
    plan = make_plan(
        repo_of(
            tmp_path, tiny, occupier(), contract(), service("acme-internet", "internet-lan-100")
        ),
        Holdings(),
        TODAY,
    )
    assert [f.rule for f in plan.errors] == ["N4"]
    assert "no free VLAN" in plan.errors[0].message


@pytest.mark.parametrize("day", [TODAY, date(2027, 6, 1)])
def test_plan_of_its_own_result_is_empty(tmp_path: Path, day: date) -> None:
    repo = seed_example(tmp_path)
    plan = make_plan(repo, Holdings(), day)
    assert make_plan(repo, plan.after, day).changes == []


def test_telephony_intent_lists_active_and_cooling_numbers(tmp_path: Path) -> None:
    site = dict(SITE)
    site["spec"] = {
        **SITE["spec"],
        "telephony": {"name": "lb-sip1", "platform": "kamailio", "host": "127.0.0.1"},
    }
    first = make_plan(
        repo_of(tmp_path, site, occupier(), contract(), service("acme-voice", "voice-line")),
        Holdings(),
        TODAY,
    )
    sip = first.intents["lb-sip1"]
    assert isinstance(sip, TelephonyIntent)
    assert [(n.number, n.state) for n in sip.numbers] == [("+442079460000", "active")]
    second = make_plan(repo_of(tmp_path, site, occupier(), contract()), first.after, TODAY)
    sip = second.intents["lb-sip1"]
    assert isinstance(sip, TelephonyIntent)
    assert [(n.number, n.state, n.until) for n in sip.numbers] == [
        ("+442079460000", "cooling-off", (TODAY + timedelta(days=90)).isoformat())
    ]


def test_t1_main_and_users_numbers_are_told_to_the_sip_server(tmp_path: Path) -> None:
    site = dict(SITE)
    site["spec"] = {
        **SITE["spec"],
        "telephony": {"name": "lb-sip1", "platform": "kamailio", "host": "127.0.0.1"},
    }
    acme = occupier(
        users=[{"name": "jo", "email": "jo@acme.example", "number": "+442079460001"}],
        activations={
            "numbers": [
                {"site": "london-bridge", "number": "+442079460001"},
                {"site": "london-bridge", "number": "+442079460000"},
            ]
        },
    )
    plan = make_plan(
        repo_of(tmp_path, site, acme, contract(), service("acme-voice", "voice-line", quantity=2)),
        Holdings(),
        TODAY,
    )
    sip = plan.intents["lb-sip1"]
    assert isinstance(sip, TelephonyIntent)
    assert {n.number: n.assignee for n in sip.numbers} == {
        "+442079460000": "main",  # the lowest active number, none declared (T1)
        "+442079460001": "jo",
    }


SOFTPHONE = definition(
    "softphone", "voice", quantity={"min": 1, "max": 0}, infrastructure={"phoneNumbers": 1}
)
PUBLIC_IPS = definition(
    "public-ips", "public-ip", quantity={"min": 1, "max": 0}, infrastructure={"publicIPs": 1}
)


def neighbours(*extra: dict[str, Any], absurd: str = "softphone") -> list[dict[str, Any]]:
    """aaa asks for 100,000 of something; bbb names +442079460001 and F3-05 in its
    activations; ccc asks for one of each automatically."""
    bbb = occupier(
        "bbb",
        activations={
            "numbers": [{"site": "london-bridge", "number": "+442079460001"}],
            "floorPorts": [{"site": "london-bridge", "floorPort": "F3-05", "role": "voice"}],
        },
    )
    return [
        SOFTPHONE,
        PUBLIC_IPS,
        occupier("aaa"),
        contract("aaa-lb", "aaa"),
        service("aaa-net", "internet-lan-100", "aaa"),
        service("aaa-absurd", absurd, "aaa", quantity=100_000),
        bbb,
        contract("bbb-lb", "bbb", spaces=["suite-302"]),
        service("bbb-voice", "voice-line", "bbb"),
        occupier("ccc"),
        contract("ccc-lb", "ccc", spaces=[]),
        service("ccc-phone", "softphone", "ccc"),
        service("ccc-ips", "public-ips", "ccc", quantity=2),
        *extra,
    ]


@pytest.mark.parametrize("absurd", ["softphone", "public-ips"])
def test_n4_an_absurd_quantity_is_its_own_error_and_takes_nothing_others_need(
    tmp_path: Path, absurd: str
) -> None:
    plan = make_plan(repo_of(tmp_path, *neighbours(absurd=absurd)), Holdings(), TODAY)
    what = "phone numbers" if absurd == "softphone" else "public /32"
    assert [(f.rule, f.message) for f in plan.errors] == [
        ("N4", f"site london-bridge has no free {what} left for aaa")
    ]
    assert plan.errors[0].path == ("spec", "quantity")
    assert held(plan, "aaa", Kind.NUMBER) == held(plan, "aaa", Kind.PUBLIC) == []
    assert held(plan, "bbb", Kind.NUMBER) == ["+442079460001"]  # named: set aside first
    assert held(plan, "bbb", Kind.PORT) == ["F3-05"]
    assert held(plan, "ccc", Kind.NUMBER) == ["+442079460000"]
    assert held(plan, "ccc", Kind.PUBLIC) == ["203.0.113.3/32", "203.0.113.4/32"]


def test_t2_a_number_an_occupier_names_is_not_handed_out_again_automatically(
    tmp_path: Path,
) -> None:
    named = occupier(
        activations={"numbers": [{"site": "london-bridge", "number": "+442079460001"}]}
    )
    repo = repo_of(tmp_path, named, contract(), service("acme-voice", "voice-line", quantity=3))
    plan = make_plan(repo, Holdings(), TODAY)
    numbers = [a.value for a in plan.allocations if a.kind is Kind.NUMBER]
    assert sorted(numbers) == ["+442079460000", "+442079460001", "+442079460002"]
