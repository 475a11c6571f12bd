"""Pool utilization per site, and the warning when a change pushes a pool to `POOL_WARNING`
or more. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler import allocate
from reconciler.findings import Finding, warning
from reconciler.ledger.model import Holdings, Kind
from reconciler.model.repo import Repo

POOL_WARNING = 0.9  # the share of a pool in use at which plan and report warn


@dataclass(frozen=True)
class PoolUse:
    """How much of one pool of one site is held."""

    site: str
    pool: str
    used: int
    size: int

    @property
    def ratio(self) -> float:
        return self.used / self.size if self.size else 0.0


def pool_usage(repo: Repo, holdings: Holdings) -> list[PoolUse]:
    """Utilization per site of VLANs, prefixes, public addresses, numbers and floor ports."""
    out = []
    for site in sorted(repo.sites.values(), key=lambda s: s.name):
        spec = site.spec
        first, last = spec.vlans.bounds
        vlan_size = max(last - first + 1 - len(set(spec.vlans.reserved)), 0)
        supernet = spec.private_supernet
        prefix_size = (
            2 ** (supernet.prefix_length - supernet.cidr.prefixlen)
            if supernet.prefix_length > supernet.cidr.prefixlen
            else 0
        )
        public_size = sum(
            p.cidr.num_addresses - len(allocate.unusable(p)) for p in spec.public_pools
        )
        public_used = sum(  # "a.b.c.d/29" → 8, without parsing the address
            2 ** (32 - allocate.prefix_length(v)) for v in holdings.values(site.name, Kind.PUBLIC)
        )
        number_size = sum(
            int(b.last[1:]) - int(b.first[1:]) + 1 for b in spec.number_blocks if b.last >= b.first
        )
        port_size = sum(len(s.floor_ports) for s in spec.spaces)
        out += [
            PoolUse(site.name, "VLANs", len(holdings.values(site.name, Kind.VLAN)), vlan_size),
            PoolUse(
                site.name, "prefixes", len(holdings.values(site.name, Kind.PREFIX)), prefix_size
            ),
            PoolUse(site.name, "public IPs", public_used, public_size),
            PoolUse(
                site.name, "numbers", len(holdings.values(site.name, Kind.NUMBER)), number_size
            ),
            PoolUse(
                site.name, "floor ports", len(holdings.values(site.name, Kind.PORT)), port_size
            ),
        ]
    return out


def pool_warnings(repo: Repo, before: Holdings, after: Holdings) -> list[Finding]:
    """A change that pushes a pool to POOL_WARNING or more is worth a warning in the PR."""
    old = {(u.site, u.pool): u for u in pool_usage(repo, before)}
    found = []
    for use in pool_usage(repo, after):
        prior = old.get((use.site, use.pool))
        if use.size and use.ratio >= POOL_WARNING and (prior is None or use.used > prior.used):
            site = repo.sites[use.site]
            found.append(
                warning(
                    "N4",
                    repo.source(site),
                    ("spec",),
                    f"site {use.site}: {use.pool} at {use.used}/{use.size} "
                    f"({use.ratio:.0%}) after this change",
                    "extend the pool",
                )
            )
    return found
