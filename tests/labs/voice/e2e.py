"""End-to-end support: a mini desired-state repo whose Site points its telephony and Wi-Fi at
the running labs, and the real `tenantry` CLI run as a subprocess against it.

`Desk` holds the repo as plain dicts (site, catalogue, occupiers with their contract and
services); `write()` turns them into YAML files, one file per occupier (the Occupier document
first, so findings point into it), and `apply()` / `plan()` run the CLI with the environment
a deployment gives it: the number database (TENANTRY_KAMAILIO_DB), the RADIUS database
(TENANTRY_RADIUS_DB) and the Wi-Fi passwords (TENANTRY_WIFI_SECRET_<REF>).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from drivers.freeradius import EnvSecretStore

from .voicelab import KamailioLab, RadiusLab

API = "tenantry.dev/v1alpha1"
SITE = "lab-site"
TODAY = date(2026, 3, 2)
COOLING_OFF_DAYS = 30
BLOCK = ("+442079460001", "+442079460009")
# environment a developer's shell may carry that would change what the CLI does
CLEARED_ENV = (
    "TENANTRY_LEDGER",
    "TENANTRY_DRIVERS",
    "TENANTRY_ACTOR",
    "TENANTRY_KAMAILIO_RPC_URL",
    "TENANTRY_WIFI_SECRETS",
)


def doc(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API, "kind": kind, "metadata": {"name": name}, "spec": spec}


def definition(name: str, category: str, **infrastructure: int) -> dict[str, Any]:
    return doc(
        "ServiceDefinition",
        name,
        {
            "category": category,
            "description": name,
            "cost": "0.00",
            "rrp": "5.00",
            "quantity": {"min": 1, "max": 0},
            "infrastructure": infrastructure,
        },
    )


CATALOGUE = [
    definition("voice-line", "voice", phoneNumbers=1),
    definition("wifi-user", "wifi", wifiUsers=1),
    definition("wifi-device", "wifi", wifiDevices=1),
]


@dataclass
class Run:
    """One CLI run."""

    argv: list[str]
    code: int
    out: str  # stdout and stderr together, for messages
    seconds: float
    stdout: str = ""  # alone, for machine formats (notes go to stderr)

    def __str__(self) -> str:
        return f"$ tenantry {' '.join(self.argv)}  → exit {self.code}\n{self.out}"

    @property
    def applied(self) -> dict[str, int]:
        """The numbers of the `Applied:` summary line."""
        m = re.search(
            r"Applied: (\d+) allocated or changed, (\d+) released, (\d+) commands to (\d+) "
            r"devices, (\d+) failed",
            self.out,
        )
        assert m, str(self)
        keys = ("allocated", "released", "commands", "devices", "failed")
        return dict(zip(keys, map(int, m.groups()), strict=True))


@dataclass
class Occ:
    """One occupier: its Occupier spec, and its services (name → definition, quantity)."""

    name: str
    display: str
    users: list[dict[str, Any]] = field(default_factory=list)
    devices: list[dict[str, Any]] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)  # declared activations
    services: dict[str, tuple[str, int]] = field(default_factory=dict)
    decommission: bool = False
    decommission_at: date | None = None
    logged_in: tuple[str, ...] = ()  # numbers with a digital handset logged in

    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"displayName": self.display}
        if self.users:
            spec["users"] = self.users
        if self.devices:
            spec["wifiDevices"] = [{**d, "site": SITE} for d in self.devices]  # name first
        if self.numbers:
            spec["activations"] = {
                "numbers": [
                    {"number": n, "site": SITE, "handset": "digital", "loggedIn": True}
                    if n in self.logged_in
                    else {"number": n, "site": SITE, "handset": "softphone"}
                    for n in self.numbers
                ]
            }
        if self.decommission:
            spec["decommission"] = {"confirm": self.display, "irreversible": True}
            if self.decommission_at is not None:
                spec["decommission"]["at"] = self.decommission_at
        return spec

    def documents(self) -> list[dict[str, Any]]:
        docs = [
            doc("Occupier", self.name, self.spec()),
            doc(
                "Contract",
                f"{self.name}-lab",
                {"occupier": self.name, "site": SITE, "start": date(2026, 1, 1)},
            ),
        ]
        for name, (definition_name, quantity) in sorted(self.services.items()):
            docs.append(
                doc(
                    "Service",
                    name,
                    {
                        "occupier": self.name,
                        "site": SITE,
                        "definition": definition_name,
                        "quantity": quantity,
                    },
                )
            )
        return docs


class Desk:
    """The mini desired-state repo, the ledger and the two labs, driven through the CLI."""

    def __init__(
        self, workdir: Path, kamailio: KamailioLab, radius: RadiusLab, secrets: dict[str, str]
    ) -> None:
        self.root = workdir / "repo"
        self.state = workdir / "ledger.db"
        self.kamailio = kamailio
        self.radius = radius
        self.secrets = dict(secrets)  # secret ref ("acme/jo") → password
        self.occupiers: dict[str, Occ] = {}
        self.runs: list[Run] = []

    # -- the repo

    def site(self) -> dict[str, Any]:
        return doc(
            "Site",
            SITE,
            {
                "displayName": "Lab Site",
                "admins": ["alice"],
                "coolingOffDays": COOLING_OFF_DAYS,
                "vlans": {"range": "100-199", "parking": 999},
                "privateSupernet": {"cidr": "10.64.0.0/16", "prefixLength": 24},
                "numberBlocks": [{"first": BLOCK[0], "last": BLOCK[1]}],
                "telephony": {
                    "name": "lab-sip",
                    "platform": "kamailio",
                    "host": "127.0.0.1",
                    "port": self.kamailio.rpc_port,
                },
                "wifi": {
                    "name": "lab-radius",
                    "platform": "freeradius",
                    "host": "127.0.0.1",
                    "port": self.radius.auth_port,
                },
            },
        )

    def add(self, occ: Occ) -> Occ:
        self.occupiers[occ.name] = occ
        return occ

    def file_of(self, occupier: str) -> Path:
        return self.root / "occupiers" / f"{occupier}.yaml"

    def write(self) -> None:
        if self.root.exists():
            shutil.rmtree(self.root)
        (self.root / "occupiers").mkdir(parents=True)
        _dump(self.root / "site.yaml", [self.site()])
        _dump(self.root / "catalogue.yaml", CATALOGUE)
        for occ in self.occupiers.values():
            _dump(self.file_of(occ.name), occ.documents())

    def line_of(self, occupier: str, text: str) -> int:
        """The 1-based line of the first occurrence of `text` in the occupier's file."""
        for number, line in enumerate(self.file_of(occupier).read_text().splitlines(), 1):
            if text in line:
                return number
        raise AssertionError(f"{text!r} not in {self.file_of(occupier)}")

    # -- the CLI

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in CLEARED_ENV}
        env["TENANTRY_KAMAILIO_DB"] = str(self.kamailio.db_path)
        env["TENANTRY_RADIUS_DB"] = str(self.radius.db_path)
        for ref, password in self.secrets.items():
            env[EnvSecretStore.env_name(ref)] = password
        return env

    def cli(self, *argv: str) -> Run:
        t0 = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "reconciler.cli", *argv],
            capture_output=True,
            text=True,
            env=self.env(),
            cwd=self.root.parent,
            timeout=120,
        )
        run = Run(
            list(argv),
            done.returncode,
            done.stdout + done.stderr,
            time.perf_counter() - t0,
            done.stdout,
        )
        self.runs.append(run)
        return run

    def apply(self, today: date = TODAY) -> Run:
        self.write()
        return self.cli(
            "apply",
            str(self.root),
            "--drivers",
            "devices",
            "--state",
            str(self.state),
            "--today",
            today.isoformat(),
        )

    def plan(self, today: date = TODAY) -> tuple[Run, dict[str, Any] | None]:
        self.write()
        run = self.cli(
            "plan",
            str(self.root),
            "--format",
            "json",
            "--state",
            str(self.state),
            "--today",
            today.isoformat(),
        )
        try:
            return run, json.loads(run.stdout)
        except ValueError:
            return run, None

    # -- what the ledger and the servers hold

    def ledger(self, kind: str = "number") -> dict[str, tuple[str, str, str | None]]:
        """value → (holder, state, until) of the ledger rows of one kind at the site."""
        with sqlite3.connect(self.state) as db:
            rows = db.execute(
                "SELECT value, holder, state, until FROM allocation WHERE site = ? AND kind = ?",
                (SITE, kind),
            ).fetchall()
        return {v: (h, s, u) for v, h, s, u in rows}

    def vlan_of(self, occupier: str) -> str:
        held = [v for v, (h, _, _) in self.ledger("vlan").items() if h == occupier]
        assert len(held) == 1, held
        return held[0]

    def server_state(self) -> dict[str, Any]:
        """Everything apply may change on the two servers, `updated_at` included."""
        with sqlite3.connect(self.kamailio.db_path) as db:
            numbers = sorted(db.execute("SELECT * FROM numbers").fetchall())
        dump = self.kamailio.rpc("htable.dump", "numbers").get("result") or []
        live = sorted((i["name"], i["value"]) for b in dump for i in b.get("slot", []))
        with sqlite3.connect(self.radius.db_path) as db:
            radius = {
                t: sorted(db.execute(f"SELECT * FROM {t}").fetchall())
                for t in ("radcheck", "radreply", "radusergroup", "radgroupreply", "radgroupcheck")
            }
        return {"numbers": numbers, "htable": live, "radius": radius}


def _dump(path: Path, docs: list[dict[str, Any]]) -> None:
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False, default_flow_style=False))
