"""The pure allocators: lowest free value, never a reserved, gateway or excluded one, and —
driven by random allocate/release sequences — never two holders of one value."""

from __future__ import annotations

from datetime import date, timedelta
from ipaddress import IPv4Address, IPv4Network

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler import allocate
from reconciler.model.kinds import NumberBlock, PublicPool

POOL = PublicPool.model_validate(
    {
        "name": "transit",
        "cidr": "203.0.113.0/28",
        "gateway": "203.0.113.1",
        "exclude": ["203.0.113.2", "203.0.113.9"],
    }
)
BLOCKS = (NumberBlock.model_validate({"first": "+442079460000", "last": "+442079460019"}),)
SUPERNET = IPv4Network("10.64.0.0/22")
TODAY = date(2026, 11, 23)


def test_n1_vlan_is_lowest_free_and_never_reserved() -> None:
    assert allocate.next_vlan(100, 105, {100, 101}, set()) == 102
    assert allocate.next_vlan(100, 105, {100, 101}, {102, 103}) == 104
    assert allocate.next_vlan(100, 101, {100, 101}, set()) is None


def test_n1_prefix_is_lowest_free_and_gateway_is_first_host() -> None:
    first = allocate.next_prefix(SUPERNET, 24, [])
    assert first == IPv4Network("10.64.0.0/24")
    assert allocate.next_prefix(SUPERNET, 24, [first, IPv4Network("10.64.2.0/24")]) == IPv4Network(
        "10.64.1.0/24"
    )
    assert allocate.gateway_of(first) == IPv4Address("10.64.0.1")
    assert allocate.next_hop_of(first) == IPv4Address("10.64.0.2")
    full = list(SUPERNET.subnets(new_prefix=24))
    assert allocate.next_prefix(SUPERNET, 24, full) is None


def test_n2_public_address_skips_network_gateway_and_excluded() -> None:
    got = allocate.next_public([POOL], [])
    assert got == IPv4Network("203.0.113.3/32")
    block = allocate.next_public([POOL], [], 29)
    # 203.0.113.0/29 holds the gateway and an excluded address; 203.0.113.8/29 holds .9
    assert block is None
    block30 = allocate.next_public([POOL], [], 30)
    assert block30 == IPv4Network("203.0.113.4/30")


def test_t2_numbers_skip_held_and_cooling_off_until_the_date() -> None:
    cooling = {"+442079460000": TODAY + timedelta(days=90)}
    got = allocate.next_numbers(BLOCKS, {"+442079460001"}, cooling, TODAY, 2)
    assert got == ["+442079460002", "+442079460003"]
    later = allocate.next_numbers(BLOCKS, {"+442079460001"}, cooling, TODAY + timedelta(days=90), 1)
    assert later == ["+442079460000"]


def test_n3_ports_in_space_order_skipping_held() -> None:
    assert allocate.next_ports(["F1", "F2", "F3"], {"F1"}, 2) == ["F2", "F3"]
    assert allocate.next_ports(["F1"], {"F1"}, 1) == []


# One random step: allocate for a holder, or release one of its values.
steps = st.lists(
    st.tuples(
        st.sampled_from(["vlan", "prefix", "public", "block", "number", "port"]),
        st.booleans(),
        st.integers(0, 5),
        st.integers(0, 30),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=10_000, deadline=None)
@given(steps)
def test_n4_random_allocate_release_sequences_never_double_allocate(
    sequence: list[tuple[str, bool, int, int]],
) -> None:
    """10,000 random sequences: a held value is never handed out again, reserved / gateway /
    excluded values never at all, and a number in cooling-off not before its date."""
    held: dict[str, dict[str, int]] = {
        k: {} for k in ("vlan", "prefix", "public", "number", "port")
    }
    cooling: dict[str, date] = {}
    day = TODAY
    ports = [f"F{i:02d}" for i in range(12)]
    for kind, is_allocate, holder, days in sequence:
        day += timedelta(days=days)
        pool = "public" if kind == "block" else kind
        mine = [v for v, h in held[pool].items() if h == holder]
        if not is_allocate and mine:
            value = mine[0]
            del held[pool][value]
            if pool == "number":
                cooling[value] = day + timedelta(days=90)
            continue
        value: str | None
        if kind == "vlan":
            got = allocate.next_vlan(100, 110, {100, 105}, {int(v) for v in held["vlan"]})
            value = None if got is None else str(got)
            assert got not in (100, 105)
        elif kind == "prefix":
            net = allocate.next_prefix(SUPERNET, 26, [IPv4Network(v) for v in held["prefix"]])
            value = None if net is None else str(net)
        elif kind in ("public", "block"):
            length = 32 if kind == "public" else 30
            net = allocate.next_public([POOL], [IPv4Network(v) for v in held["public"]], length)
            value = None if net is None else str(net)
            if net is not None:
                forbidden = {
                    POOL.gateway,
                    *POOL.exclude,
                    POOL.cidr.network_address,
                    POOL.cidr.broadcast_address,
                }
                assert not any(a in net for a in forbidden)
                assert not any(net.overlaps(IPv4Network(v)) for v in held["public"])
        elif kind == "number":
            got_numbers = allocate.next_numbers(BLOCKS, set(held["number"]), cooling, day, 1)
            value = got_numbers[0] if got_numbers else None
            if value is not None:
                assert cooling.get(value, day) <= day
        else:
            got_ports = allocate.next_ports(ports, set(held["port"]), 1)
            value = got_ports[0] if got_ports else None
        if value is not None:
            assert value not in held[pool], f"{value} handed out twice"
            held[pool][value] = holder


@settings(max_examples=2_000, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 70), st.integers(1, 9)), max_size=25),
    st.sampled_from([1, 2, 4, 8, 16]),
    st.integers(0, 3),
)
def test_n1_lowest_free_is_the_lowest_aligned_block_that_overlaps_nothing_taken(
    held: list[tuple[int, int]], size: int, split: int
) -> None:
    """The merged ranges answer as a walk over every aligned block of the pool would, whether
    built at once or added one by one (in any order, overlapping or touching), and whether
    what is taken comes as one set of ranges or several."""
    ranges = [(start, start + length) for start, length in held]
    walk = next(
        (
            s
            for s in range(16, 80, size)
            if s + size <= 80 and not any(a < s + size and s < b for a, b in ranges)
        ),
        None,
    )
    at_once = allocate.Taken(ranges)
    one_by_one = allocate.Taken()
    for start, end in reversed(ranges):
        one_by_one.add(start, end)
    parts = (allocate.Taken(ranges[:split]), allocate.Taken(ranges[split:]))
    for taken in ((at_once,), (one_by_one,), parts):
        assert allocate.lowest_free(16, 80, size, taken) == walk
    assert at_once.starts == one_by_one.starts and at_once.ends == one_by_one.ends
    assert all(e < s for e, s in zip(at_once.ends, at_once.starts[1:], strict=False))
