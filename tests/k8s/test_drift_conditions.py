"""The Drifted condition and events of the operator's drift check, from the pure functions
(reconciler/operator/drift.py): a device that cannot be read makes its Site Unknown, never
in sync; a check that finds the same drift again writes and posts nothing; a repair clears
the condition with reason Repaired."""

from __future__ import annotations

from typing import Any

from reconciler.drift import DeviceDrift, Difference, DriftReport
from reconciler.model.repo import Ref
from reconciler.operator.drift import DriftCheck, updates

SITE, ACME, GLOBEX = Ref("Site", "lb"), Ref("Occupier", "acme"), Ref("Occupier", "globex")
PORT = Difference("port Gi1/0/1", "vlan 150, up", "vlan 102, up", "acme", ("acme-net",))


def bodies(conditions: dict[Ref, list[dict[str, Any]]] | None = None) -> dict[Ref, Any]:
    found = conditions or {}
    return {ref: {"metadata": {"generation": 1}, "status": {"conditions": found.get(ref, [])}}
            for ref in (SITE, ACME, GLOBEX)}


def drifted(conditions: list[dict[str, Any]]) -> dict[str, Any]:
    [found] = [c for c in conditions if c["type"] == "Drifted"]
    return found


def test_drift_then_the_same_drift_again_then_repaired() -> None:
    check = DriftCheck(DriftReport([DeviceDrift("lb", "lb-sw1", "cisco_iosxe", (PORT,))]))
    written, events = updates(check, bodies(), "2026-11-23T10:00:00Z")
    assert drifted(written[ACME])["status"] == "True"
    assert drifted(written[SITE])["message"] == (
        "lb-sw1: port Gi1/0/1 has vlan 150, up, should have vlan 102, up")
    assert drifted(written[GLOBEX])["reason"] == "InSync"
    assert {(e.ref, e.reason) for e in events} == {(SITE, "Drifted"), (ACME, "Drifted")}

    again, events = updates(check, bodies(written), "2026-11-23T10:05:00Z")
    assert again == {} and events == []  # nothing new: no write, no event

    check.repaired = [("lb-sw1", "port Gi1/0/1", "vlan 150, up", "vlan 102, up")]
    cleared, events = updates(check, bodies(written), "2026-11-23T10:10:00Z")
    assert drifted(cleared[ACME])["status"] == "False"
    assert drifted(cleared[ACME])["reason"] == "Repaired"
    assert {(e.ref, e.reason) for e in events} == {(SITE, "DriftRepaired"),
                                                   (ACME, "DriftRepaired")}


def test_an_unreadable_device_makes_its_site_unknown() -> None:
    check = DriftCheck(DriftReport([DeviceDrift("lb", "lb-rtr1", "frr", (), "unreachable")]))
    written, events = updates(check, bodies(), "2026-11-23T10:00:00Z")
    site = drifted(written[SITE])
    assert (site["status"], site["reason"]) == ("Unknown", "DeviceUnreadable")
    assert "lb-rtr1: unreachable" in site["message"]
    assert [(e.ref, e.type, e.reason) for e in events] == [
        (SITE, "Warning", "DeviceUnreadable")]
