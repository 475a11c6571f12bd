"""Billing cases (issue 19) over a real ledger, shared by the SQLite tests (tests/test_billing.py)
and the PostgreSQL ones (tests/labs/ledger/test_postgres_billing.py): `tenantry apply` on
different business dates, then `tenantry report charges` / `billing close`, amounts exact.

The repo: one site, an `office` line at 300.00 a month, `internet-100` (90.00) and its
upgrade `internet-1000` (250.00), and `wifi-user` (3.00 per user, 2 included). November 2026
has 30 days, October and December 31. Amounts: price × chargeable × days / days in month,
ROUND_HALF_UP to the cent per row.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.ledger import open_ledger

API = "tenantry.dev/v1alpha1"
ACTOR = ["--actor", "ops"]
# One occupier at one site: ending its lines releases all the site holds, which G1 stops
# unless asked; here the ending is what the test asks for.
RELEASE = ["--allow-mass-release"]
DECOMMISSION = {"confirm": "Acme Ltd", "irreversible": True, "at": "2026-11-15"}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def definition(name: str, rrp: str, included: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "ServiceDefinition",
        "metadata": {"name": name},
        "spec": {
            "category": "other",
            "description": name,
            "cost": "1.00",
            "rrp": rrp,
            "quantity": {"min": 0, "max": 0, "included": included},
            **extra,
        },
    }


class Desk:
    """A desired-state repo in a temporary directory, applied to one ledger."""

    def __init__(self, root: Path, ledger: str, stopped_charged: bool = False) -> None:
        self.root = root
        self.ledger = ledger
        self.services: dict[str, dict[str, Any]] = {}
        self.occupier: dict[str, Any] = {"displayName": "Acme Ltd"}
        (root / "repo").mkdir(parents=True, exist_ok=True)
        extra = {"chargeWhileStopped": True} if stopped_charged else {}
        self._write(
            "catalogue.yaml",
            [
                definition("office", "300.00", **extra),
                definition("internet-100", "90.00"),
                definition("internet-1000", "250.00"),
                definition("wifi-user", "3.00", included=2),
            ],
        )
        site = {
            "displayName": "Main",
            "admins": ["ops"],
            "vlans": {"range": "100-199", "parking": 999},
            "privateSupernet": {"cidr": "10.64.0.0/16", "prefixLength": 24},
        }
        contract = {"occupier": "acme", "site": "main", "start": "2026-01-01"}
        self._write(
            "site.yaml",
            [
                {"apiVersion": API, "kind": "Site", "metadata": {"name": "main"}, "spec": site},
                {
                    "apiVersion": API,
                    "kind": "Contract",
                    "metadata": {"name": "acme-2026"},
                    "spec": contract,
                },
            ],
        )

    @property
    def path(self) -> str:
        return str(self.root / "repo")

    def _write(self, name: str, docs: list[dict[str, Any]]) -> None:
        (self.root / "repo" / name).write_text(yaml.safe_dump_all(docs, sort_keys=False))

    def line(self, name: str, definition: str = "office", **spec: Any) -> None:
        self.services[name] = {"occupier": "acme", "site": "main", "definition": definition}
        self.services[name].update(spec)

    def add_router(self) -> None:
        """The site gets a router, so an apply pushes to a device (render driver)."""
        path = self.root / "repo" / "site.yaml"
        docs = list(yaml.safe_load_all(path.read_text()))
        docs[0]["spec"]["router"] = {"name": "main-rtr1", "platform": "frr", "host": "192.0.2.10"}
        path.write_text(yaml.safe_dump_all(docs, sort_keys=False))

    def apply(self, today: str, ok: bool = True) -> str:
        occupier = {"apiVersion": API, "kind": "Occupier", "metadata": {"name": "acme"}}
        self._write("occupier.yaml", [{**occupier, "spec": self.occupier}])
        services = [
            {"apiVersion": API, "kind": "Service", "metadata": {"name": n}, "spec": s}
            for n, s in sorted(self.services.items())
        ]
        (self.root / "repo" / "services.yaml").unlink(missing_ok=True)
        if services:
            self._write("services.yaml", services)
        code, out = run(
            "apply", self.path, "--today", today, "--state", self.ledger,
            "--out", str(self.root / "rendered"), *ACTOR, *RELEASE,
        )  # fmt: skip
        assert (code == 0) is ok, out
        return out

    def report(self, month: str, fmt: str = "json", today: str = "2027-06-01") -> str:
        code, out = run(
            "report", "charges", self.path, "--month", month, "--state", self.ledger,
            "--format", fmt, "--today", today,
        )  # fmt: skip
        assert code == 0, out
        return out

    def rows(self, month: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = json.loads(self.report(month))
        return rows

    def amounts(self, month: str) -> dict[str, list[tuple[str, str, str, str]]]:
        """service → [(from, to, amount, kind)], plus "TOTAL" → [the occupier's total]."""
        out: dict[str, list[tuple[str, str, str, str]]] = {}
        for r in self.rows(month):
            key = "TOTAL" if r["kind"] == "total" else r["service"]
            out.setdefault(key, []).append((r["from"], r["to"], r["amount"], r["kind"]))
        return out

    def events(self, line: str) -> list[tuple[str, str, str]]:
        """(effective, kind, recorded) of a line's billing events in the ledger, in order."""
        ledger = open_ledger(self.ledger, create=False)
        assert ledger is not None
        rows = sorted(r for r in ledger.billing_rows() if r[0] == line)
        return [(r[2], r[5], r[3]) for r in sorted(rows, key=lambda r: (r[1], r[2]))]

    def close(self, month: str, today: str) -> tuple[int, str]:
        return run("billing", "close", month, "--state", self.ledger, "--today", today)


# ------------------------------------------------------------------------------ the cases


def decommission_mid_month_stops_billing_and_drops_scheduled_change(desk: Desk) -> None:
    desk.line("office-1", changes=[{"on": "2027-01-01", "price": "350.00"}])
    desk.apply("2026-10-01")
    assert desk.amounts("2027-01")["office-1"] == [("2027-01-01", "2027-01-31", "350.00", "charge")]
    desk.occupier["decommission"] = DECOMMISSION
    desk.apply("2026-11-15")
    assert desk.amounts("2026-11") == {
        "office-1": [("2026-11-01", "2026-11-14", "140.00", "charge")],
        "TOTAL": [(None, None, "140.00", "total")],
    }
    assert desk.rows("2026-12") == []
    assert desk.rows("2027-01") == [], "the scheduled price change went with the decommission"
    assert desk.events("office-1") == [
        ("2026-10-01", "activation", "2026-10-01"),
        ("2027-01-01", "change", "2026-10-01"),
        ("2026-11-15", "decommission", "2026-11-15"),
    ]


def removal_mid_month_is_prorated(desk: Desk) -> None:
    desk.line("office-a")
    desk.line("office-b")
    desk.apply("2026-10-20")
    del desk.services["office-b"]
    desk.apply("2026-11-15")
    november = desk.amounts("2026-11")
    assert november["office-a"] == [("2026-11-01", "2026-11-30", "300.00", "charge")]
    assert november["office-b"] == [("2026-11-01", "2026-11-14", "140.00", "charge")]
    assert november["TOTAL"][0][2] == "440.00"
    assert desk.amounts("2026-10")["office-b"] == [("2026-10-20", "2026-10-31", "116.13", "charge")]
    assert "office-b" not in desk.amounts("2026-12")
    assert desk.events("office-b")[-1] == ("2026-11-15", "removal", "2026-11-15")
    desk.apply("2026-11-20")
    assert len(desk.events("office-b")) == 2, "a converged apply records nothing"


def price_edit_after_close_leaves_the_closed_month(desk: Desk) -> None:
    desk.line("office-1")
    desk.apply("2026-10-01")
    code, out = desk.close("2026-10", "2026-11-01")
    assert code == 0 and "total 300.00" in out, out
    closed = {fmt: desk.report("2026-10", fmt) for fmt in ("json", "csv")}
    desk.services["office-1"]["price"] = "330.00"
    desk.apply("2026-11-10")
    assert {fmt: desk.report("2026-10", fmt) for fmt in ("json", "csv")} == closed
    assert desk.amounts("2026-11") == {
        "office-1": [
            ("2026-11-01", "2026-11-09", "90.00", "charge"),
            ("2026-11-10", "2026-11-30", "231.00", "charge"),
        ],
        "TOTAL": [(None, None, "321.00", "total")],
    }
    code, out = desk.close("2026-10", "2026-12-01")
    assert code == 1 and "already closed" in out
    code, out = desk.close("2026-11", "2026-11-30")
    assert code == 1 and "has not ended" in out


def correction_after_close_is_an_adjustment(desk: Desk) -> None:
    """An end date in a closed month, added later: the closed month does not change; the next
    open month reverses what was invoiced and charges what it should have been."""
    desk.line("office-1")
    desk.apply("2026-10-01")
    assert desk.close("2026-10", "2026-11-02")[0] == 0
    october = desk.report("2026-10", "csv")
    desk.services["office-1"]["end"] = "2026-10-20"
    desk.apply("2026-11-05")
    assert desk.report("2026-10", "csv") == october
    assert desk.amounts("2026-11") == {
        "office-1": [
            ("2026-10-01", "2026-10-20", "193.55", "correction"),
            ("2026-10-01", "2026-10-31", "-300.00", "reversal"),
        ],
        "TOTAL": [(None, None, "-106.45", "total")],
    }
    assert {r["adjusts"] for r in desk.rows("2026-11") if r["kind"] != "total"} == {"2026-10"}
    # once November is closed with its adjustment, December owes nothing more for October
    assert desk.close("2026-11", "2026-12-01")[0] == 0
    assert desk.rows("2026-12") == []


def s8_retired_line_stops_when_the_upgrade_is_active(desk: Desk) -> None:
    desk.line("internet-100", "internet-100")
    desk.apply("2026-10-01")
    desk.line("internet-1000", "internet-1000", replaces="internet-100")
    desk.apply("2026-11-11")
    november = desk.amounts("2026-11")
    assert november["internet-100"] == [("2026-11-01", "2026-11-10", "30.00", "charge")]
    assert november["internet-1000"] == [("2026-11-11", "2026-11-30", "166.67", "charge")]
    assert "internet-100" not in desk.amounts("2026-12")
    assert [kind for _, kind, _ in desk.events("internet-100")] == ["activation", "retirement"]


def failed_push_is_charged_from_provisioning(desk: Desk) -> None:
    """The router cannot be configured on 1 November (its file is a directory): the line is
    allocated but not Active, and nothing is charged; once an apply on the 11th provisions
    it, it is charged from the 11th (seed 003: the bill date is the day it goes Active)."""
    desk.add_router()
    desk.line("office-1")
    blocked = desk.root / "rendered" / "main-rtr1.router.conf" / "in-the-way"
    blocked.mkdir(parents=True)
    assert "FAILED main-rtr1" in desk.apply("2026-11-01", ok=False)
    assert desk.events("office-1") == [] and desk.rows("2026-11") == []
    blocked.rmdir()
    blocked.parent.rmdir()
    desk.apply("2026-11-11")
    assert desk.amounts("2026-11")["office-1"] == [("2026-11-11", "2026-11-30", "200.00", "charge")]
    assert desk.events("office-1") == [("2026-11-11", "activation", "2026-11-11")]


def threshold_counts_split_lines_together(desk: Desk) -> None:
    """Four Wi-Fi users with 2 included cost 2 × 3.00 whether on one line or two."""
    desk.line("wifi-a", "wifi-user", quantity=2)
    desk.line("wifi-b", "wifi-user", quantity=2)
    desk.apply("2026-10-01")
    rows = {r["service"]: r for r in desk.rows("2026-11") if r["kind"] == "charge"}
    assert (rows["wifi-a"]["included"], rows["wifi-a"]["chargeable"]) == (2, 0)
    assert (rows["wifi-b"]["included"], rows["wifi-b"]["chargeable"]) == (0, 2)
    assert (rows["wifi-a"]["amount"], rows["wifi-b"]["amount"]) == ("0.00", "6.00")
    # one more user from the 16th: 3 chargeable for 15 days
    desk.services["wifi-b"]["quantity"] = 3
    desk.apply("2026-12-16")
    december = desk.amounts("2026-12")
    assert december["wifi-b"] == [
        ("2026-12-01", "2026-12-15", "2.90", "charge"),
        ("2026-12-16", "2026-12-31", "4.65", "charge"),
    ]


def end_date_stops_billing_and_provisioning(desk: Desk) -> None:
    desk.line("office-1", end="2026-11-20")
    desk.apply("2026-10-01")
    assert desk.amounts("2026-11")["office-1"] == [("2026-11-01", "2026-11-20", "200.00", "charge")]
    assert desk.rows("2026-12") == []
    _, out = run(
        "report", desk.path, "--state", desk.ledger, "--today", "2026-11-21", "--format", "json"
    )
    assert {r["service"]: r["status"] for r in json.loads(out)}["office-1"] == "Inactive"


def discount_applies_between_its_dates(desk: Desk) -> None:
    discount = {"percent": "10", "start": "2026-11-11", "end": "2026-11-20"}
    desk.line("office-1", discounts=[discount])
    desk.apply("2026-10-01")
    november = desk.amounts("2026-11")
    assert november["office-1"] == [
        ("2026-11-01", "2026-11-10", "100.00", "charge"),
        ("2026-11-11", "2026-11-20", "90.00", "charge"),
        ("2026-11-21", "2026-11-30", "100.00", "charge"),
    ]
    assert [r["discount"] for r in desk.rows("2026-11")][:3] == ["0", "10", "0"]


def quarterly_is_invoiced_in_advance_and_prorated_on_change(desk: Desk) -> None:
    desk.line("office-q", payPeriod="quarterly")
    desk.apply("2026-10-01")
    october = desk.amounts("2026-10")
    assert [a for _, _, a, _ in october["office-q"]] == ["300.00", "300.00", "300.00"]
    assert desk.rows("2026-11") == []
    assert desk.close("2026-10", "2026-11-01")[0] == 0
    desk.services["office-q"]["quantity"] = 2
    desk.apply("2026-11-16")
    november = desk.amounts("2026-11")
    assert sorted(november["office-q"]) == sorted(
        [
            ("2026-11-16", "2026-11-30", "300.00", "charge"),
            ("2026-12-01", "2026-12-31", "600.00", "charge"),
            ("2026-11-01", "2026-11-15", "150.00", "correction"),
            ("2026-11-01", "2026-11-30", "-300.00", "reversal"),
            ("2026-12-01", "2026-12-31", "-300.00", "reversal"),
        ]
    )
    assert november["TOTAL"][0][2] == "450.00"


def stopped_is_not_charged_unless_the_catalogue_says(desk: Desk, charged: bool) -> None:
    desk.line("office-1")
    desk.apply("2026-10-01")
    desk.occupier["status"] = "Stopped"
    desk.apply("2026-11-11")
    _, out = run(
        "report", desk.path, "--state", desk.ledger, "--today", "2026-11-12", "--format", "json",
        "--service-status", "Stopped",
    )  # fmt: skip
    assert [r["service"] for r in json.loads(out)] == ["office-1"]
    del desk.occupier["status"]
    desk.apply("2026-11-21")
    november = desk.amounts("2026-11")
    if charged:
        assert november["TOTAL"][0][2] == "300.00"
    else:
        assert november["office-1"] == [
            ("2026-11-01", "2026-11-10", "100.00", "charge"),
            ("2026-11-21", "2026-11-30", "100.00", "charge"),
        ]


def history_shows_a_decommissioned_occupier(desk: Desk) -> None:
    desk.line("office-1")
    desk.apply("2026-10-01")
    desk.occupier["decommission"] = DECOMMISSION
    desk.apply("2026-11-15")
    code, out = run(
        "report", desk.path, "--state", desk.ledger, "--today", "2027-02-01", "--history",
        "--format", "json",
    )  # fmt: skip
    assert code == 0, out
    row = {r["service"]: r for r in json.loads(out)}["office-1"]
    assert (row["billed_from"], row["billed_to"], row["charged"]) == (
        "2026-10-01",
        "2026-11-14",
        "440.00",  # October 300.00 + 14 days of November 140.00
    )
    code, out = run(
        "report", desk.path, "--state", desk.ledger, "--today", "2027-02-01", "--format", "json"
    )
    assert all(r["occupier"] != "acme" for r in json.loads(out))


def csv_export_has_one_row_per_line_and_range_plus_totals(desk: Desk) -> None:
    desk.line("office-1")
    desk.line("office-2", changes=[{"on": "2026-11-16", "quantity": 2}])
    desk.apply("2026-10-01")
    table = list(csv.DictReader(io.StringIO(desk.report("2026-11", "csv"))))
    assert [(r["service"], r["from"], r["to"], r["amount"], r["kind"]) for r in table] == [
        ("office-1", "2026-11-01", "2026-11-30", "300.00", "charge"),
        ("office-2", "2026-11-01", "2026-11-15", "150.00", "charge"),
        ("office-2", "2026-11-16", "2026-11-30", "300.00", "charge"),
        ("", "", "", "750.00", "total"),
    ]
    assert {"occupier", "site", "contract", "definition", "days", "quantity", "included",
            "price"} <= set(table[0])  # fmt: skip


def old_ledger_migrates(desk: Desk, drop: Callable[[], None]) -> None:
    """A ledger written before the billing history (no billing tables, activations kept as
    statuses) gets the tables on the next apply and is charged from its activations."""
    desk.line("office-1")
    desk.apply("2026-10-01")
    drop()
    assert desk.rows("2026-10") == [], "reading an unmigrated ledger reports nothing, no error"
    desk.apply("2026-11-10")
    assert desk.amounts("2026-10")["office-1"] == [("2026-10-01", "2026-10-31", "300.00", "charge")]
    assert desk.amounts("2026-11")["TOTAL"][0][2] == "300.00"
