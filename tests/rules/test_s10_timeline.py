"""S10, the timeline: every rule holds on every date where the desired state changes, and a
finding says on which date (issue 13; seed 000: a future service starts "once the start date
is reached")."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler import output
from reconciler.model.kinds import KINDS
from reconciler.model.repo import Repo, Source
from reconciler.rules import Context
from reconciler.rules import check as check_on
from reconciler.timeline import DATED, timeline
from tests.rules.conftest import (
    CATALOGUE,
    SITE,
    World,
    assert_at,
    contract,
    definition,
    occupier,
    service,
    site,
)

WIRELESS = definition("internet-wireless", "internet")
PUBLIC_IP_AND_INTERNET = [
    WIRELESS,
    service(
        "acme-net",
        "internet-lan-100",
        changes=[{"on": "2027-01-01", "definition": "internet-wireless"}],
    ),
    service("acme-ip", "public-ip"),
]
NO_INTERNET = (
    "service acme-ip (public-ip) requires internet-lan-100 or internet-lan-1000 for acme at "
    "london-bridge, and there is none"
)
LEFT_WITHOUT_INTERNET = f"{NO_INTERNET} (hint: add a internet-lan-100 service, or remove acme-ip)"


def test_s10_scheduled_change_leaving_a_public_ip_without_internet_is_an_error_on_its_date(
    world: World,
) -> None:
    result = world.with_(*PUBLIC_IP_AND_INTERNET)
    finding = result.one("S5")
    assert finding.on == date(2027, 1, 1)
    assert finding.text().endswith(f"error[S5] on 2027-01-01: {LEFT_WITHOUT_INTERNET}")
    assert_at(result, finding, "Service", "acme-ip", "definition: public-ip")


def test_s10_the_same_finding_is_undated_once_its_date_is_today(world: World) -> None:
    result = world.with_(*PUBLIC_IP_AND_INTERNET, today=date(2027, 1, 2))
    finding = result.one("S5")
    assert finding.on is None
    assert finding.text().endswith(f"error[S5]: {LEFT_WITHOUT_INTERNET}")


def test_s10_the_horizon_stops_the_timeline(world: World) -> None:
    result = world.with_(*PUBLIC_IP_AND_INTERNET, horizon=date(2026, 12, 31))
    assert result.of("S5") == []


def test_s10_every_output_format_carries_the_date(world: World) -> None:
    findings = world.with_(*PUBLIC_IP_AND_INTERNET).of("S5")
    as_json = json.loads(output.render(findings, "json"))["findings"][0]
    assert (as_json["on"], as_json["message"]) == ("2027-01-01", NO_INTERNET)
    assert "on 2027-01-01: service acme-ip" in output.render(findings, "junit")
    sarif = json.loads(output.render(findings, "sarif"))
    assert sarif["runs"][0]["results"][0]["message"]["text"].startswith(
        "on 2027-01-01: service acme-ip (public-ip) requires"
    )
    assert "::on 2027-01-01: service acme-ip" in output.render(findings, "github")


def test_s10_a_finding_that_holds_today_is_not_repeated_on_later_dates(world: World) -> None:
    result = world.with_(
        WIRELESS,
        service("acme-ip", "public-ip"),
        service("acme-voice", "voice-line", changes=[{"on": "2027-01-01", "quantity": 2}]),
    )
    assert [f.on for f in result.of("S5")] == [None]


def test_s10_a_contract_that_starts_later_is_checked_from_its_start(world: World) -> None:
    result = world.with_(
        contract("acme-mcr", start="2027-03-01", site="london-bridge", spaces=["suite-302"]),
        service("acme-ip", "public-ip", contract="acme-mcr"),
        service(
            "acme-net",
            "internet-lan-100",
            contract="acme-lb",
            changes=[{"on": "2027-02-01", "definition": "internet-wireless"}],
        ),
        WIRELESS,
    )
    assert [(f.rule, f.on) for f in result.findings if f.is_error] == [("S5", date(2027, 3, 1))]


def test_s10_a_line_that_ends_is_checked_from_the_day_after(world: World) -> None:
    """A service's own end date (Splynx) is a date of the timeline: the public IP is left
    without internet from the next day."""
    result = world.with_(
        service("acme-net", "internet-lan-100", end="2027-01-31"),
        service("acme-ip", "public-ip"),
    )
    assert [(f.rule, f.on) for f in result.findings if f.is_error] == [("S5", date(2027, 2, 1))]


def test_s10_a_floor_port_freed_on_a_date_is_no_longer_in_conflict_from_that_date(
    world: World,
) -> None:
    """Occupiers compared by a shared floor port and space (N3): when the first leaves, the
    second's conflicts end on that date; an occupier elsewhere at the site is unaffected."""
    port = {"site": "london-bridge", "floorPort": "F3-01", "role": "internet"}
    leaving = {"confirm": "Acme Ltd", "irreversible": True, "at": "2027-02-01"}
    result = world.with_(
        occupier("acme", activations={"floorPorts": [port]}, decommission=leaving),
        occupier("globex", activations={"floorPorts": [port]}),
        contract("globex-lb", "globex"),
        occupier("hooli", activations={"floorPorts": [{**port, "floorPort": "F3-05"}]}),
        contract("hooli-lb", "hooli", spaces=["suite-302"]),
    )
    conflicts = {
        "floor port F3-01 at london-bridge is activated by both acme and globex",
        "space suite-301 at london-bridge is leased to both acme (acme-lb) and globex "
        "(globex-lb) at the same time",
    }
    assert {(f.message, f.on) for f in result.of("N3")} == {(m, None) for m in conflicts}
    line = timeline(result.repo or Repo(), Context(today=date(2026, 11, 23)))
    assert {f.message for f in line.on(date(2027, 1, 31)) if f.rule == "N3"} == conflicts
    assert not {f for f in line.on(date(2027, 2, 1)) if f.rule == "N3"}


# ------------------------------------------------------------------ property


def _repo(docs: list[dict[str, Any]]) -> Repo:
    repo = Repo()
    for index, doc in enumerate(docs):
        repo.add(KINDS[doc["kind"]].model_validate(doc), Source(f"doc{index}.yaml", 0))
    return repo.index()


ALL_DAYS = [
    "2026-01-01",
    "2026-06-01",
    "2026-11-23",
    "2027-01-01",
    "2027-03-01",
    "2027-06-30",
    "2028-01-01",
]
DAYS = st.sampled_from(ALL_DAYS)
SITES = st.sampled_from(["london-bridge", "manchester"])
# one device written two ways, and another: T3 compares occupiers by MAC at a site
MACS = ["02:00:5e:00:00:01", "02-00-5E-00-00-01", "02:00:5e:00:00:02"]
DEFINITIONS = [d["metadata"]["name"] for d in CATALOGUE if not d["spec"].get("inactive")]


@st.composite
def repos(draw: st.DrawFn) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = [SITE, site("manchester"), *CATALOGUE]
    for who in draw(
        st.lists(
            st.sampled_from(["acme", "globex", "hooli", "initech"]),
            min_size=1,
            max_size=4,
            unique=True,
        )
    ):
        where = draw(SITES)
        starts = draw(st.lists(DAYS, min_size=1, max_size=2))
        names = []
        for n, start in enumerate(starts):
            later = [d for d in ALL_DAYS if d > start]
            end = draw(st.one_of(st.none(), st.sampled_from(later))) if later else None
            extra: dict[str, Any] = {"end": end} if end else {}
            names.append(f"{who}-c{n}")
            docs.append(
                contract(
                    names[-1],
                    who,
                    start,
                    site=where,
                    spaces=draw(st.sampled_from([["suite-301"], ["suite-302"]])),
                    atEnd=draw(st.sampled_from(["keep", "deprovision"])),
                    **extra,
                )
            )
        for n in range(draw(st.integers(0, 3))):
            changes = []
            for day in sorted(set(draw(st.lists(DAYS, max_size=2)))):
                changes.append(
                    {"on": day, "quantity": draw(st.integers(1, 3))}
                    if draw(st.booleans())
                    else {"on": day, "definition": draw(st.sampled_from(DEFINITIONS))}
                )
            docs.append(
                service(
                    f"{who}-s{n}",
                    draw(st.sampled_from(DEFINITIONS)),
                    who,
                    contract=draw(st.sampled_from(names)),
                    site=where,
                    quantity=draw(st.integers(1, 2)),
                    changes=changes,
                    **({"end": draw(DAYS)} if draw(st.booleans()) else {}),
                )
            )
        ports = draw(
            st.lists(st.sampled_from(["F3-01", "F3-02", "F3-05"]), max_size=2, unique=True)
        )
        numbers = draw(
            st.lists(st.sampled_from(["+442079460001", "+442079460002"]), max_size=2, unique=True)
        )
        macs = draw(st.lists(st.sampled_from(MACS), max_size=2, unique=True))
        spec: dict[str, Any] = {
            "activations": {
                "floorPorts": [{"site": where, "floorPort": p, "role": "internet"} for p in ports],
                "numbers": [{"site": where, "number": n} for n in numbers],
            },
            "users": [{"name": "ann", "email": "ann@example.com", "wifi": draw(st.booleans())}],
            "wifiDevices": [
                {"name": f"printer-{n}", "mac": mac, "site": draw(SITES)}
                for n, mac in enumerate(macs)
            ],
        }
        if draw(st.booleans()):
            spec["decommission"] = {
                "confirm": f"{who.title()} Ltd",
                "irreversible": True,
                "at": draw(DAYS),
            }
        docs.append(occupier(who, **spec))
    return docs


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=repos(), today=DAYS, day=DAYS)
def test_s10_validating_on_a_date_equals_the_timeline_on_that_date(
    docs: list[dict[str, Any]], today: str, day: str
) -> None:
    repo = _repo(docs)
    line = timeline(repo, Context(today=date.fromisoformat(today)))
    for on in [*line.days, date.fromisoformat(day)]:
        if on < line.days[0]:
            continue
        alone = _repo(docs)  # a fresh repo: nothing remembered from other dates
        expected = set(check_on(alone, Context(today=on), DATED))
        assert line.on(on) == expected, on
    reported = {f for f in line.reported}
    for previous, on in zip(line.days, line.days[1:], strict=False):
        assert {f for f in reported if f.on == on} == {
            f.dated(on) for f in line.in_force[on] - line.in_force[previous]
        }
