"""Network rules N1–N3 as far as they hold without a ledger, and reference integrity."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping
from datetime import date
from ipaddress import IPv4Network
from typing import cast

from reconciler.catalogue import decommissioned, holds, site_facts
from reconciler.findings import Finding, error
from reconciler.model.kinds import (
    AnyOf,
    Category,
    Contract,
    FloorPortActivation,
    MainNumber,
    NumberActivation,
    Service,
    Site,
    WifiDevice,
)
from reconciler.model.repo import Repo
from reconciler.rules.context import Context

# What an occupier declares at a site (`references` checks that the site is declared).
Placed = FloorPortActivation | NumberActivation | WifiDevice | MainNumber
# A spec's fields that name other documents, each with the documents that declare such names.
Named = tuple[tuple[str, Mapping[str, object]], ...]


def references(repo: Repo, ctx: Context) -> Iterator[Finding]:
    """Every name a document uses must be declared: no dangling references."""
    occupiers, sites, definitions = repo.occupiers, repo.sites, repo.definitions
    # the common case, every name declared, is seen from the (occupier, site) the indexes
    # hold and the definitions the lines use; only then is each document looked at
    if not _declared(repo.contracts_at, occupiers, sites):
        named: Named = (("occupier", occupiers), ("site", sites))
        for contract in repo.contracts.values():
            yield from _undeclared(repo, contract, "contract", named)
    used = {line.spec.definition for line in repo.services.values()}
    if not (_declared(repo.services_at, occupiers, sites) and used <= definitions.keys()):
        named = (("occupier", occupiers), ("site", sites), ("definition", definitions))
        for service in repo.services.values():
            yield from _undeclared(repo, service, "service", named)
    for definition in repo.definitions.values():
        for index, entry in enumerate(definition.spec.requires):
            names = entry.any_of if isinstance(entry, AnyOf) else [entry]
            for name in names:
                if name not in repo.definitions:
                    yield error(
                        "ref",
                        repo.source(definition),
                        ("spec", "requires", index),
                        f"{definition.name} requires unknown definition '{name}'",
                    )
        for index, name in enumerate(definition.spec.excludes):
            if name not in repo.definitions:
                yield error(
                    "ref",
                    repo.source(definition),
                    ("spec", "excludes", index),
                    f"{definition.name} excludes unknown definition '{name}'",
                )
    for occupier in repo.occupiers.values():
        spec = occupier.spec
        activations = spec.activations
        placed: tuple[Placed, ...] = (
            *activations.floor_ports,
            *activations.numbers,
            *spec.wifi_devices,
            *spec.main_numbers,
        )
        if {at.site for at in placed} <= sites.keys():
            continue  # the common case
        located: list[tuple[tuple[str | int, ...], str]] = [
            (("activations", "floorPorts", i), a.site)
            for i, a in enumerate(spec.activations.floor_ports)
        ]
        located += [
            (("activations", "numbers", i), a.site) for i, a in enumerate(spec.activations.numbers)
        ]
        located += [(("wifiDevices", i), d.site) for i, d in enumerate(spec.wifi_devices)]
        located += [(("mainNumbers", i), m.site) for i, m in enumerate(spec.main_numbers)]
        for path, site in located:
            if site not in repo.sites:
                yield error(
                    "ref",
                    repo.source(occupier),
                    ("spec", *path, "site"),
                    f"occupier {occupier.name}: site '{site}' is not declared",
                )


def _declared(
    at: Collection[tuple[str, str]], occupiers: Mapping[str, object], sites: Mapping[str, object]
) -> bool:
    """Whether every (occupier, site) of an index names a declared occupier and site."""
    return {o for o, _ in at} <= occupiers.keys() and {s for _, s in at} <= sites.keys()


def _undeclared(
    repo: Repo,
    doc: Contract | Service,
    what: str,
    named: Named,
) -> Iterator[Finding]:
    """A finding for each name in the document's spec (`named`) that nothing declares."""
    for field, declared in named:
        value = getattr(doc.spec, field)
        if value not in declared:
            yield error(
                "ref",
                repo.source(doc),
                ("spec", field),
                f"{what} {doc.name}: {field} '{value}' is not declared",
            )


def n1_vlans_and_prefixes(repo: Repo, ctx: Context) -> Iterator[Finding]:
    """Each occupier gets its own VLAN from the site range (never a reserved one) and its own
    prefix from the site supernet: the pools must be well-formed for that."""
    for site in repo.sites.values():
        vlans = site.spec.vlans
        first, last = vlans.bounds
        if not 1 <= first <= last <= 4094:
            yield error(
                "N1",
                repo.source(site),
                ("spec", "vlans", "range"),
                f"site {site.name}: VLAN range {vlans.range} must be within 1-4094, first ≤ last",
            )
            continue
        for index, vlan in enumerate(vlans.reserved):
            if not first <= vlan <= last:
                yield error(
                    "N1",
                    repo.source(site),
                    ("spec", "vlans", "reserved", index),
                    f"site {site.name}: reserved VLAN {vlan} is outside the range {vlans.range}",
                )
        for field in ("parking", "voice"):
            vlan = getattr(vlans, field)
            if vlan is not None and first <= vlan <= last and vlan not in vlans.reserved:
                yield error(
                    "N1",
                    repo.source(site),
                    ("spec", "vlans", field),
                    f"site {site.name}: {field} VLAN {vlan} is inside the occupier range "
                    f"{vlans.range}",
                    "reserve it or move it outside the range",
                )
        supernet = site.spec.private_supernet
        if supernet.prefix_length <= supernet.cidr.prefixlen:
            yield error(
                "N1",
                repo.source(site),
                ("spec", "privateSupernet", "prefixLength"),
                f"site {site.name}: per-occupier prefix /{supernet.prefix_length} must "
                f"be longer than the supernet {supernet.cidr}",
            )
        for index, pool in enumerate(site.spec.public_pools):
            if pool.cidr.overlaps(supernet.cidr):
                yield error(
                    "N1",
                    repo.source(site),
                    ("spec", "publicPools", index, "cidr"),
                    f"site {site.name}: public pool {pool.cidr} overlaps the private "
                    f"supernet {supernet.cidr}",
                )


def n2_public_pools(repo: Repo, ctx: Context) -> Iterator[Finding]:
    """Public addresses come from well-formed, non-overlapping pools; never the gateway or an
    excluded address, so both must lie inside their pool."""
    seen: list[tuple[IPv4Network, str, int, int]] = []  # pool, where, first and last address
    for site in sorted(repo.sites.values(), key=lambda s: s.name):
        names: set[str] = set()
        for index, pool in enumerate(site.spec.public_pools):
            path = ("spec", "publicPools", index)
            if pool.name in names:
                yield error(
                    "N2",
                    repo.source(site),
                    (*path, "name"),
                    f"site {site.name}: public pool name {pool.name} used twice",
                )
            names.add(pool.name)
            net = pool.cidr
            if pool.gateway not in net or pool.gateway in (
                net.network_address,
                net.broadcast_address,
            ):
                yield error(
                    "N2",
                    repo.source(site),
                    (*path, "gateway"),
                    f"site {site.name}: gateway {pool.gateway} is not a host address of {net}",
                )
            for i, address in enumerate(pool.exclude):
                if address not in net:
                    yield error(
                        "N2",
                        repo.source(site),
                        (*path, "exclude", i),
                        f"site {site.name}: excluded address {address} is outside {net}",
                    )
            first, last = int(net.network_address), int(net.broadcast_address)
            for other, where, other_first, other_last in seen:
                if first <= other_last and other_first <= last:  # net.overlaps(other)
                    yield error(
                        "N2",
                        repo.source(site),
                        (*path, "cidr"),
                        f"site {site.name}: public pool {net} overlaps {other} ({where})",
                    )
            seen.append((net, f"{site.name}/{pool.name}", first, last))
    for definition in repo.definitions.values():
        infra = definition.spec.infrastructure
        if infra.public_ips and infra.public_prefix_length:
            yield error(
                "N2",
                repo.source(definition),
                ("spec", "infrastructure"),
                f"{definition.name}: give publicIPs or publicPrefixLength, not both",
            )
    # lines of a definition that needs public addresses at a site without pools; both are
    # few, so a line is one look-up
    public = {
        name
        for name, d in repo.definitions.items()
        if d.spec.infrastructure.public_ips
        or d.spec.infrastructure.public_prefix_length
        or d.spec.category is Category.PUBLIC_IP
    }
    poolless = {name for name, site in repo.sites.items() if not site.spec.public_pools}
    if not public or not poolless:
        return
    for service in repo.services.values():
        line = service.spec
        if line.definition in public and line.site in poolless:
            yield error(
                "N2",
                repo.source(service),
                ("spec", "definition"),
                f"service {service.name} needs public addresses but site {line.site} has "
                "no publicPools",
            )


def n3_floor_ports(repo: Repo, ctx: Context) -> Iterator[Finding]:
    """Switch ports come from the floor ports in the spaces of the occupier's contracts: each
    floor port is in one space and behind one switch port; each activation uses one of the
    occupier's floor ports, and no floor port is used twice."""
    cabled: dict[str, dict[str, str]] = {}
    spaces: dict[str, set[str]] = {}
    facts = site_facts(repo)
    for site in repo.sites.values():
        key = ("N3 cabling", site.metadata.name)
        if key not in facts:
            facts[key] = _cabling(repo, site)
        found, space_of, names = cast(
            tuple[list[Finding], dict[str, str], set[str]], facts[key]
        )
        cabled[site.metadata.name], spaces[site.metadata.name] = space_of, names
        yield from found
    yield from _contract_spaces(repo, ctx, spaces)
    yield from _activated_floor_ports(repo, ctx, cabled)


def _cabling(repo: Repo, site: Site) -> tuple[list[Finding], dict[str, str], set[str]]:
    """N3 on one site's document alone: its findings, the space of each floor port, and the
    names of its spaces. A well-formed site (the common case) is recognised by counting
    names; only another is walked port by port to say what is wrong (`_miscabling`).
    Remembered per site: the timeline runs N3 again on repos cut down to a few occupiers."""
    spec = site.spec
    space_of = {port: space.name for space in spec.spaces for port in space.floor_ports}
    space_names = {space.name for space in spec.spaces}
    behind = [port.floor_port for switch in spec.switches for port in switch.ports]
    well_formed = (
        len(space_of) == sum(len(space.floor_ports) for space in spec.spaces)  # none twice
        and len(space_names) == len(spec.spaces)
        and len({switch.name for switch in spec.switches}) == len(spec.switches)
        and all(len({p.interface for p in s.ports}) == len(s.ports) for s in spec.switches)
        and len(set(behind)) == len(behind)
        and space_of.keys() == set(behind)  # each cabled port in a space, and the reverse
    )
    if well_formed:
        return [], space_of, space_names
    return _miscabling(repo, site)


def _miscabling(repo: Repo, site: Site) -> tuple[list[Finding], dict[str, str], set[str]]:
    """`_cabling` of a site that is not well-formed, with a finding for each fault."""
    found: list[Finding] = []
    space_of: dict[str, str] = {}
    space_names: set[str] = set()
    for s_index, space in enumerate(site.spec.spaces):
        if space.name in space_names:
            found.append(
                error(
                    "N3",
                    repo.source(site),
                    ("spec", "spaces", s_index, "name"),
                    f"site {site.name}: space {space.name} declared twice",
                )
            )
        space_names.add(space.name)
        for f_index, floor_port in enumerate(space.floor_ports):
            if floor_port in space_of:
                found.append(
                    error(
                        "N3",
                        repo.source(site),
                        ("spec", "spaces", s_index, "floorPorts", f_index),
                        f"site {site.name}: floor port {floor_port} is in both "
                        f"{space_of[floor_port]} and {space.name}",
                    )
                )
            space_of[floor_port] = space.name
    behind: dict[str, tuple[str, str]] = {}  # floor port → switch and interface
    switch_names: set[str] = set()
    for w_index, switch in enumerate(site.spec.switches):
        if switch.name in switch_names:
            found.append(
                error(
                    "N3",
                    repo.source(site),
                    ("spec", "switches", w_index, "name"),
                    f"site {site.name}: switch {switch.name} declared twice",
                )
            )
        switch_names.add(switch.name)
        interfaces: set[str] = set()
        for p_index, port in enumerate(switch.ports):
            interface, floor_port = port.interface, port.floor_port
            if interface in interfaces:
                found.append(
                    error(
                        "N3",
                        repo.source(site),
                        ("spec", "switches", w_index, "ports", p_index, "interface"),
                        f"site {site.name}: {switch.name} {interface} is listed twice",
                    )
                )
            interfaces.add(interface)
            if floor_port in behind:
                other, other_interface = behind[floor_port]
                found.append(
                    error(
                        "N3",
                        repo.source(site),
                        ("spec", "switches", w_index, "ports", p_index, "floorPort"),
                        f"site {site.name}: floor port {floor_port} is behind both "
                        f"{other} {other_interface} and {switch.name} {interface}",
                    )
                )
            behind[floor_port] = (switch.name, interface)
            if floor_port not in space_of:
                found.append(
                    error(
                        "N3",
                        repo.source(site),
                        ("spec", "switches", w_index, "ports", p_index, "floorPort"),
                        f"site {site.name}: floor port {floor_port} is not in any space",
                    )
                )
    for s_index, space in enumerate(site.spec.spaces):
        for f_index, floor_port in enumerate(space.floor_ports):
            if floor_port not in behind:
                found.append(
                    error(
                        "N3",
                        repo.source(site),
                        ("spec", "spaces", s_index, "floorPorts", f_index),
                        f"site {site.name}: floor port {floor_port} is not behind any switch "
                        "port",
                        "add it to a switch's ports",
                    )
                )
    return found, space_of, space_names


def _contract_spaces(
    repo: Repo, ctx: Context, spaces: dict[str, set[str]]
) -> Iterator[Finding]:
    holders: dict[tuple[str, str], list[str]] = defaultdict(list)
    for name in sorted(repo.contracts):
        contract = repo.contracts[name]
        lease = contract.spec
        names = spaces.get(lease.site)
        if names is None:
            continue  # unknown site: reported by `ref`
        # a contract that has ended, or whose occupier is decommissioned (D3), leaves its
        # spaces free for the next occupier
        leased = holds(contract, ctx.today) and not decommissioned(
            repo.occupiers.get(lease.occupier), ctx.today
        )
        for index, space in enumerate(lease.spaces):
            if space not in names:
                yield error(
                    "N3",
                    repo.source(contract),
                    ("spec", "spaces", index),
                    f"contract {name}: site {lease.site} has no space '{space}'",
                )
                continue
            if not leased:
                continue
            others = holders[lease.site, space]
            for other_name in others:
                other = repo.contracts[other_name]
                if other.spec.occupier != lease.occupier and _overlap(contract, other):
                    yield error(
                        "N3",
                        repo.source(contract),
                        ("spec", "spaces", index),
                        f"space {space} at {lease.site} is leased to both "
                        f"{other.spec.occupier} ({other_name}) and "
                        f"{lease.occupier} ({name}) at the same time",
                    )
            others.append(name)


def _overlap(a: Contract, b: Contract) -> bool:
    far = date.max
    return a.spec.start <= (b.spec.end or far) and b.spec.start <= (a.spec.end or far)


def _activated_floor_ports(
    repo: Repo, ctx: Context, cabled: dict[str, dict[str, str]]
) -> Iterator[Finding]:
    used: dict[tuple[str, str], str] = {}
    for name in sorted(repo.occupiers):
        occupier = repo.occupiers[name]
        if decommissioned(occupier, ctx.today):
            continue  # D3: its floor ports are released (the documents stay, read-only)
        leased: dict[str, set[str]] = {}  # site → the spaces its contracts there hold today
        for index, activation in enumerate(occupier.spec.activations.floor_ports):
            site, floor_port = activation.site, activation.floor_port
            space_of = cabled.get(site)
            if space_of is None:
                continue  # unknown site: reported by `ref`
            key = (site, floor_port)
            if key in used:
                yield error(
                    "N3",
                    repo.source(occupier),
                    _activation_path(index),
                    f"floor port {floor_port} at {site} is activated by both {used[key]} and "
                    f"{name}",
                )
                continue
            used[key] = name
            space = space_of.get(floor_port)
            if space is None:
                yield error(
                    "N3",
                    repo.source(occupier),
                    _activation_path(index),
                    f"occupier {name}: site {site} has no floor port {floor_port}",
                )
                continue
            spaces = leased.get(site)
            if spaces is None:
                contracts = repo.contracts_at.get((name, site), ())
                spaces = leased[site] = {
                    s for c in contracts if holds(c, ctx.today) for s in c.spec.spaces
                }
            if space not in spaces:
                yield error(
                    "N3",
                    repo.source(occupier),
                    _activation_path(index),
                    f"occupier {name}: floor port {floor_port} is in {space}, which is not a "
                    f"space of its contracts at {site}",
                )


def _activation_path(index: int) -> tuple[str | int, ...]:
    return ("spec", "activations", "floorPorts", index, "floorPort")
