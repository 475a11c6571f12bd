"""A small valid repo (one site, the seed catalogue, one occupier) that each rule test bends.

`world.with_(...)` returns findings for the base plus extra or replaced documents, so every
test states only what differs from a valid repo.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.findings import Finding, Severity
from reconciler.model.repo import Repo
from reconciler.rules import Context
from reconciler.validate import validate

TODAY = date(2026, 11, 23)

SITE: dict[str, Any] = {
    "apiVersion": "tenantry.dev/v1alpha1",
    "kind": "Site",
    "metadata": {"name": "london-bridge"},
    "spec": {
        "displayName": "London Bridge",
        "admins": ["alice", "ops-team"],
        "coolingOffDays": 90,
        "vlans": {"range": "100-899", "reserved": [100, 101], "parking": 999, "voice": 998},
        "privateSupernet": {"cidr": "10.64.0.0/16", "prefixLength": 24},
        "publicPools": [
            {"name": "transit", "cidr": "203.0.113.0/26", "gateway": "203.0.113.1",
             "exclude": ["203.0.113.2"]}
        ],
        "numberBlocks": [{"first": "+442079460000", "last": "+442079460199"}],
        "router": {"name": "lb-rtr1", "platform": "frr", "host": "192.0.2.10"},
        "switches": [{
            "name": "lb-sw1", "platform": "cisco_iosxe", "host": "192.0.2.11",
            "ports": [{"interface": f"GigabitEthernet1/0/{i}", "floorPort": f"F3-0{i}"}
                      for i in range(1, 7)],
        }],
        "spaces": [
            {"name": "suite-301", "floorPorts": ["F3-01", "F3-02", "F3-03", "F3-04"]},
            {"name": "suite-302", "floorPorts": ["F3-05", "F3-06"]},
        ],
    },
}


def site(name: str = "london-bridge", **spec: Any) -> dict[str, Any]:
    """A copy of SITE with another name and some spec fields replaced."""
    doc = copy.deepcopy(SITE)
    doc["metadata"]["name"] = name
    doc["spec"].update(spec)
    return doc


def definition(name: str, category: str, **spec: Any) -> dict[str, Any]:
    base = {"category": category, "description": name, "cost": "1.00", "rrp": "10.00"}
    base.update(spec)
    return {"apiVersion": "tenantry.dev/v1alpha1", "kind": "ServiceDefinition",
            "metadata": {"name": name}, "spec": base}


CATALOGUE = [
    definition("internet-lan-100", "internet", quantity={"min": 1, "max": 10, "default": 1},
               excludes=["internet-lan-1000"],
               infrastructure={"switchPorts": {"count": 1, "role": "internet"}}),
    definition("internet-lan-1000", "internet", quantity={"min": 1, "max": 10, "default": 1},
               excludes=["internet-lan-100"],
               infrastructure={"switchPorts": {"count": 1, "role": "internet"}}),
    definition("public-ip", "public-ip", cost="5.00", rrp="15.00",
               quantity={"min": 1, "max": 1}, maxPerOccupier=1,
               requires=[{"anyOf": ["internet-lan-100", "internet-lan-1000"]}],
               infrastructure={"switchPorts": {"count": 2, "role": "public-ip"},
                               "publicIPs": 1}),
    definition("voice-line", "voice", cost="0.00", rrp="12.00", quantity={"min": 1, "max": 0},
               infrastructure={"phoneNumbers": 1,
                               "switchPorts": {"count": 1, "role": "voice"}}),
    definition("call-recording", "call-feature", requires=["voice-line"]),
    definition("wifi-user", "wifi", cost="0.00", rrp="3.00",
               quantity={"min": 1, "max": 0, "included": 2}, infrastructure={"wifiUsers": 1}),
    definition("wifi-device", "wifi", cost="0.00", rrp="5.00", quantity={"min": 1, "max": 0},
               infrastructure={"wifiDevices": 1}),
    definition("adsl-legacy", "internet", inactive=True,
               infrastructure={"switchPorts": {"count": 1, "role": "internet"}}),
]


def occupier(name: str = "acme", **spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"displayName": f"{name.title()} Ltd"}
    base.update(spec)
    return {"apiVersion": "tenantry.dev/v1alpha1", "kind": "Occupier",
            "metadata": {"name": name}, "spec": base}


def contract(name: str = "acme-lb", occupier: str = "acme", start: str = "2026-01-01",
             **spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"occupier": occupier, "site": "london-bridge", "start": start,
                            "spaces": ["suite-301"]}
    base.update(spec)
    return {"apiVersion": "tenantry.dev/v1alpha1", "kind": "Contract",
            "metadata": {"name": name}, "spec": base}


def service(name: str, definition: str, occupier: str = "acme", **spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"occupier": occupier, "site": "london-bridge",
                            "definition": definition}
    base.update(spec)
    return {"apiVersion": "tenantry.dev/v1alpha1", "kind": "Service",
            "metadata": {"name": name}, "spec": base}


@dataclass
class Result:
    findings: list[Finding]
    root: Path
    # Added for the rule tests: the file each document was written to, and the loaded repo.
    files: dict[tuple[str, str], str] = field(default_factory=dict)
    repo: Repo | None = None

    def of(self, rule: str) -> list[Finding]:
        return [f for f in self.findings if f.rule == rule]

    def errors(self, rule: str) -> list[Finding]:
        return [f for f in self.of(rule) if f.is_error]

    def warnings(self, rule: str) -> list[Finding]:
        return [f for f in self.of(rule) if f.severity is Severity.WARNING]

    def messages(self, rule: str) -> str:
        return "\n".join(f.text() for f in self.of(rule))

    def one(self, rule: str) -> Finding:
        """The only finding of `rule`; fails listing every finding otherwise."""
        found = self.of(rule)
        assert len(found) == 1, [f.text() for f in self.findings]
        return found[0]

    def file_of(self, kind: str, name: str) -> str:
        return self.files[kind, name]

    def line_text(self, finding: Finding) -> str:
        """The text of the line a finding points at."""
        assert finding.line > 0, finding.text()
        return Path(finding.file).read_text().splitlines()[finding.line - 1]


def assert_at(
    result: Result, finding: Finding, kind: str, name: str, text: str = "", span: int = 1
) -> None:
    """The finding points into the file holding `kind/name`, at a line containing `text` (or,
    for a finding on a list item, within the item's first `span` lines)."""
    assert finding.file == result.file_of(kind, name), finding.text()
    assert finding.line > 0 and finding.column > 0, finding.text()
    lines = Path(finding.file).read_text().splitlines()[finding.line - 1 : finding.line - 1 + span]
    assert any(text in line for line in lines), (finding.text(), lines)


class World:
    def __init__(self, root: Path) -> None:
        self.root = root

    def with_(self, *docs: dict[str, Any], base: Iterable[dict[str, Any]] | None = None,
              today: date = TODAY, actor: str | None = None, base_state: Any = None,
              **context: Any) -> Result:
        """`context` (existing_services, service_status, occupier_phase, changed, approvers)
        is passed to the rules as a `Context`, as the ledger or a pull request's base would;
        `base_state` is P1's base (reconciler.change.state of the state before the change)."""
        if base_state is not None:
            context["base"] = base_state
        everything = list(base if base is not None else [SITE, *CATALOGUE, occupier(),
                                                         contract()])
        names = {(d["kind"], d["metadata"]["name"]) for d in docs}
        everything = [d for d in everything if (d["kind"], d["metadata"]["name"]) not in names]
        everything.extend(docs)
        folder = self.root / f"repo{len(list(self.root.iterdir()))}"
        folder.mkdir()
        files: dict[tuple[str, str], str] = {}
        for index, doc in enumerate(everything):
            kind = doc["kind"].lower()
            path = folder / f"{index:02d}-{kind}.yaml"
            path.write_text(yaml.safe_dump(doc, sort_keys=False))
            files[doc["kind"], doc["metadata"]["name"]] = str(path)
        ctx = Context(today=today, actor=actor, **context) if context else None
        result = validate(str(folder), today, actor, context=ctx)
        return Result(result.findings, folder, files, result.repo)


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)
