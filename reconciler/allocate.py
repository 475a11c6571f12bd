"""Pure allocators, one per resource, in the shape of Cluster API's in-cluster IPAM:
(pool, what is held, request) → the next free value, or None when the pool is exhausted.

They never remember anything: the ledger records holders and its UNIQUE constraints make an
allocation unique; these functions only decide which value is next, always the lowest free
one, so the same repo and ledger give the same answer (N4).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import date
from ipaddress import IPv4Address, IPv4Network

from reconciler.model.kinds import NumberBlock, PublicPool


class Taken:
    """What a pool has taken, as sorted, disjoint, merged [start, end) integer ranges: a run of
    consecutive allocations is one range, so the lowest free value is found by bisection and a
    jump past each range, not by walking past every taken value (a pool of thousands, asked
    thousands of times in one plan, stays linear)."""

    __slots__ = ("ends", "starts")

    def __init__(self, ranges: Iterable[tuple[int, int]] = ()) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        for start, end in sorted(ranges):
            if self.ends and start <= self.ends[-1]:
                self.ends[-1] = max(self.ends[-1], end)
            else:
                self.starts.append(start)
                self.ends.append(end)

    def add(self, start: int, end: int) -> None:
        low = bisect_left(self.ends, start)  # the first range that ends at or after start
        high = bisect_right(self.starts, end)  # past the last range that starts by end
        if low < high:
            start, end = min(start, self.starts[low]), max(end, self.ends[high - 1])
        self.starts[low:high] = [start]
        self.ends[low:high] = [end]

    def blocking(self, start: int, end: int) -> int | None:
        """The end of the taken range that overlaps [start, end), or None when none does."""
        i = bisect_left(self.starts, end)
        return self.ends[i - 1] if i and self.ends[i - 1] > start else None


def lowest_free(first: int, end: int, size: int, taken: Sequence[Taken]) -> int | None:
    """The pure allocator of every integer pool: the lowest [s, s + size) aligned on `size`
    from `first` that lies in [first, end) and overlaps nothing in `taken`; None when the pool
    is exhausted."""
    start = first
    while start + size <= end:
        blocked = None
        for ranges in taken:
            found = ranges.blocking(start, start + size)
            if found is not None and (blocked is None or found > blocked):
                blocked = found
        if blocked is None:
            return start
        start += -(-(blocked - start) // size) * size  # the first aligned start past it
    return None


def span_of(value: str) -> tuple[int, int]:
    """ "a.b.c.d/n" (or an address) → the [start, end) integers it covers, without building
    ipaddress objects."""
    address, _, length = value.partition("/")
    a, b, c, d = address.split(".")
    start = (int(a) << 24) | (int(b) << 16) | (int(c) << 8) | int(d)
    return start, start + (1 << (32 - int(length or 32)))


def dotted(address: int) -> str:
    """An IPv4 address as text, the way ipaddress writes it."""
    return f"{address >> 24}.{(address >> 16) & 255}.{(address >> 8) & 255}.{address & 255}"


def next_vlan(
    first: int, last: int, reserved: Collection[int], held: Collection[int]
) -> int | None:
    """N1: the lowest VLAN of the site range that is neither reserved nor held."""
    taken = Taken((v, v + 1) for v in (*reserved, *held))
    return lowest_free(first, last + 1, 1, (taken,))


def next_prefix(
    supernet: IPv4Network, length: int, held: Iterable[IPv4Network]
) -> IPv4Network | None:
    """N1: the lowest /length of the supernet that overlaps nothing held."""
    first, end = range_of(supernet)
    found = lowest_free(first, end, 1 << (32 - length), (Taken(map(range_of, held)),))
    return None if found is None else IPv4Network((found, length))


def range_of(net: IPv4Network) -> tuple[int, int]:
    start = int(net.network_address)
    return start, start + net.num_addresses


def _base(prefix: IPv4Network | str) -> int:
    if isinstance(prefix, IPv4Network):
        return int(prefix.network_address)
    return span_of(prefix)[0]  # the planner keeps prefixes as text


def prefix_length(value: str) -> int:
    """The prefix length of "a.b.c.d/n" without parsing the address."""
    return int(value.rpartition("/")[2])


def address_key(value: str) -> tuple[int, ...]:
    """Numeric order of "a.b.c.d/n" values, without building network objects."""
    address, _, length = value.partition("/")
    return (*(int(part) for part in address.split(".")), int(length or 32))


def gateway_of(prefix: IPv4Network | str) -> IPv4Address:
    """The router's address in an occupier prefix (first host); never handed to a device."""
    return IPv4Address(_base(prefix) + 1)


def next_hop_of(prefix: IPv4Network | str) -> IPv4Address:
    """Where the router sends an occupier's public addresses: the second host of its prefix
    (the occupier's own router or firewall)."""
    return IPv4Address(_base(prefix) + 2)


def unusable(pool: PublicPool) -> set[IPv4Address]:
    """The addresses of a public pool never handed out: network, broadcast, gateway, excluded."""
    net = pool.cidr
    return {net.network_address, net.broadcast_address, pool.gateway, *pool.exclude}


def unusable_of(pool: PublicPool) -> Taken:
    """`unusable` as taken ranges of one address each."""
    return Taken((int(a), int(a) + 1) for a in unusable(pool))


PublicRange = tuple[int, int, Taken]  # a public pool's [first, end) and its unusable addresses


def public_ranges(pools: Sequence[PublicPool]) -> list[PublicRange]:
    return [(*range_of(pool.cidr), unusable_of(pool)) for pool in pools]


def lowest_public(pools: Sequence[PublicRange], length: int, taken: Sequence[Taken]) -> int | None:
    """N2: the start of the lowest free /length of the first pool that has one."""
    for first, end, never in pools:
        found = lowest_free(first, end, 1 << (32 - length), (*taken, never))
        if found is not None:
            return found
    return None


def next_public(
    pools: Sequence[PublicPool], held: Iterable[IPv4Network], length: int = 32
) -> IPv4Network | None:
    """N2: the lowest free public address (/32) or aligned block (/30, /29) of the site's pools,
    never the network, broadcast, gateway or an excluded address."""
    found = lowest_public(public_ranges(pools), length, (Taken(map(range_of, held)),))
    return None if found is None else IPv4Network((found, length))


def numbers_of(blocks: Sequence[NumberBlock]) -> Iterator[str]:
    """Every number of the site's blocks in order, keeping the leading '+' and width."""
    for block in blocks:
        width = len(block.first) - 1
        for value in range(int(block.first[1:]), int(block.last[1:]) + 1):
            yield f"+{value:0{width}d}"


def next_numbers(
    blocks: Sequence[NumberBlock],
    held: Collection[str],
    cooling_until: Mapping[str, date],
    today: date,
    count: int,
) -> list[str]:
    """T2: the lowest `count` numbers that are not held and not in cooling-off on `today`.
    Returns fewer when the blocks run out."""
    found: list[str] = []
    if count <= 0:
        return found
    for number in numbers_of(blocks):
        until = cooling_until.get(number)
        if number in held or (until is not None and until > today):
            continue
        found.append(number)
        if len(found) == count:
            break
    return found


def next_ports(candidates: Sequence[str], held: Collection[str], count: int) -> list[str]:
    """N3: the first `count` floor ports of the occupier's spaces (in the site's order) that
    nobody holds."""
    return [fp for fp in candidates if fp not in held][: max(count, 0)]
