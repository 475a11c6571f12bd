"""Every managed device's intended state, derived from the holdings as they will be after the
plan, so the drivers converge each device on that one picture. Pure."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

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
from reconciler.catalogue import ALL, decommissioned, suspended, wifi_sites
from reconciler.ledger.model import Allocation, Holdings, Kind, State
from reconciler.model.kinds import Handset, Occupier, PortRole, Site
from reconciler.model.repo import Repo
from reconciler.plan.result import Intent


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
    leaving = [o for o in repo.occupiers.values() if decommissioned(o, today)]
    parked: dict[tuple[str, int], PortIntent] = {}  # equal intents, shared (they are frozen)
    for site in sorted(repo.sites.values(), key=lambda s: s.name):
        held = _Held.at(after, site.name)
        for switch in site.spec.switches:
            out[switch.name] = _switch(repo, site, switch, held, devices[site.name], parked, today)
            site_of[switch.name] = site.name
        if site.spec.router is not None:
            out[site.spec.router.name] = _router(site, held)
            site_of[site.spec.router.name] = site.name
        if site.spec.telephony is not None:
            out[site.spec.telephony.name] = _telephony(repo, site, held.numbers, leaving, today)
            site_of[site.spec.telephony.name] = site.name
        if site.spec.wifi is not None:
            out[site.spec.wifi.name] = _wifi(repo, site, held.network, today)
            site_of[site.spec.wifi.name] = site.name
    return out, site_of


@dataclass
class _Held:
    """What the holdings-after hold at one site, read in one pass: each holder's VLAN and
    prefix (`network`), each floor port's row, the public and number rows in ledger order."""

    network: dict[str, tuple[int, str | None]]
    ports: dict[str, Allocation]
    public: list[Allocation]
    numbers: list[Allocation]

    @classmethod
    def at(cls, after: Holdings, site: str) -> _Held:
        vlans: dict[str, int] = {}
        prefixes: dict[str, str] = {}
        ports: dict[str, Allocation] = {}
        public: list[Allocation] = []
        numbers: list[Allocation] = []
        for row in after.at.get(site, ()):
            kind = row.kind
            if kind is Kind.PORT:
                ports[row.value] = row
            elif kind is Kind.NUMBER:
                numbers.append(row)
            elif kind is Kind.PUBLIC:
                public.append(row)
            elif not row.holder:
                continue
            elif kind is Kind.VLAN:
                vlans[row.holder] = int(row.value)
            elif kind is Kind.PREFIX:
                prefixes[row.holder] = row.value
        network = {holder: (vlan, prefixes.get(holder)) for holder, vlan in vlans.items()}
        return cls(network, ports, public, numbers)


def _switch(
    repo: Repo,
    site: Site,
    switch: object,
    held: _Held,
    devices: dict[tuple[str, str], str],
    parked: dict[tuple[str, int], PortIntent],
    today: date,
) -> SwitchIntent:
    vlans = site.spec.vlans
    parking = vlans.parking
    ports = []
    used_vlans = {parking}
    network = held.network
    for port in switch.ports:  # type: ignore[attr-defined]
        row = held.ports.get(port.floor_port)
        if row is None or row.state is not State.ACTIVE or row.holder not in network:
            idle = parked.get((port.interface, parking))
            if idle is None:
                idle = parked[port.interface, parking] = PortIntent(port.interface, parking)
            ports.append(idle)
            continue
        vlan = network[row.holder][0]
        used_vlans.add(vlan)
        voice = vlans.voice if row.role == PortRole.VOICE and vlans.voice else None
        if voice:
            used_vlans.add(voice)
        stopped = suspended(repo, row.holder, site.name, today)
        ports.append(
            PortIntent(
                port.interface,
                vlan,
                _description(row.holder, devices.get((row.holder, port.floor_port), "")),
                not (ALL in stopped or f"port:{row.role}" in stopped),  # Stopped: shut
                voice,
                row.holder,
            )
        )
    return SwitchIntent(_endpoint(switch), tuple(ports), tuple(sorted(used_vlans)))


def _router(site: Site, held: _Held) -> RouterIntent:
    gateways = []
    routes = []
    network = held.network
    for holder, (vlan, prefix) in sorted(network.items()):
        if prefix is None:
            continue
        gateways.append(
            GatewayIntent(
                vlan, f"{allocate.gateway_of(prefix)}/{allocate.prefix_length(prefix)}", holder
            )
        )
    for row in held.public:
        if row.holder in network:
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


def _telephony(
    repo: Repo, site: Site, held: list[Allocation], leaving: list[Occupier], today: date
) -> TelephonyIntent:
    """`leaving`: the occupiers decommissioned by `today` (D2: on the date, not before)."""
    numbers = []
    logout = []
    for row in held:
        if row.state is State.ACTIVE:
            stopped = suspended(repo, row.holder, site.name, today)
            state = "suspended" if ALL in stopped or "numbers" in stopped else "active"
            numbers.append(NumberIntent(row.value, state, row.holder, None, _assignee(repo, row)))
        elif row.state is State.COOLING_OFF:
            numbers.append(
                NumberIntent(
                    row.value, "cooling-off", "", row.until.isoformat() if row.until else None
                )
            )
    for occupier in leaving:
        for n in occupier.spec.activations.numbers:
            if n.site == site.name and n.logged_in and n.handset is Handset.DIGITAL:
                logout.append(n.number)
    assert site.spec.telephony is not None
    return TelephonyIntent(_endpoint(site.spec.telephony), tuple(numbers), tuple(sorted(logout)))


def _wifi(
    repo: Repo, site: Site, network: dict[str, tuple[int, str | None]], today: date
) -> WifiIntent:
    groups, users, devices = [], [], []
    for holder, (vlan, _) in sorted(network.items()):
        occupier = repo.occupiers.get(holder)
        if occupier is None or decommissioned(occupier, today):
            continue
        stopped = suspended(repo, holder, site.name, today)
        groups.append(WifiGroupIntent(holder, vlan, ALL in stopped or "wifi" in stopped))
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
