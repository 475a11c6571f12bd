"""Write a small desired-state repository whose devices are the running lab components.

The end-to-end tests (test_apply_e2e.py) and the benchmark (bench/apply_e2e.py) describe the
lab as Python data — sites with switches (host 127.0.0.1 + the lab's random port) and a router,
occupiers with their floor-port activations and services — and `write_repo` turns it into the
YAML that `tenantry apply` reads: catalogue/, sites/<site>.yaml, occupiers/<name>/*.yaml.

The catalogue is the lab's own: `lan-port` (one internet port per unit), `public-ip` (one
routed public address, needs a lan-port) and `voice-line` (one phone number from the site's
number block; no telephony server: the numbers live in the ledger only).

`write_occupier` adds or rewrites one occupier's files and leaves the rest of the repo alone
(e.g. an occupier file that `tenantry decommission` edited).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import yaml

API = "tenantry.dev/v1alpha1"
START = "2026-01-01"
TODAY = "2026-06-01"
# The FRR lab's public pool and the planner's choices in it (the frr_e2e fixture builds them)
PUBLIC_POOL = "203.0.113.8/29"
PUBLIC_IP = "203.0.113.10"  # first usable /32 of the pool (.8 network, .9 gateway)
ACME_NEXT_HOP = "10.64.0.2"  # second host of acme's prefix 10.64.0.0/24 (the planner's choice)

CATALOGUE = [
    {
        "apiVersion": API,
        "kind": "ServiceDefinition",
        "metadata": {"name": "lan-port"},
        "spec": {
            "category": "internet",
            "description": "One internet floor port",
            "cost": "10.00",
            "rrp": "20.00",
            "quantity": {"min": 1, "max": 48, "default": 1},
            "infrastructure": {"switchPorts": {"count": 1, "role": "internet"}},
        },
    },
    {
        "apiVersion": API,
        "kind": "ServiceDefinition",
        "metadata": {"name": "public-ip"},
        "spec": {
            "category": "public-ip",
            "description": "One routed public IPv4 address",
            "cost": "5.00",
            "rrp": "15.00",
            "quantity": {"min": 1, "max": 1},
            "maxPerOccupier": 1,
            "requires": [{"anyOf": ["lan-port"]}],
            "infrastructure": {"publicIPs": 1},
        },
    },
    {
        "apiVersion": API,
        "kind": "ServiceDefinition",
        "metadata": {"name": "voice-line"},
        "spec": {
            "category": "voice",
            "description": "One phone number",
            "cost": "1.00",
            "rrp": "4.00",
            "quantity": {"min": 1, "max": 0},
            "infrastructure": {"phoneNumbers": 1},
        },
    },
]


@dataclass
class Switch:
    name: str
    platform: str  # cisco_iosxe | openvswitch
    port: int  # TCP port of the lab's SSH server on 127.0.0.1
    interfaces: dict[str, str]  # interface → floor port


@dataclass
class Router:
    name: str
    port: int
    platform: str = "frr"


@dataclass
class Site:
    name: str
    switches: list[Switch]
    spaces: dict[str, list[str]]  # space → floor ports
    router: Router | None = None
    vlan_range: str = "100-199"
    parking: int = 999
    supernet: str = "10.64.0.0/16"
    prefix_length: int = 24
    public_pool: str | None = None  # e.g. "203.0.113.8/29": gateway = first address + 1
    number_block: tuple[str, str] | None = None  # first, last (E.164)
    cooling_off_days: int | None = None  # None: the schema's default
    admins: tuple[str, ...] = ("lab",)

    def doc(self) -> dict[str, object]:
        spec: dict[str, object] = {
            "displayName": f"Lab {self.name}",
            "admins": list(self.admins),
            "vlans": {"range": self.vlan_range, "parking": self.parking},
            "privateSupernet": {"cidr": self.supernet, "prefixLength": self.prefix_length},
            "switches": [
                {
                    "name": s.name,
                    "platform": s.platform,
                    "host": "127.0.0.1",
                    "port": s.port,
                    "ports": [{"interface": i, "floorPort": fp} for i, fp in s.interfaces.items()],
                }
                for s in self.switches
            ],
            "spaces": [{"name": n, "floorPorts": fps} for n, fps in self.spaces.items()],
        }
        if self.public_pool:
            import ipaddress

            net = ipaddress.ip_network(self.public_pool)
            spec["publicPools"] = [
                {"name": "lab", "cidr": self.public_pool, "gateway": str(net.network_address + 1)}
            ]
        if self.number_block is not None:
            spec["numberBlocks"] = [{"first": self.number_block[0], "last": self.number_block[1]}]
        if self.cooling_off_days is not None:
            spec["coolingOffDays"] = self.cooling_off_days
        if self.router is not None:
            spec["router"] = {
                "name": self.router.name,
                "platform": self.router.platform,
                "host": "127.0.0.1",
                "port": self.router.port,
            }
        return {"apiVersion": API, "kind": "Site", "metadata": {"name": self.name}, "spec": spec}


@dataclass
class Tenancy:
    """One occupier's contract and services at one site."""

    site: str
    spaces: list[str]
    ports: dict[str, str] = field(default_factory=dict)  # activated floor port → device text
    reserved_ports: int = 0  # lan-port units beyond the activated ports
    public_ip: bool = False
    numbers: int = 0  # voice-line units (numbers from the site's block)
    analog_logged_in: tuple[str, ...] = ()  # declared numbers with an analog handset logged in


@dataclass
class Occupier:
    name: str
    tenancies: list[Tenancy]
    stopped: bool = False  # Splynx Stopped: suspended (issue 19)
    leaves: bool = False  # decommissioned (D1): how an occupier with live contracts leaves (G1)

    def docs(self) -> dict[str, list[dict[str, object]]]:
        activations = [
            {"site": t.site, "floorPort": fp, "role": "internet", "device": device}
            for t in self.tenancies
            for fp, device in t.ports.items()
        ]
        numbers = [
            {"site": t.site, "number": n, "handset": "analog", "loggedIn": True}
            for t in self.tenancies
            for n in t.analog_logged_in
        ]
        spec: dict[str, object] = {
            "displayName": self.name.title(),
            "activations": {"floorPorts": activations},
        }
        if numbers:
            spec["activations"] = {"floorPorts": activations, "numbers": numbers}
        if self.stopped:
            spec["status"] = "Stopped"
        if self.leaves:
            spec["decommission"] = {"confirm": spec["displayName"], "irreversible": True}
        occupier = {
            "apiVersion": API,
            "kind": "Occupier",
            "metadata": {"name": self.name},
            "spec": spec,
        }
        contracts, services = [], []
        for t in self.tenancies:
            contracts.append(
                {
                    "apiVersion": API,
                    "kind": "Contract",
                    "metadata": {"name": f"{self.name}-{t.site}"},
                    "spec": {
                        "occupier": self.name,
                        "site": t.site,
                        "start": START,
                        "spaces": t.spaces,
                    },
                }
            )
            quantity = len(t.ports) + t.reserved_ports
            if quantity:
                services.append(
                    {
                        "apiVersion": API,
                        "kind": "Service",
                        "metadata": {"name": f"{self.name}-{t.site}-lan"},
                        "spec": {
                            "occupier": self.name,
                            "site": t.site,
                            "definition": "lan-port",
                            "quantity": quantity,
                        },
                    }
                )
            if t.public_ip and quantity:
                services.append(
                    {
                        "apiVersion": API,
                        "kind": "Service",
                        "metadata": {"name": f"{self.name}-{t.site}-public-ip"},
                        "spec": {"occupier": self.name, "site": t.site, "definition": "public-ip"},
                    }
                )
            if t.numbers:
                services.append(
                    {
                        "apiVersion": API,
                        "kind": "Service",
                        "metadata": {"name": f"{self.name}-{t.site}-voice"},
                        "spec": {
                            "occupier": self.name,
                            "site": t.site,
                            "definition": "voice-line",
                            "quantity": t.numbers,
                        },
                    }
                )
        return {
            "occupier.yaml": [occupier],
            "contracts.yaml": contracts,
            "services.yaml": services,
        }


def _dump(path: Path, docs: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False) if docs else "")


def write_repo(root: Path, sites: list[Site], occupiers: list[Occupier]) -> Path:
    """(Re)write the whole desired-state repo under `root`; returns `root`."""
    for sub in ("catalogue", "sites", "occupiers"):
        shutil.rmtree(root / sub, ignore_errors=True)
    _dump(root / "catalogue" / "lab.yaml", CATALOGUE)
    for site in sites:
        _dump(root / "sites" / f"{site.name}.yaml", [site.doc()])
    for occupier in occupiers:
        write_occupier(root, occupier)
    return root


def write_occupier(root: Path, occupier: Occupier) -> None:
    """(Re)write one occupier's files only."""
    for name, docs in occupier.docs().items():
        if docs:
            _dump(root / "occupiers" / occupier.name / name, docs)
