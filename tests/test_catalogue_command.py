"""`tenantry catalogue OCCUPIER --site S`: seed 000's "Available services" list, with each
service's description, the rule that forbids the others, and the case to raise for services
that need one ("If you are adding an IVR service you will also need to raise a case")."""

from __future__ import annotations

import json
from pathlib import Path

from tests.rules.conftest import definition, occupier, service, site
from tests.test_validate_ledger import TODAY, folder, run, seed_example, write

IVR = definition(
    "ivr",
    "call-feature",
    requires=["voice-line"],
    maxPerOccupier=1,
    raiseCase="raise a case with the details of the IVR configuration",
)


def offers(root: Path, who: str = "acme", *args: str) -> dict[str, dict[str, object]]:
    code, out = run("catalogue", who, str(root), "--today", TODAY, "--format", "json", *args)
    assert code == 0, out
    return {row["definition"]: row for row in json.loads(out)}


def repo(tmp_path: Path) -> Path:
    root = folder(tmp_path)
    write(root, "ivr", IVR)
    seed_example(root)
    return root


def test_s5_catalogue_lists_available_services_with_their_descriptions(tmp_path: Path) -> None:
    found = offers(repo(tmp_path))
    available = sorted(name for name, row in found.items() if row["available"])
    assert available == ["internet-lan-100", "voice-line", "wifi-device", "wifi-user"]
    assert found["voice-line"]["description"] == "voice-line"
    assert found["voice-line"]["rrp"] == "12.00"


def test_s5_catalogue_says_which_rule_forbids_each_other_service(tmp_path: Path) -> None:
    reasons = {name: row["reason"] for name, row in offers(repo(tmp_path)).items()}
    assert reasons == {
        "adsl-legacy": "S4: inactive; it cannot be newly assigned",
        "call-recording": "S5: requires voice-line; add that first",
        "internet-lan-100": "",  # another line of the same: up to its quantity rule
        "internet-lan-1000": "S5: excludes internet-lan-100 (acme-net); to upgrade, add it "
        "with `replaces: acme-net`",
        "ivr": "S5: requires voice-line; add that first",
        "public-ip": "S5: at most 1 per occupier; has acme-ip",
        "voice-line": "",
        "wifi-device": "",
        "wifi-user": "",
    }


def test_s5_catalogue_hints_the_case_to_raise_for_an_ivr(tmp_path: Path) -> None:
    root = repo(tmp_path)
    write(root, "voice", service("acme-voice", "voice-line"))
    ivr = offers(root)["ivr"]
    assert (ivr["available"], ivr["case"]) == (
        True,
        "raise a case with the details of the IVR configuration",
    )
    code, out = run("catalogue", "acme", str(root), "--today", TODAY, "--site", "london-bridge")
    assert code == 0
    assert (
        "  + ivr                    ivr (rrp 10.00)\n"
        "      note: raise a case with the details of the IVR configuration\n" in out
    )


def test_s1_catalogue_offers_nothing_where_the_occupier_has_no_contract(tmp_path: Path) -> None:
    root = repo(tmp_path)
    write(root, "globex", occupier("globex"))
    write(root, "manchester", site("mcr"))
    found = offers(root, "acme", "--site", "mcr")
    assert {row["reason"] for row in found.values()} == {"S1: acme has no contract at mcr"}
    code, out = run("catalogue", "globex", str(root), "--today", TODAY)
    assert code == 64
    assert "globex has contracts at 0 sites (none): choose one with --site" in out


def test_s5_plan_notes_the_case_to_raise_for_a_new_ivr(tmp_path: Path) -> None:
    root = repo(tmp_path)
    write(root, "voice", service("acme-voice", "voice-line"), service("acme-ivr", "ivr"))
    state = str(tmp_path / "state.db")
    code, out = run("plan", str(root), "--today", TODAY, "--state", state)
    assert code == 2, out
    note = "service acme-ivr (ivr): raise a case with the details of the IVR configuration"
    assert f"note: {note}\n" in out
    code, out = run("plan", str(root), "--today", TODAY, "--state", state, "--format", "markdown")
    assert f"📝 {note}\n" in out
