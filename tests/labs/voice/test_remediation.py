"""The pure halves of the voice drivers: remediation round trips (no server needed)."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from drivers import freeradius, kamailio
from drivers.kamailio import Entry

numbers = st.sampled_from([f"+4420794600{i:02d}" for i in range(8)])
entries = st.builds(
    Entry,
    state=st.sampled_from(["active", "cooling-off"]),
    occupier=st.sampled_from(["", "acme", "globex"]),
    until=st.sampled_from([None, "2026-03-01"]),
)
tables = st.dictionaries(numbers, entries, max_size=8)


@given(tables, tables)
def test_number_remediation_round_trip(
    running: dict[str, Entry], intended: dict[str, Entry]
) -> None:
    ops = kamailio.remediation(running, intended)
    assert kamailio.apply_operations(running, ops) == intended
    assert kamailio.remediation(intended, intended) == []
    assert len(ops) <= len(running.keys() | intended.keys())


def test_number_remediation_orders_deletes_first() -> None:
    ops = kamailio.remediation(
        {"+442079460002": Entry("active", "a")}, {"+442079460001": Entry("active", "b")}
    )
    assert [str(o) for o in ops] == [
        "delete +442079460002",
        "activate +442079460001 occupier=b",
    ]


rows = st.lists(
    st.tuples(
        st.sampled_from(["alice", "bob", "02-00-00-00-00-01"]),
        st.sampled_from(["Cleartext-Password", "Calling-Station-Id"]),
        st.sampled_from([":=", "=="]),
        st.sampled_from(["x", "y"]),
    ),
    max_size=6,
)
row_sets = st.builds(lambda r: {"radcheck": Counter(r)}, rows)


@given(row_sets, row_sets)
def test_radius_remediation_round_trip(
    running: dict[str, Counter[tuple[str, ...]]], intended: dict[str, Counter[tuple[str, ...]]]
) -> None:
    ops = freeradius.remediation(running, intended)
    after = freeradius.apply_operations(running, ops)
    assert +after.get("radcheck", Counter()) == +intended["radcheck"]
    assert freeradius.remediation(intended, intended) == []


def test_radius_operations_never_show_passwords() -> None:
    op = freeradius.RowOp("insert", "radcheck", ("alice", "Cleartext-Password", ":=", "s3cret"))
    assert "s3cret" not in str(op)
    assert str(op) == "radcheck + alice Cleartext-Password := ***"


def test_mac_spellings_are_normalised() -> None:
    for spelling in ("020000000001", "02:00:00:00:00:01", "0200.0000.0001", "02-00-00-00-00-01"):
        assert freeradius.normalise_mac(spelling) == "02-00-00-00-00-01"
