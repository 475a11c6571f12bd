"""`set_condition`: the one pure function that sets a condition by type (the operator's Ready,
Reconciling, Stalled; the drift check's Drifted), in Kubernetes' condition shape."""

from __future__ import annotations

from reconciler.model.status import Condition, ConditionType, set_condition

T1, T2 = "2026-11-23T10:00:00Z", "2026-11-23T11:00:00Z"


def test_a_new_condition_is_appended_with_the_generation() -> None:
    out = set_condition([], ConditionType.READY, True, "Reconciled", "applied", 3, T1)
    assert out == [
        {
            "type": "Ready",
            "status": "True",
            "reason": "Reconciled",
            "message": "applied",
            "lastTransitionTime": T1,
            "observedGeneration": 3,
        }
    ]
    Condition.model_validate(out[0])


def test_the_transition_time_moves_only_when_the_status_changes() -> None:
    first = set_condition([], ConditionType.READY, False, "Waiting", "no contract", 1, T1)
    same = set_condition(first, ConditionType.READY, False, "Retrying", "device down", 2, T2)
    assert same[0]["lastTransitionTime"] == T1
    assert (same[0]["reason"], same[0]["observedGeneration"]) == ("Retrying", 2)
    flipped = set_condition(same, ConditionType.READY, True, "Reconciled", "applied", 2, T2)
    assert flipped[0]["lastTransitionTime"] == T2 and flipped[0]["status"] == "True"


def test_other_conditions_are_kept_in_place() -> None:
    """The operator's write keeps a Drifted condition another writer set, and its place."""
    drifted = set_condition([], ConditionType.DRIFTED, True, "DeviceDiffers", "lb-sw1", 1, T1)
    both = set_condition(drifted, ConditionType.READY, True, "Reconciled", "applied", 1, T2)
    assert [c["type"] for c in both] == ["Drifted", "Ready"]
    assert both[0] == drifted[0]
    cleared = set_condition(both, ConditionType.DRIFTED, False, "InSync", "", 1, T2)
    assert [c["type"] for c in cleared] == ["Drifted", "Ready"]
    assert cleared[0]["lastTransitionTime"] == T2 and cleared[0]["status"] == "False"
