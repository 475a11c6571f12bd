"""FRR routers: static routes for occupiers' public addresses, driven with vtysh.

    `vtysh -c 'show running-config'` → parse the top-level static routes → remediation →
    ONE vtysh call (`configure terminal` + every change) → re-read and verify

A real deployment runs vtysh on the router host over SSH (transport "ssh", the default); a
reconciler that runs on the router itself uses transport "local". The vtysh command line is an
option, e.g. `ip netns exec rtr vtysh --vty_socket /run/frr-rtr` when FRR lives in a namespace.

Only routes inside `RouterIntent.managed_prefixes` are removed when not intended; anything else
in the routing table is never touched. New routes are added before old ones are removed
(make before break). vtysh stops at the first rejected line, so on a rejection the managed
routes are put back to what ran before (best effort, the `rollback` stage) and the error is
permanent.

Gateways (`RouterIntent.gateways`): the occupier's first address on its VLAN interface, named
by TENANTRY_FRR_GATEWAY_INTERFACE (default "vlan{vlan}", e.g. "eth1.{vlan}" for a trunk
sub-interface). zebra keeps the configuration of an interface the OS has not created yet and
applies it when it appears. Interfaces matching that pattern are managed: an address no longer
intended is removed.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from drivers._ssh import CommandRunner, OverShell, SshOptions, check_transport, quote, run_checked
from drivers.base import (
    Credentials,
    DriverError,
    IntentRefused,
    RouterIntent,
    Transcript,
    safe_text,
)
from drivers.contract import ABSENT, Change, Remediation, RouterDriver, changes_between

PLATFORM = "frr"
log = logging.getLogger(__name__)
IfaceName = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]{0,14}$")
_TEMPORARY = re.compile(r"Exiting: failed to connect|connection refused|No such file", re.I)
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, order=True)
class StaticRoute:
    """One running or intended static route, as FRR writes it in its running-config."""

    prefix: str  # normalised network, "203.0.113.8/29"
    next_hop: str
    extra: str = ""  # distance, tag, ... as written after the next hop

    @property
    def network(self) -> IpNetwork:
        return ipaddress.ip_network(self.prefix)

    @property
    def line(self) -> str:
        keyword = "ip" if self.network.version == 4 else "ipv6"
        return " ".join(x for x in (keyword, "route", self.prefix, self.next_hop, self.extra) if x)


def check_intent(intent: RouterIntent) -> None:
    device = intent.endpoint.name
    try:
        for r in intent.routes:
            ipaddress.ip_network(r.prefix, strict=False)
            if not IfaceName.match(r.next_hop):
                ipaddress.ip_address(r.next_hop)
            safe_text(r.description)
        for p in intent.managed_prefixes:
            ipaddress.ip_network(p, strict=False)
        for g in intent.gateways:
            ipaddress.ip_interface(g.address)
            safe_text(g.description)
    except ValueError as exc:
        raise IntentRefused(device, f"invalid router intent: {exc}") from None


def intended_routes(intent: RouterIntent) -> set[StaticRoute]:
    return {
        StaticRoute(str(ipaddress.ip_network(r.prefix, strict=False)), r.next_hop)
        for r in intent.routes
    }


def parse_static_routes(text: str) -> set[StaticRoute]:
    """Top-level `ip route` / `ipv6 route` lines (routes inside `vrf` blocks are indented)."""
    routes = set()
    for line in text.splitlines():
        words = line.rstrip().split(" ")
        if len(words) >= 4 and words[0] in ("ip", "ipv6") and words[1] == "route":
            try:
                net = ipaddress.ip_network(words[2], strict=False)
            except ValueError:
                continue
            routes.add(StaticRoute(str(net), words[3], " ".join(words[4:])))
    return routes


def managed(route: StaticRoute, prefixes: Iterable[str]) -> bool:
    net = route.network
    for p in prefixes:
        pool = ipaddress.ip_network(p, strict=False)
        if pool.version == net.version and net.subnet_of(pool):  # type: ignore[arg-type]
            return True
    return False


def remediation(running: set[StaticRoute], intended: RouterIntent) -> list[str]:
    """vtysh configuration lines (after `configure terminal`); [] when converged."""
    want = intended_routes(intended)
    add = sorted(want - running)
    remove = sorted(r for r in running - want if managed(r, intended.managed_prefixes))
    return [r.line for r in add] + [f"no {r.line}" for r in remove]


@dataclass(frozen=True)
class Interface:
    """What a running `interface` block holds that tenantry manages."""

    addresses: frozenset[str] = frozenset()
    description: str = ""


def parse_interfaces(text: str) -> dict[str, Interface]:
    """`interface NAME` blocks with their `ip address` and `description` lines."""
    found: dict[str, Interface] = {}
    name: str | None = None
    addresses: set[str] = set()
    description = ""
    for line in [*text.splitlines(), "!"]:
        if line.startswith("interface "):
            name, addresses, description = line.split()[1], set(), ""
        elif name is not None and line.startswith(" ip address "):
            addresses.add(line.split()[2])
        elif name is not None and line.startswith(" description "):
            description = line[len(" description "):].strip()
        elif name is not None and not line.startswith(" "):
            found[name] = Interface(frozenset(addresses), description)
            name = None
    return found


def gateway_interface(template: str, vlan: int) -> str:
    return template.format(vlan=vlan)


def gateway_remediation(
    running: dict[str, Interface], intended: RouterIntent, template: str
) -> list[str]:
    """Lines that give every occupier's VLAN interface its gateway address (and only that),
    and strip managed interfaces no occupier uses any more; [] when converged."""
    pattern = re.compile("^" + re.escape(template).replace(r"\{vlan\}", r"[0-9]+") + "$")
    lines: list[str] = []
    wanted: set[str] = set()
    for g in sorted(intended.gateways, key=lambda g: g.vlan):
        name = gateway_interface(template, g.vlan)
        wanted.add(name)
        have = running.get(name, Interface())
        block = [] if g.address in have.addresses else [f"ip address {g.address}"]
        if have.description != g.description:
            block.append(f"description {g.description}" if g.description else "no description")
        block += [f"no ip address {a}" for a in sorted(have.addresses - {g.address})]
        if block:
            lines += [f"interface {name}", *block, "exit"]
    for name, have in sorted(running.items()):
        if name in wanted or not pattern.match(name) or not (have.addresses or have.description):
            continue
        block = ["no description"] if have.description else []
        block += [f"no ip address {a}" for a in sorted(have.addresses)]
        lines += [f"interface {name}", *block, "exit"]
    return lines


def split_removals(lines: list[str]) -> tuple[list[str], list[list[str]]]:
    """zebra removes an address from an interface the OS has not created but vtysh then exits
    1 and stops: each `no ip address` goes in a call of its own, after everything else, and
    the re-read decides whether the device converged."""
    main: list[str] = []
    removals: list[list[str]] = []
    interface = ""
    for line in lines:
        if line.startswith("interface "):
            interface = line
        if line.startswith("no ip address "):
            removals.append([interface, line])
        else:
            main.append(line)
    return main, removals


def _restore(running_now: set[StaticRoute], before: set[StaticRoute],
             prefixes: Sequence[str]) -> list[str]:
    """Lines that put the managed routes back to `before`."""
    now = {r for r in running_now if managed(r, prefixes)}
    old = {r for r in before if managed(r, prefixes)}
    return [r.line for r in sorted(old - now)] + [f"no {r.line}" for r in sorted(now - old)]


@dataclass(frozen=True)
class RouterRunning:
    """What a router runs: every static route, and the interfaces' addresses."""

    routes: frozenset[StaticRoute]
    interfaces: dict[str, Interface]


def parse_router(text: str) -> RouterRunning:
    return RouterRunning(frozenset(parse_static_routes(text)), parse_interfaces(text))


def describe_interface(have: Interface) -> str:
    if not (have.addresses or have.description):
        return ABSENT
    text = "address " + ", ".join(sorted(have.addresses)) if have.addresses else "no address"
    return text + (f", {have.description!r}" if have.description else "")


def router_changes(
    running: RouterRunning, intent: RouterIntent, template: str
) -> tuple[Change, ...]:
    """Per gateway interface and per routed prefix that differs (managed ones only)."""
    pattern = re.compile("^" + re.escape(template).replace(r"\{vlan\}", r"[0-9]+") + "$")
    have: dict[str, str] = {}
    want: dict[str, str] = {}
    owner: dict[str, str] = {}
    for name, interface in running.interfaces.items():
        if pattern.match(name):
            have[f"interface {name}"] = describe_interface(interface)
    for g in intent.gateways:
        key = f"interface {gateway_interface(template, g.vlan)}"
        want[key] = describe_interface(Interface(frozenset({g.address}), g.description))
        owner[key] = g.description
    wanted = intended_routes(intent)
    hops: dict[str, set[str]] = {}
    for r in running.routes:
        if r in wanted or managed(r, intent.managed_prefixes):
            hops.setdefault(f"route {r.prefix}", set()).add(r.next_hop)
    have |= {key: "via " + ", ".join(sorted(h)) for key, h in hops.items()}
    for route in intent.routes:
        key = f"route {ipaddress.ip_network(route.prefix, strict=False)}"
        want[key] = f"via {route.next_hop}"
        owner[key] = route.description
    have = {k: v for k, v in have.items() if v != ABSENT}
    return changes_between(have, want, owner)


class FrrDriver(OverShell, RouterDriver[CommandRunner, RouterRunning, str]):
    """FRR via vtysh over SSH (default) or on this host; a step is one vtysh line."""

    platform = PLATFORM

    def __init__(self, ssh: SshOptions | None = None, *, transport: str | None = None,
                 vtysh: Sequence[str] | str | None = None) -> None:
        """`transport` and `vtysh` default to TENANTRY_FRR_TRANSPORT / TENANTRY_FRR_VTYSH."""
        self.transport = check_transport(
            transport or os.environ.get("TENANTRY_FRR_TRANSPORT", "ssh"))
        vtysh = vtysh or os.environ.get("TENANTRY_FRR_VTYSH", "vtysh")
        self.gateway_template = os.environ.get("TENANTRY_FRR_GATEWAY_INTERFACE", "vlan{vlan}")
        if not IfaceName.match(gateway_interface(self.gateway_template, 4094)):
            raise ValueError(f"bad TENANTRY_FRR_GATEWAY_INTERFACE {self.gateway_template!r}")
        self.vtysh = tuple(shlex.split(vtysh) if isinstance(vtysh, str) else vtysh)
        self.ssh = ssh or SshOptions.from_env()

    def check(self, intent: RouterIntent) -> None:
        check_intent(intent)

    def _vtysh(self, shell: CommandRunner, device: str, commands: Sequence[str]) -> str:
        argv = list(self.vtysh)
        for c in commands:
            argv += ["-c", c]
        return run_checked(shell, device, quote(argv), _TEMPORARY, "vtysh")

    def read_running(self, session: CommandRunner, intent: RouterIntent,
                     transcript: Transcript) -> RouterRunning:
        out = self._vtysh(session, intent.endpoint.name, ["show running-config"])
        transcript.reads.append("show running-config")
        return parse_router(out)

    def diff(self, intent: RouterIntent, running: RouterRunning) -> Remediation[str]:
        """Gateways first: a route's next hop lies in the occupier's prefix."""
        steps = (gateway_remediation(running.interfaces, intent, self.gateway_template)
                 + remediation(set(running.routes), intent))
        return Remediation(router_changes(running, intent, self.gateway_template), tuple(steps))

    def push(self, session: CommandRunner, intent: RouterIntent,
             remediation: Remediation[str], transcript: Transcript) -> None:
        device = intent.endpoint.name
        transcript.commands.extend(remediation.steps)
        main, removals = split_removals(list(remediation.steps))
        self._vtysh(session, device, ["configure terminal", *main])
        for removal in removals:
            try:
                self._vtysh(session, device, ["configure terminal", *removal])
            except DriverError as exc:
                if exc.temporary:
                    raise  # else: the verify's re-read decides

    def rollback(self, session: CommandRunner, intent: RouterIntent, before: RouterRunning,
                 error: DriverError, transcript: Transcript) -> None:
        device = intent.endpoint.name
        prefixes = [*intent.managed_prefixes, *(r.prefix for r in intent.routes)]
        try:
            now = self.read_running(session, intent, transcript)
            back = _restore(set(now.routes), set(before.routes), prefixes)
            if back:
                transcript.commands.extend(back)
                self._vtysh(session, device, ["configure terminal", *back])
        except DriverError:
            log.warning("%s: roll back after a rejected change failed", device)

    def read(self, intent: RouterIntent, credentials: Credentials | None = None
             ) -> set[StaticRoute]:
        """Running static routes (all of them, managed or not)."""
        return set(self.running(intent, credentials).routes)
