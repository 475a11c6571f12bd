"""The planner: (repo, holdings, today) → what to allocate, release and configure. Pure.

It decides, occupier by occupier and site by site in name order, what each occupier needs on
`today` (from its Active services, scheduled changes applied), keeps what it already holds
(N4: nothing moves unless released), takes the lowest free value for what is missing, and
releases the rest. Device intents are then derived from the holdings as they will be, so the
drivers converge every device on that one picture.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from ipaddress import IPv4Network

from drivers.base import (
    Endpoint,
    GatewayIntent,
    NumberIntent,
    PortIntent,
    RouteIntent,
    RouterIntent,
    SwitchIntent,
    TelephonyIntent,
    WifiDeviceIntent,
    WifiGroupIntent,
    WifiIntent,
    WifiUserIntent,
)
from reconciler import allocate
from reconciler.catalogue import Status, decommissioned, statuses, terms_on, wifi_sites
from reconciler.findings import Finding, error, warning
from reconciler.ledger.model import Allocation, Change, Holdings, Kind, Release, State
from reconciler.model.kinds import Handset, Occupier, PortRole, Service, Site
from reconciler.model.repo import Repo

Intent = SwitchIntent | RouterIntent | TelephonyIntent | WifiIntent
POOL_WARNING = 0.9


@dataclass
class Need:
    """What one occupier needs at one site today."""

    network: bool = False
    ports: Counter[str] = field(default_factory=Counter)  # role → count (Y)
    public_ips: int = 0
    public_blocks: list[int] = field(default_factory=list)  # prefix lengths
    numbers: int = 0  # Y
    services: list[str] = field(default_factory=list)


@dataclass
class Plan:
    allocations: list[Allocation] = field(default_factory=list)  # new values and state changes
    releases: list[Release] = field(default_factory=list)  # carried out after the devices
    findings: list[Finding] = field(default_factory=list)
    after: Holdings = field(default_factory=Holdings)
    intents: dict[str, Intent] = field(default_factory=dict)
    services: dict[str, str] = field(default_factory=dict)  # service → site, provisioned now
    decommissions: list[str] = field(default_factory=list)  # occupiers being decommissioned
    sites_of_device: dict[str, str] = field(default_factory=dict)

    @property
    def changes(self) -> list[Change]:
        return [*self.allocations, *self.releases]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]


def replaced(repo: Repo, active: Collection[str]) -> dict[str, str]:
    """S8 make-before-break: a line is retired once the service replacing it is Active on the
    devices (recorded by a previous apply); until then both are provisioned."""
    return {
        s.spec.replaces: s.name
        for s in repo.services.values()
        if s.spec.replaces and s.name in active
    }


def needs(
    repo: Repo, today: date, active: Collection[str] = frozenset()
) -> dict[tuple[str, str], Need]:
    """S2/S9/S10: only Active services are provisioned, with their terms on `today`."""
    status = statuses(repo, today)
    retired = replaced(repo, active)
    out: dict[tuple[str, str], Need] = {}
    for name, service in repo.services.items():
        if status.get(name) is not Status.ACTIVE or name in retired:
            continue
        definition, quantity, _ = terms_on(repo, service, today)
        if definition is None or quantity <= 0:
            continue
        key = (service.spec.occupier, service.spec.site)
        need = out.get(key)
        if need is None:  # not setdefault: that would build a Need per service
            need = out[key] = Need()
        need.network = True
        need.services.append(name)
        infra = definition.spec.infrastructure
        if infra.switch_ports is not None:
            need.ports[infra.switch_ports.role] += infra.switch_ports.count * quantity
        need.public_ips += infra.public_ips * quantity
        if infra.public_prefix_length:
            need.public_blocks.extend([infra.public_prefix_length] * quantity)
        need.numbers += infra.phone_numbers * quantity
    return out


def make_plan(
    repo: Repo, holdings: Holdings, today: date, active: Collection[str] = frozenset()
) -> Plan:
    """`active`: services a previous apply recorded Active (for S8)."""
    plan = Plan()
    wanted = needs(repo, today, active)
    for key, wants in wanted.items():
        for service in wants.services:
            plan.services[service] = key[1]
    holders_at: dict[str, set[str]] = defaultdict(set)
    for row in holdings.rows:
        holders_at.setdefault(row.site, set())  # only cooling-off numbers: still ends them
        if row.holder:
            holders_at[row.site].add(row.holder)
    for occupier_name, site_name in wanted:
        holders_at[site_name].add(occupier_name)
    taken: dict[tuple[str, Kind], set[str]] = defaultdict(set)
    for row in holdings.rows:
        taken[row.site, row.kind].add(row.value)
    nets: dict[tuple[str, Kind], list[IPv4Network]] = {}
    for site_name in sorted(holders_at):
        site = repo.sites.get(site_name)
        cooling: dict[str, date] = {}
        for row in holdings.at.get(site_name, ()):
            if row.state is State.COOLING_OFF and row.until:
                if row.until <= today:
                    plan.releases.append(Release(row))  # T2: back to available
                    taken[site_name, Kind.NUMBER].discard(row.value)  # ... in this run already
                else:
                    cooling[row.value] = row.until
        for occupier in sorted(holders_at[site_name]):
            held = holdings.of.get((site_name, occupier), [])
            need = wanted.get((occupier, site_name))
            doc = repo.occupiers.get(occupier)
            if site is None or need is None or decommissioned(doc, today):
                if held and decommissioned(doc, today) and occupier not in plan.decommissions:
                    plan.decommissions.append(occupier)
                _release_all(plan, held, site, today)
                continue
            _Allocator(
                plan, repo, site, occupier, doc, need, held, taken, nets, cooling, today
            ).run()
    plan.after = _after(holdings, plan)
    plan.intents, plan.sites_of_device = intents(repo, plan.after, today)
    if plan.allocations or plan.releases:
        plan.findings.extend(pool_warnings(repo, holdings, plan.after))
    return plan


def _release_all(plan: Plan, held: Iterable[Allocation], site: Site | None, today: date) -> None:
    cooling_days = site.spec.cooling_off_days if site else 0
    for row in sorted(held, key=lambda a: (a.kind, a.value)):
        until = today + timedelta(days=cooling_days) if row.kind is Kind.NUMBER else None
        plan.releases.append(Release(row, until))


class _Allocator:
    """Keeps, takes and releases the values of one occupier at one site."""

    def __init__(
        self,
        plan: Plan,
        repo: Repo,
        site: Site,
        occupier: str,
        doc: Occupier | None,
        need: Need,
        held: list[Allocation],
        taken: dict[tuple[str, Kind], set[str]],
        nets: dict[tuple[str, Kind], list[IPv4Network]],
        cooling: dict[str, date],
        today: date,
    ) -> None:
        self.plan, self.repo, self.site, self.occupier, self.doc = plan, repo, site, occupier, doc
        self.need, self.today, self.taken, self.cooling = need, today, taken, cooling
        self.nets = nets
        self.held: dict[Kind, list[Allocation]] = defaultdict(list)
        for row in held:
            self.held[row.kind].append(row)

    def run(self) -> None:
        self.network()
        self.public()
        self.numbers()
        self.ports()

    # -- helpers
    def networks(self, kind: Kind) -> list[IPv4Network]:
        """The held prefixes or public blocks of the site, parsed once per plan."""
        key = (self.site.name, kind)
        if key not in self.nets:
            self.nets[key] = [IPv4Network(v) for v in self.taken.get(key, ())]
        return self.nets[key]

    def take(self, kind: Kind, value: str, state: State = State.HELD, role: str = "") -> None:
        self.taken[self.site.name, kind].add(value)
        if (self.site.name, kind) in self.nets:
            self.nets[self.site.name, kind].append(IPv4Network(value))
        self.plan.allocations.append(
            Allocation(self.site.name, kind, value, self.occupier, state, role)
        )

    def keep(self, row: Allocation, state: State, role: str = "") -> None:
        if (row.state, row.role) != (state, role):
            self.plan.allocations.append(
                Allocation(row.site, row.kind, row.value, row.holder, state, role)
            )

    def release(self, row: Allocation) -> None:
        until = (
            self.today + timedelta(days=self.site.spec.cooling_off_days)
            if row.kind is Kind.NUMBER
            else None
        )
        self.plan.releases.append(Release(row, until))

    def exhausted(self, what: str, needs: str = "") -> None:
        """N4 at the quantity line of the service that asks for the most of `needs` (an
        infrastructure field), or at the occupier when any service would (VLAN, prefix)."""
        source = self.repo.source(self.doc) if self.doc else None
        path: tuple[str, ...] = ()
        culprit = self._largest(needs) if needs else None
        if culprit is not None:
            source, path = self.repo.source(culprit), ("spec", "quantity")
        self.plan.findings.append(
            error(
                "N4",
                source,
                path,
                f"site {self.site.name} has no free {what} left for {self.occupier}",
                "extend the site's pool"
                + (f" or lower {culprit.name}'s quantity" if culprit else ""),
            )
        )

    def _largest(self, needs: str) -> Service | None:
        best: tuple[int, str] | None = None
        for name in self.need.services:
            service = self.repo.services[name]
            definition, quantity, _ = terms_on(self.repo, service, self.today)
            infra = definition.spec.infrastructure if definition else None
            if infra is not None and getattr(infra, needs) and (best is None or quantity > best[0]):
                best = (quantity, name)
        return self.repo.services[best[1]] if best else None

    # -- N1
    def network(self) -> None:
        vlans = self.held[Kind.VLAN]
        if vlans:
            for extra in vlans[1:]:
                self.release(extra)
        else:
            first, last = self.site.spec.vlans.bounds
            held = {int(v) for v in self.taken.get((self.site.name, Kind.VLAN), set())}
            vlan = allocate.next_vlan(first, last, set(self.site.spec.vlans.reserved), held)
            if vlan is None:
                self.exhausted("VLAN")
            else:
                self.take(Kind.VLAN, str(vlan))
        prefixes = self.held[Kind.PREFIX]
        if prefixes:
            for extra in prefixes[1:]:
                self.release(extra)
            return
        supernet = self.site.spec.private_supernet
        prefix = allocate.next_prefix(
            supernet.cidr, supernet.prefix_length, self.networks(Kind.PREFIX)
        )
        if prefix is None:
            self.exhausted("private prefix")
        else:
            self.take(Kind.PREFIX, str(prefix))

    # -- N2
    def public(self) -> None:
        want = [32] * self.need.public_ips + sorted(self.need.public_blocks)
        have = sorted(self.held[Kind.PUBLIC], key=lambda a: _address_key(a.value))
        remaining = list(want)
        for row in have:
            length = _length(row.value)
            if length in remaining:
                remaining.remove(length)
            else:
                self.release(row)
        for length in remaining:
            net = allocate.next_public(
                self.site.spec.public_pools, self.networks(Kind.PUBLIC), length
            )
            if net is None:
                self.exhausted(
                    f"public /{length}", "public_ips" if length == 32 else "public_prefix_length"
                )
            else:
                self.take(Kind.PUBLIC, str(net))

    # -- T1, T2
    def numbers(self) -> None:
        declared = (
            {n.number: n for n in self.doc.spec.activations.numbers if n.site == self.site.name}
            if self.doc
            else {}
        )
        mains = (
            {m.number for m in self.doc.spec.main_numbers if m.site == self.site.name}
            if self.doc
            else set()
        )
        held = {row.value: row for row in self.held[Kind.NUMBER]}
        total = max(self.need.numbers, len(declared))
        chosen: list[str] = []
        for number in sorted(declared):
            taken = self.taken.get((self.site.name, Kind.NUMBER), set())
            if number not in held and number in taken:
                until = self.cooling.get(number)
                why = f"in cooling-off until {until}" if until else "held by another occupier"
                self.plan.findings.append(
                    error(
                        "T2",
                        self.repo.source(self.doc) if self.doc else None,
                        ("spec", "activations", "numbers"),
                        f"{number} cannot be activated for {self.occupier}: it is {why}",
                    )
                )
                continue
            chosen.append(number)
        for number in sorted(held):
            if len(chosen) >= total:
                break
            if number not in chosen:
                chosen.append(number)
        missing = total - len(chosen)
        if missing > 0:
            fresh = allocate.next_numbers(
                self.site.spec.number_blocks,
                self.taken.get((self.site.name, Kind.NUMBER), set()),
                self.cooling,
                self.today,
                missing,
            )
            if len(fresh) < missing:
                self.exhausted("phone numbers", "phone_numbers")
            chosen.extend(fresh)
        # T1: with no number declared active, the first voice service activates them all.
        auto = not declared
        main = min(mains) if mains else None
        if main is None and chosen:
            actives = sorted(chosen if auto else declared)
            # N4: an implicit main number stays put when a lower number joins
            kept = [n for n in actives if n in held and held[n].role == "main"]
            main = kept[0] if kept else actives[0] if actives else None
        for number in chosen:
            state = State.ACTIVE if auto or number in declared else State.RESERVED
            role = "main" if number == main else ""
            if number in held:
                self.keep(held[number], state, role)
            else:
                self.take(Kind.NUMBER, number, state, role)
        for number, row in sorted(held.items()):
            if number not in chosen:
                self.release(row)

    # -- N3
    def ports(self) -> None:
        activations = (
            [a for a in self.doc.spec.activations.floor_ports if a.site == self.site.name]
            if self.doc
            else []
        )
        held = {row.value: row for row in self.held[Kind.PORT]}
        chosen: dict[str, tuple[State, str]] = {}
        taken = self.taken.get((self.site.name, Kind.PORT), set())
        for activation in activations:
            if activation.floor_port in taken and activation.floor_port not in held:
                self.plan.findings.append(
                    error(
                        "N3",
                        self.repo.source(self.doc) if self.doc else None,
                        ("spec", "activations", "floorPorts"),
                        f"floor port {activation.floor_port} at {self.site.name} is held by "
                        f"another occupier; it cannot be activated for {self.occupier}",
                    )
                )
                continue
            chosen[activation.floor_port] = (State.ACTIVE, str(activation.role))
        active_roles = Counter(role for _, role in chosen.values())
        candidates: list[str] | None = None
        for role in sorted(self.need.ports):
            missing = self.need.ports[role] - active_roles[role]
            for fp, row in sorted(held.items()):
                if missing <= 0:
                    break
                if fp not in chosen and row.role == role:
                    chosen[fp] = (State.RESERVED, role)
                    missing -= 1
            if missing > 0:
                if candidates is None:
                    spaces = self._spaces()
                    candidates = [
                        fp
                        for space in self.site.spec.spaces
                        if space.name in spaces
                        for fp in space.floor_ports
                    ]
                busy = self.taken.get((self.site.name, Kind.PORT), set()) | set(chosen)
                fresh = allocate.next_ports(candidates, busy, missing)
                if len(fresh) < missing:
                    self.exhausted(f"floor ports for role {role}", "switch_ports")
                for fp in fresh:
                    chosen[fp] = (State.RESERVED, role)
        for fp, (state, role) in chosen.items():
            if fp in held:
                self.keep(held[fp], state, role)
            else:
                self.take(Kind.PORT, fp, state, role)
        for fp, row in sorted(held.items()):
            if fp not in chosen:
                self.release(row)

    def _spaces(self) -> set[str]:
        return {
            s
            for c in self.repo.contracts_at.get((self.occupier, self.site.name), ())
            for s in c.spec.spaces
        }


def _after(holdings: Holdings, plan: Plan) -> Holdings:
    if not plan.releases and not plan.allocations:
        return holdings  # the no-op run of every cron tick: nothing to rebuild
    rows = dict(holdings.by_key)
    for release in plan.releases:
        row = release.allocation
        if row.kind is Kind.NUMBER and release.until is not None:
            rows[row.key] = Allocation(
                row.site, row.kind, row.value, "", State.COOLING_OFF, "", release.until
            )
        else:
            rows.pop(row.key, None)
    for row in plan.allocations:
        rows[row.key] = row
    return Holdings.of_rows(rows[k] for k in sorted(rows))


# --------------------------------------------------------------------------- device intents


def _endpoint(device: object) -> Endpoint:
    return Endpoint(device.name, device.platform, device.host, device.port)  # type: ignore[attr-defined]


_UNSAFE = re.compile(r"[^A-Za-z0-9 ._:/@+()#,-]")


def _description(occupier: str, device: str) -> str:
    """The port description: only characters a device CLI cannot interpret (drivers check
    again with drivers.base.safe_text)."""
    return _UNSAFE.sub("", f"{occupier} {device}".strip())[:80]


def intents(repo: Repo, after: Holdings, today: date) -> tuple[dict[str, Intent], dict[str, str]]:
    """Every managed device's intended state, from the holdings as they will be."""
    out: dict[str, Intent] = {}
    site_of: dict[str, str] = {}
    devices: dict[str, dict[tuple[str, str], str]] = defaultdict(dict)
    for occupier in repo.occupiers.values():
        for activation in occupier.spec.activations.floor_ports:
            devices[activation.site][occupier.name, activation.floor_port] = activation.device
    for site in sorted(repo.sites.values(), key=lambda s: s.name):
        network = _networks(after, site.name)
        for switch in site.spec.switches:
            out[switch.name] = _switch(site, switch, after, network, devices[site.name])
            site_of[switch.name] = site.name
        if site.spec.router is not None:
            out[site.spec.router.name] = _router(site, after, network)
            site_of[site.spec.router.name] = site.name
        if site.spec.telephony is not None:
            out[site.spec.telephony.name] = _telephony(repo, site, after, today)
            site_of[site.spec.telephony.name] = site.name
        if site.spec.wifi is not None:
            out[site.spec.wifi.name] = _wifi(repo, site, after, network, today)
            site_of[site.spec.wifi.name] = site.name
    return out, site_of


def _length(value: str) -> int:
    """The prefix length of "a.b.c.d/n" without parsing the address."""
    return int(value.rpartition("/")[2])


def _address_key(value: str) -> tuple[int, ...]:
    """Numeric order of "a.b.c.d/n" values, without building network objects."""
    address, _, length = value.partition("/")
    return (*(int(part) for part in address.split(".")), int(length or 32))


def _networks(after: Holdings, site: str) -> dict[str, tuple[int, str | None]]:
    vlans: dict[str, int] = {}
    prefixes: dict[str, str] = {}
    for row in after.at.get(site, ()):
        if not row.holder:
            continue
        if row.kind is Kind.VLAN:
            vlans[row.holder] = int(row.value)
        elif row.kind is Kind.PREFIX:
            prefixes[row.holder] = row.value
    return {holder: (vlan, prefixes.get(holder)) for holder, vlan in vlans.items()}


def _switch(
    site: Site,
    switch: object,
    after: Holdings,
    network: dict[str, tuple[int, str | None]],
    devices: dict[tuple[str, str], str],
) -> SwitchIntent:
    vlans = site.spec.vlans
    ports = []
    used_vlans = {vlans.parking}
    for port in switch.ports:  # type: ignore[attr-defined]
        row = after.by_key.get((site.name, Kind.PORT, port.floor_port))
        if row is None or row.state is not State.ACTIVE or row.holder not in network:
            ports.append(PortIntent(port.interface, vlans.parking))
            continue
        vlan = network[row.holder][0]
        used_vlans.add(vlan)
        voice = vlans.voice if row.role == PortRole.VOICE and vlans.voice else None
        if voice:
            used_vlans.add(voice)
        ports.append(
            PortIntent(
                port.interface,
                vlan,
                _description(row.holder, devices.get((row.holder, port.floor_port), "")),
                True,
                voice,
                row.holder,
            )
        )
    return SwitchIntent(_endpoint(switch), tuple(ports), tuple(sorted(used_vlans)))


def _router(
    site: Site, after: Holdings, network: dict[str, tuple[int, str | None]]
) -> RouterIntent:
    gateways = []
    routes = []
    for holder, (vlan, prefix) in sorted(network.items()):
        if prefix is None:
            continue
        gateways.append(
            GatewayIntent(vlan, f"{allocate.gateway_of(prefix)}/{_length(prefix)}", holder)
        )
    for row in after.at.get(site.name, ()):
        if row.kind is Kind.PUBLIC and row.holder in network:
            prefix = network[row.holder][1]
            if prefix is not None:
                routes.append(RouteIntent(row.value, str(allocate.next_hop_of(prefix)), row.holder))
    assert site.spec.router is not None
    return RouterIntent(
        _endpoint(site.spec.router),
        tuple(sorted(routes, key=lambda r: r.prefix)),
        tuple(gateways),
        tuple(str(p.cidr) for p in site.spec.public_pools),
    )


def _assignee(repo: Repo, row: Allocation) -> str:
    """The user a number is assigned to (Occupier.users[].number), else "main" for the
    occupier's main number, else nobody."""
    occupier = repo.occupiers.get(row.holder)
    for user in occupier.spec.users if occupier else ():
        if user.number == row.value:
            return user.name
    return "main" if row.role == "main" else ""


def _telephony(repo: Repo, site: Site, after: Holdings, today: date) -> TelephonyIntent:
    numbers = []
    logout = []
    for row in after.at.get(site.name, ()):
        if row.kind is not Kind.NUMBER:
            continue
        if row.state is State.ACTIVE:
            numbers.append(
                NumberIntent(row.value, "active", row.holder, None, _assignee(repo, row))
            )
        elif row.state is State.COOLING_OFF:
            numbers.append(
                NumberIntent(
                    row.value, "cooling-off", "", row.until.isoformat() if row.until else None
                )
            )
    for occupier in repo.occupiers.values():
        if occupier.spec.decommission is None or not decommissioned(occupier, today):
            continue  # D2: on the decommission date, not before
        for n in occupier.spec.activations.numbers:
            if n.site == site.name and n.logged_in and n.handset is Handset.DIGITAL:
                logout.append(n.number)
    assert site.spec.telephony is not None
    return TelephonyIntent(_endpoint(site.spec.telephony), tuple(numbers), tuple(sorted(logout)))


def _wifi(
    repo: Repo,
    site: Site,
    after: Holdings,
    network: dict[str, tuple[int, str | None]],
    today: date,
) -> WifiIntent:
    groups, users, devices = [], [], []
    for holder, (vlan, _) in sorted(network.items()):
        occupier = repo.occupiers.get(holder)
        if occupier is None or decommissioned(occupier, today):
            continue
        groups.append(WifiGroupIntent(holder, vlan))
        for user in occupier.spec.users:
            if site.name in wifi_sites(repo, occupier, user.wifi, today):
                users.append(
                    WifiUserIntent(f"{user.name}.{holder}", holder, f"{holder}/{user.name}")
                )
        for device in occupier.spec.wifi_devices:
            if device.site == site.name:
                mac = device.mac.replace(":", "-").upper()
                devices.append(WifiDeviceIntent(mac, holder))
    assert site.spec.wifi is not None
    return WifiIntent(_endpoint(site.spec.wifi), tuple(groups), tuple(users), tuple(devices))


# --------------------------------------------------------------------------- pools


@dataclass(frozen=True)
class PoolUse:
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
            p.cidr.num_addresses - len(allocate._unusable(p)) for p in spec.public_pools
        )
        public_used = sum(  # "a.b.c.d/29" → 8, without parsing the address
            2 ** (32 - int(v.rpartition("/")[2])) for v in holdings.values(site.name, Kind.PUBLIC)
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
    """A change that pushes a pool to 90 % or more is worth a warning in the pull request."""
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


# --------------------------------------------------------------------------- what changes


def items_of(intent: Intent) -> dict[str, str]:
    """A device intent as flat items, to compare with what was last applied (for `plan`)."""
    items: dict[str, str] = {}
    if isinstance(intent, SwitchIntent):
        for p in intent.ports:
            state = "up" if p.enabled else "down"
            voice = f" voice {p.voice_vlan}" if p.voice_vlan else ""
            desc = f' "{p.description}"' if p.description else ""
            items[f"port {p.interface}"] = f"vlan {p.vlan} {state}{voice}{desc}"
    elif isinstance(intent, RouterIntent):
        for g in intent.gateways:
            items[f"gateway vlan {g.vlan}"] = f"{g.address} {g.description}".strip()
        for r in intent.routes:
            items[f"route {r.prefix}"] = f"via {r.next_hop} {r.description}".strip()
    elif isinstance(intent, TelephonyIntent):
        for n in intent.numbers:
            until = f"until {n.until}" if n.until else ""
            who = f"({n.assignee})" if n.assignee else ""
            items[f"number {n.number}"] = " ".join(
                x for x in (n.state, n.occupier, who, until) if x
            )
        for number in intent.logout:
            items[f"logout {number}"] = "handset"
    else:
        for group in intent.groups:
            items[f"group {group.name}"] = f"vlan {group.vlan}"
        for u in intent.users:
            items[f"user {u.username}"] = u.group
        for d in intent.devices:
            items[f"device {d.mac}"] = d.group
    return items


@dataclass(frozen=True)
class DeviceChange:
    device: str
    item: str
    old: str | None  # None: added
    new: str | None  # None: removed


def device_changes(plan: Plan, applied: dict[str, dict[str, str]]) -> list[DeviceChange]:
    """What each device will be told, compared with what it was last given successfully."""
    out = []
    for device in sorted(plan.intents):
        new = items_of(plan.intents[device])
        old = applied.get(device, {})
        for item in sorted(set(new) | set(old)):
            if new.get(item) != old.get(item):
                out.append(DeviceChange(device, item, old.get(item), new.get(item)))
    return out
