"""`tenantry report services` as seed 000's Manage services screen: its columns, its contract and
service drop-downs (Scheduled = "have a future change scheduled"), and statuses the dates and
the ledger agree on (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.rules.conftest import contract, occupier, service
from tests.test_validate_ledger import TODAY, apply, base, run, write


def rows(root: Path, *args: str, today: str = TODAY) -> dict[str, dict[str, object]]:
    code, out = run("report", str(root), "--today", today, "--format", "json", *args)
    assert code == 0, out
    return {r["service"]: r for r in json.loads(out)}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "repo"
    folder.mkdir()
    base(folder)
    write(
        folder,
        "acme",
        occupier(),
        contract(),
        service(
            "acme-wifi",
            "wifi-user",
            quantity=3,
            price="2.50",
            changes=[{"on": "2027-01-01", "quantity": 5}],
        ),
    )
    write(
        folder,
        "globex",
        occupier("globex"),
        contract("globex-lb", "globex", start="2027-02-01", spaces=["suite-302"]),
        service("globex-voice", "voice-line", "globex"),
    )
    return folder


def test_s9_manage_services_row_has_the_seed_columns(root: Path, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    apply(root, state)
    row = rows(root, "--state", str(state))["acme-wifi"]
    assert row == {
        "occupier": "acme",
        "site": "london-bridge",
        "contract": "acme-lb",
        "contract_status": "Active",
        "service": "acme-wifi",
        "definition": "wifi-user",
        "description": "wifi-user",
        "start": "2026-01-01",
        "quantity": 3,
        "included": 2,
        "price": "2.50",
        "cost": "0.00",
        "rrp": "3.00",
        "total": "2.50",
        "status": "Active",
        "reason": "",
        "activated": TODAY,
        "next_change": "2027-01-01: quantity 5",
        "infrastructure": "switch ports 0/0, telephony 0/0, public IPs 0/0, Wi-Fi devices 0/0, "
        "Wi-Fi users 0/3",
    }


def test_s9_a_line_with_a_future_change_is_scheduled(root: Path) -> None:
    assert set(rows(root, "--service-status", "Scheduled")) == {"acme-wifi", "globex-voice"}
    assert set(rows(root, "--contract-status", "Scheduled")) == {"acme-wifi", "globex-voice"}
    assert set(rows(root, "--contract-status", "Active")) == {"acme-wifi"}


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("Active", {"acme-wifi"}),
        ("Scheduled", {"acme-wifi", "globex-voice"}),
        ("Active and Scheduled", {"acme-wifi", "globex-voice"}),
        ("Inactive", set()),
        ("All", {"acme-wifi", "globex-voice"}),
    ],
)
def test_s9_contract_filter_has_the_seeds_five_choices(
    root: Path, choice: str, expected: set[str]
) -> None:
    assert set(rows(root, "--contract-status", choice)) == expected


def test_s9_report_filters_by_occupier_site_and_contract(root: Path) -> None:
    assert set(rows(root, "--occupier", "globex")) == {"globex-voice"}
    assert set(rows(root, "--contract", "acme-lb")) == {"acme-wifi"}
    assert set(rows(root, "--site", "london-bridge")) == {"acme-wifi", "globex-voice"}
    assert rows(root, "--site", "manchester") == {}


def test_s9_a_line_never_provisioned_is_not_active(root: Path, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    apply(root, state)
    write(root, "more", service("acme-net", "internet-lan-100"))
    row = rows(root, "--state", str(state))["acme-net"]
    assert (row["status"], row["reason"]) == ("Updating", "not yet provisioned")


def test_s9_a_stale_recorded_status_does_not_win_over_the_date(root: Path, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    apply(root, state)  # globex-voice recorded Scheduled: its contract starts 2027-02-01
    later = ("--state", str(state), "--occupier", "globex")
    row = rows(root, *later, today="2027-02-02")["globex-voice"]
    assert (row["status"], row["reason"]) == (
        "Updating",
        "recorded Scheduled; provisioned at the next apply",
    )
    apply(root, state, "2027-02-02")
    assert rows(root, *later, today="2027-02-02")["globex-voice"]["status"] == "Active"


def test_s6_plan_and_its_pull_request_comment_show_x_over_y_per_occupier(
    root: Path, tmp_path: Path
) -> None:
    write(root, "ip", service("acme-net", "internet-lan-100"), service("acme-ip", "public-ip"))
    xy = "switch ports 0/3, telephony 0/0, public IPs 1/1, Wi-Fi devices 0/0, Wi-Fi users 0/3"
    code, out = run("plan", str(root), "--today", TODAY, "--state", str(tmp_path / "s.db"))
    assert code == 2, out
    assert f"  occupier acme ({xy})\n" in out
    code, out = run(
        "plan",
        str(root),
        "--today",
        TODAY,
        "--state",
        str(tmp_path / "s.db"),
        "--format",
        "markdown",
    )
    assert f"<details open><summary>occupier acme ({xy})</summary>" in out
