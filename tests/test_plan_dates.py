"""Provisioning follows dates (issue 13): nothing of a contract is configured before its start
(seed 000: a future service starts "once the start date is reached"); a space move moves the
floor ports; floor ports a change releases are free for what the same change takes."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from reconciler.ledger.model import Holdings, Kind
from reconciler.plan import Plan, make_plan
from reconciler.validate import validate
from tests.rules.conftest import CATALOGUE, SITE, contract, occupier, service
from tests.test_plan import held, repo_of


def ports_of(plan: Plan, who: str = "acme") -> dict[str, str]:
    """floor port → "state role" the occupier holds after the plan."""
    return {
        a.value: f"{a.state} {a.role}" for a in plan.after.held_by("london-bridge", who, Kind.PORT)
    }


def test_s2_floor_ports_of_a_contract_are_configured_only_from_its_start(tmp_path: Path) -> None:
    extra_suite = [{"site": "london-bridge", "floorPort": "F3-05", "role": "internet"}]
    docs: list[dict[str, Any]] = [
        occupier(activations={"floorPorts": extra_suite}),
        contract("acme-lb"),
        contract("acme-lb-302", start="2027-01-01", spaces=["suite-302"]),
        service("acme-net", "internet-lan-100", contract="acme-lb"),
        service("acme-net-302", "internet-lan-100", contract="acme-lb-302"),
    ]
    repo = repo_of(tmp_path, *docs)
    before = make_plan(repo, Holdings(), date(2026, 12, 31))
    assert ports_of(before) == {"F3-01": "reserved internet"}
    after = make_plan(repo, before.after, date(2027, 1, 1))
    assert ports_of(after) == {"F3-01": "reserved internet", "F3-05": "active internet"}


def test_n3_a_space_move_moves_the_floor_ports(tmp_path: Path) -> None:
    before = make_plan(
        repo_of(tmp_path, occupier(), contract(), service("acme-net", "internet-lan-100")),
        Holdings(),
        date(2026, 11, 23),
    )
    assert held(before, "acme", Kind.PORT) == ["F3-01"]
    moved = repo_of(
        tmp_path,
        occupier(),
        contract(spaces=["suite-302"]),
        service("acme-net", "internet-lan-100"),
    )
    after = make_plan(moved, before.after, date(2026, 11, 23))
    assert [r.allocation.value for r in after.releases] == ["F3-01"]
    assert held(after, "acme", Kind.PORT) == ["F3-05"]


def test_n4_floor_ports_released_by_a_change_are_free_for_it(tmp_path: Path) -> None:
    """seed 000's example: Public IP + Internet hold 3 of suite-301's 4 floor ports; replacing
    the public IP by two voice lines in one change needs no fifth port."""
    before = make_plan(
        repo_of(
            tmp_path,
            occupier(),
            contract(),
            service("acme-net", "internet-lan-100"),
            service("acme-ip", "public-ip"),
        ),
        Holdings(),
        date(2026, 11, 23),
    )
    assert len(held(before, "acme", Kind.PORT)) == 3
    changed = repo_of(
        tmp_path,
        occupier(),
        contract(),
        service("acme-net", "internet-lan-100"),
        service("acme-voice", "voice-line", quantity=2),
    )
    after = make_plan(changed, before.after, date(2026, 11, 23))
    assert after.errors == []
    assert ports_of(after) == {
        "F3-01": "reserved internet",
        "F3-02": "reserved voice",
        "F3-03": "reserved voice",
    }


def test_s2_validate_accepts_a_future_suite_activation_the_plan_waits_for(
    tmp_path: Path,
) -> None:
    """The document may say it now; the rules and the plan honour it from the start date."""
    import yaml

    folder = tmp_path / "repo"
    folder.mkdir()
    docs = [
        SITE,
        *CATALOGUE,
        occupier(
            activations={
                "floorPorts": [{"site": "london-bridge", "floorPort": "F3-05", "role": "internet"}]
            }
        ),
        contract("acme-lb"),
        contract("acme-lb-302", start="2027-01-01", spaces=["suite-302"]),
        service("acme-net", "internet-lan-100", contract="acme-lb"),
        service("acme-net-302", "internet-lan-100", contract="acme-lb-302"),
    ]
    (folder / "all.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
    assert validate(str(folder), date(2026, 11, 23)).ok


def test_s6_wifi_users_count_as_in_use_once_the_contract_starts(tmp_path: Path) -> None:
    from reconciler.catalogue import Infra, Usage, infrastructure

    repo = repo_of(
        tmp_path,
        occupier(users=[{"name": "ann", "email": "ann@example.com", "wifi": True}]),
        contract(start="2027-01-01"),
        service("acme-wifi", "wifi-user"),
    )
    usage = infrastructure(repo, "acme", "london-bridge", date(2026, 12, 31))
    assert usage[Infra.WIFI_USERS] == Usage(0, 1)
    assert make_plan(repo, Holdings(), date(2026, 12, 31)).intents["lb-rtr1"].gateways == ()
    usage = infrastructure(repo, "acme", "london-bridge", date(2027, 1, 1))
    assert usage[Infra.WIFI_USERS] == Usage(1, 1)
