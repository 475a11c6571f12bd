"""Pure allocators, one per resource, in the shape of Cluster API's in-cluster IPAM:
(pool, what is held, request) → the next free value, or None when the pool is exhausted.

They never remember anything: the ledger records holders and its UNIQUE constraints make an
allocation unique; these functions only decide which value is next, always the lowest free
one, so the same repo and ledger give the same answer (N4).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import date
from ipaddress import IPv4Address, IPv4Network

from reconciler.model.kinds import NumberBlock, PublicPool


def next_vlan(
    first: int, last: int, reserved: Collection[int], held: Collection[int]
) -> int | None:
    """N1: the lowest VLAN of the site range that is neither reserved nor held."""
    for vlan in range(first, last + 1):
        if vlan not in reserved and vlan not in held:
            return vlan
    return None


def next_prefix(
    supernet: IPv4Network, length: int, held: Iterable[IPv4Network]
) -> IPv4Network | None:
    """N1: the lowest /length of the supernet that overlaps nothing held."""
    return _lowest_free(supernet, length, held, set())


def _lowest_free(
    pool: IPv4Network, length: int, held: Iterable[IPv4Network], unusable: set[IPv4Address]
) -> IPv4Network | None:
    """Walks the aligned /length blocks of `pool` as integers (creating a network object only
    for a candidate that passes), so a pool of thousands stays cheap."""
    same, other = _split(held, length)
    starts = {int(net.network_address) for net in same}
    bad = sorted(int(a) for a in unusable)
    step = 2 ** (32 - length)
    first = int(pool.network_address)
    for start in range(first, first + pool.num_addresses, step):
        if start in starts or any(start <= a < start + step for a in bad):
            continue
        candidate = IPv4Network((start, length))
        if not any(candidate.overlaps(net) for net in other):
            return candidate
    return None


def _split(held: Iterable[IPv4Network], length: int) -> tuple[set[IPv4Network], list[IPv4Network]]:
    """Held networks of the requested length (a set lookup) and the others (an overlap test):
    most pools hold one size, so the common case stays a hash lookup per candidate."""
    same: set[IPv4Network] = set()
    other: list[IPv4Network] = []
    for net in held:
        (same.add(net) if net.prefixlen == length else other.append(net))
    return same, other


def _base(prefix: IPv4Network | str) -> int:
    if isinstance(prefix, IPv4Network):
        return int(prefix.network_address)
    return int(IPv4Address(prefix.partition("/")[0]))  # the planner keeps prefixes as text


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


def next_public(
    pools: Sequence[PublicPool], held: Iterable[IPv4Network], length: int = 32
) -> IPv4Network | None:
    """N2: the lowest free public address (/32) or aligned block (/30, /29) of the site's pools,
    never the network, broadcast, gateway or an excluded address."""
    taken = list(held)
    for pool in pools:
        found = _lowest_free(pool.cidr, length, taken, unusable(pool))
        if found is not None:
            return found
    return None


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
