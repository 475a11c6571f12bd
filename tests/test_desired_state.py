"""desired-state/ is the project's realistic example repo (README quick start): it must stay
valid, keep its editor schema headers, and keep showing what the catalogue rules are about."""

from __future__ import annotations

import json
import re
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml_rs
from click.testing import CliRunner

from reconciler import schemas
from reconciler.catalogue import (
    Infra,
    Status,
    Usage,
    contract_status,
    infrastructure,
    service_status,
)
from reconciler.cli import main
from reconciler.load import load
from reconciler.model.repo import Repo

ROOT = Path(__file__).resolve().parent.parent
DESIRED = ROOT / "desired-state"
SCHEMAS = ROOT / "schemas"
TODAY = date(2026, 11, 23)
HEADER = re.compile(r"^# yaml-language-server: \$schema=(?P<path>\S+\.schema\.json)$")
FILES = sorted(DESIRED.rglob("*.yaml"))
# The only findings allowed, both deliberate: a legacy line on an inactive definition (S4)
# and a founding-member price under cost (S3).
EXPECTED_WARNINGS = {
    ("occupiers/initech/services.yaml", "S4", "initech-mw-adsl"),
    ("occupiers/stark/services.yaml", "S3", "stark-lb-internet"),
}


@pytest.fixture(scope="module")
def repo() -> Repo:
    loaded = load(str(DESIRED))
    assert not loaded.findings
    return loaded.repo


def documents(path: Path) -> list[dict[str, Any]]:
    """Parsed as the tool parses: YAML 1.2 core schema, dates kept as strings."""
    loaded = yaml_rs.loads(path.read_text(encoding="utf-8"), parse_datetime=False)
    return loaded if isinstance(loaded, list) else [loaded]


def test_validate_exits_0_with_only_the_deliberate_warnings() -> None:
    result = CliRunner().invoke(
        main, ["validate", str(DESIRED), "--today", TODAY.isoformat(), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)  # notes for people go to stderr
    found = {
        (Path(f["file"]).resolve().relative_to(DESIRED).as_posix(), f["rule"],
         f["message"].split()[1])
        for f in report["findings"]
    }
    assert all(f["severity"] == "warning" for f in report["findings"])
    assert found == EXPECTED_WARNINGS
    assert report["documents"] >= 60


def test_validate_as_a_site_admin() -> None:
    """ops-team administers both sites, so it may change every document (P1)."""
    result = CliRunner().invoke(
        main, ["validate", str(DESIRED), "--today", TODAY.isoformat(), "--actor", "ops-team"]
    )
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("path", FILES, ids=[p.relative_to(DESIRED).as_posix() for p in FILES])
def test_every_file_starts_with_its_schema_header(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    found = HEADER.match(first)
    assert found, f"{path}: first line must be '# yaml-language-server: $schema=...'"
    schema = (path.parent / found["path"]).resolve()
    assert schema.parent == SCHEMAS and schema.exists(), f"{path}: {found['path']} not found"
    kinds = {doc["kind"] for doc in documents(path)}
    assert len(kinds) == 1, f"{path}: one kind per file, so that one schema fits ({kinds})"
    assert schema.name == schemas.file_name(kinds.pop())


@cache
def validator(kind: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / schemas.file_name(kind)).read_text())
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


@pytest.mark.parametrize("path", FILES, ids=[p.relative_to(DESIRED).as_posix() for p in FILES])
def test_every_document_is_valid_per_the_json_schemas(path: Path) -> None:
    for doc in documents(path):
        errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in validator(doc["kind"]).iter_errors(doc)]
        assert errors == [], f"{path} {doc['kind']}/{doc['metadata']['name']}"


def test_seed_example_public_ip_plus_internet_shows_switch_ports_0_of_3(repo: Repo) -> None:
    """Seed 000: no services, add Public IP + Internet (LAN) -> switch ports 0/3."""
    services = sorted(s.spec.definition for s in repo.services_at[("northwind", "london-bridge")])
    assert services == ["internet-lan-100", "public-ip"]
    occupier = repo.occupiers["northwind"].spec
    assert not occupier.activations.floor_ports and not occupier.activations.numbers
    usage = infrastructure(repo, "northwind", "london-bridge", TODAY)
    assert usage[Infra.SWITCH_PORTS] == Usage(in_use=0, allocated=3)
    assert str(usage[Infra.SWITCH_PORTS]) == "0/3"
    assert usage[Infra.PUBLIC_IPS].allocated == 1


def test_nothing_is_in_use_beyond_its_allocation(repo: Repo) -> None:
    """S7 everywhere: X <= Y for every occupier at every site where it has a contract."""
    for occupier in repo.occupiers.values():
        if occupier.spec.decommission is not None:
            continue
        for site in repo.sites_of(occupier.name):
            for kind, usage in infrastructure(repo, occupier.name, site, TODAY).items():
                assert usage.in_use <= usage.allocated, (occupier.name, site, kind, usage)


def test_the_example_covers_the_catalogue(repo: Repo) -> None:
    assert len(repo.occupiers) >= 6
    assert len(repo.definitions) >= 10
    assert len(repo.sites) == 2
    platforms = {
        name: {switch.platform for switch in site.spec.switches}
        for name, site in repo.sites.items()
    }
    assert platforms == {"london-bridge": {"cisco_iosxe"}, "manchester-works": {"openvswitch"}}
    definitions = repo.definitions.values()
    assert any(d.spec.inactive for d in definitions)
    assert any(d.spec.requires for d in definitions)
    assert any(d.spec.excludes for d in definitions)
    assert any(d.spec.max_per_occupier for d in definitions)
    assert any(d.spec.quantity.included for d in definitions)
    assert any(d.spec.infrastructure.public_prefix_length for d in definitions)
    services = repo.services.values()
    assert any(s.spec.replaces for s in services)
    assert any(s.spec.changes for s in services)
    assert any(s.spec.price is None for s in services)  # at rrp
    assert any(len(repo.sites_of(o)) == 2 for o in repo.occupiers)
    assert any(len(cs) > 1 for cs in repo.contracts_at.values())


def test_contract_statuses(repo: Repo) -> None:
    status = {c.name: contract_status(c, TODAY) for c in repo.contracts.values()}
    assert status["hooli-mw-2027"] is Status.SCHEDULED
    assert status["initech-mw-2023"] is Status.INACTIVE
    assert status["umbrella-lb-2024"] is Status.INACTIVE
    assert status["acme-lb-2026"] is Status.ACTIVE
    assert Status.SCHEDULED in status.values() and Status.INACTIVE in status.values()


def test_service_statuses_follow_the_contract(repo: Repo) -> None:
    def of(name: str) -> Status:
        return service_status(repo, repo.services[name], TODAY)

    assert of("hooli-mw-internet") is Status.SCHEDULED  # contract starts 2027-01-04
    assert of("initech-mw-voice") is Status.ACTIVE  # ended, atEnd: keep
    assert of("umbrella-lb-voice") is Status.INACTIVE  # ended, atEnd: deprovision
    assert of("umbrella-mw-voice") is Status.ACTIVE
    assert of("wayne-lb-voice") is Status.ACTIVE  # decommission scheduled for 2026-12-18
    assert service_status(repo, repo.services["wayne-lb-voice"], date(2026, 12, 18)) is (
        Status.INACTIVE
    )


def test_numbers_and_macs(repo: Repo) -> None:
    """Every activated number is in a block of its site; a MAC is unique per site."""
    for occupier in repo.occupiers.values():
        for activation in occupier.spec.activations.numbers:
            blocks = repo.sites[activation.site].spec.number_blocks
            assert any(b.first <= activation.number <= b.last for b in blocks), activation
    macs = [(d.site, d.mac.replace("-", ":").lower())
            for o in repo.occupiers.values() for d in o.spec.wifi_devices]
    assert len(macs) == len(set(macs))
