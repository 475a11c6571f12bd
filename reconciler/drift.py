"""Drift: what someone changed on a device by hand since the last apply. Pure.

Each device's running state of the resources tenantry manages is compared with the intent of
the last apply (the ledger keeps it), never with the desired state: a change still pending in
git is not drift. The reads happen in the application layer (`App.drift`); here the desired
state says which devices exist, where they are reached now and which services a drifted
resource belongs to, and the results become a report for people (human, markdown) and for
tools (JSON).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from drivers.base import Endpoint
from reconciler.model.repo import Repo
from reconciler.plan import Intent

EXIT_IN_SYNC, EXIT_UNREADABLE, EXIT_DRIFT = 0, 1, 2
MARKER = "<!-- tenantry-drift -->"


@dataclass(frozen=True)
class Difference:
    """One managed resource the device runs otherwise than the last apply left it."""

    resource: str  # "port GigabitEthernet1/0/3", "route 203.0.113.4/32", "number +44…"
    running: str  # what the device has ("absent": it does not have it)
    intended: str  # what it should have ("absent": it should not)
    occupier: str = ""
    services: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeviceDrift:
    """One device's result: its differences, or why it could not be read."""

    site: str
    device: str
    platform: str
    differences: tuple[Difference, ...] = ()
    error: str = ""  # the device could not be read: its state is unknown, not in sync


@dataclass
class DriftReport:
    """Each device's differences from the last apply's intent, and what was never applied."""

    devices: list[DeviceDrift] = field(default_factory=list)
    unapplied: list[str] = field(default_factory=list)  # in the desired state, never applied

    @property
    def drifted(self) -> list[DeviceDrift]:
        return [d for d in self.devices if d.differences]

    @property
    def unreadable(self) -> list[DeviceDrift]:
        return [d for d in self.devices if d.error]

    @property
    def resources(self) -> int:
        return sum(len(d.differences) for d in self.devices)

    @property
    def exit_code(self) -> int:
        """1 when a device could not be read (its drift is unknown), else 2 on drift, 0."""
        if self.unreadable:
            return EXIT_UNREADABLE
        return EXIT_DRIFT if self.resources else EXIT_IN_SYNC


# ------------------------------------------------------------------ what to compare


def endpoints(repo: Repo) -> dict[str, tuple[str, Endpoint]]:
    """Every device of the desired state: name → (site, where it is reached now)."""
    found: dict[str, tuple[str, Endpoint]] = {}
    for site in sorted(repo.sites.values(), key=lambda s: s.name):
        spec = site.spec
        for device in [*spec.switches, spec.router, spec.telephony, spec.wifi]:
            if device is not None:
                endpoint = Endpoint(device.name, device.platform, device.host, device.port)
                found[device.name] = (site.name, endpoint)
    return found


def baselines(
    repo: Repo, recorded: Mapping[str, Intent]
) -> tuple[dict[str, Intent], dict[str, str], list[str]]:
    """What each device is read against: the intent of its last apply, reached where the
    desired state says it is now; its site; and the devices no apply has configured yet
    (nothing to compare with). A device gone from the desired state is not checked."""
    targets: dict[str, Intent] = {}
    sites: dict[str, str] = {}
    unapplied = []
    for name, (site, endpoint) in sorted(endpoints(repo).items()):
        last = recorded.get(name)
        if last is None:
            unapplied.append(name)
            continue
        targets[name] = replace(last, endpoint=endpoint)
        sites[name] = site
    return targets, sites, unapplied


# Which infrastructure a resource is provided by: a drifted port belongs to the occupier's
# services with switch ports, a route to those with public addresses, and so on.
_PROVIDED_BY = {
    "port": ("switch_ports",),
    "route": ("public_ips", "public_prefix_length"),
    "number": ("phone_numbers",),
    "registration": ("phone_numbers",),
    "user": ("wifi_users",),
    "device": ("wifi_devices",),
}


def services_of(
    repo: Repo, site: str, occupier: str, resource: str, device: str = ""
) -> tuple[str, ...]:
    """The occupier's services at the site that the resource serves: for a port, those
    with ports of its floor port's role; all of them for what every service needs (the VLAN,
    the gateway, the Wi-Fi group)."""
    mine = repo.services_at.get((occupier, site), [])
    kind, _, name = resource.partition(" ")
    fields = _PROVIDED_BY.get(kind, ())
    role = _port_role(repo, site, occupier, device, name) if kind == "port" else None
    providing = []
    for service in mine:
        definition = repo.definitions.get(service.spec.definition)
        infra = definition.spec.infrastructure if definition else None
        if infra is None or not any(getattr(infra, f) for f in fields):
            continue
        if role is None or (infra.switch_ports is not None and infra.switch_ports.role == role):
            providing.append(service.name)
    return tuple(sorted(providing or (s.name for s in mine)))


def _port_role(repo: Repo, site: str, occupier: str, device: str, interface: str) -> str | None:
    """The role the occupier activated the floor port behind a switch interface for."""
    doc, holder = repo.sites.get(site), repo.occupiers.get(occupier)
    if doc is None or holder is None:
        return None
    floor = {p.interface: p.floor_port
             for s in doc.spec.switches if s.name == device for p in s.ports}.get(interface)
    for activation in holder.spec.activations.floor_ports:
        if activation.site == site and activation.floor_port == floor:
            return str(activation.role)
    return None


def device_drift(
    repo: Repo,
    site: str,
    intent: Intent,
    changes: Iterable[tuple[str, str, str, str]],
    error: str = "",
) -> DeviceDrift:
    """A device's result from its changes (resource, running, intended, occupier)."""
    differences = tuple(
        Difference(resource, running, intended, occupier,
                   services_of(repo, site, occupier, resource, intent.endpoint.name)
                   if occupier else ())
        for resource, running, intended, occupier in changes
    )
    endpoint = intent.endpoint
    return DeviceDrift(site, endpoint.name, endpoint.platform, differences, error)


# ------------------------------------------------------------------ for people and tools


def _whose(d: Difference) -> str:
    if not d.occupier:
        return ""
    services = f": {', '.join(d.services)}" if d.services else ""
    return f" [{d.occupier}{services}]"


def _summary(report: DriftReport) -> str:
    drifted = report.drifted
    text = (f"Drift: {report.resources} resource(s) on {len(drifted)} of "
            f"{len(report.devices)} device(s)")
    if report.unreadable:
        names = ", ".join(d.device for d in report.unreadable)
        text += f"; {len(report.unreadable)} could not be read ({names})"
    if report.unapplied:
        text += f"; {len(report.unapplied)} never applied ({', '.join(report.unapplied)})"
    return text + "."


def _by_site(report: DriftReport) -> dict[str, list[DeviceDrift]]:
    out: dict[str, list[DeviceDrift]] = {}
    for device in sorted(report.devices, key=lambda d: (d.site, d.device)):
        if device.differences or device.error:
            out.setdefault(device.site, []).append(device)
    return out


def text(report: DriftReport) -> str:
    """Like `plan`: per site, per device, one line per drifted resource."""
    lines = []
    for site, devices in _by_site(report).items():
        lines.append(f"site {site}")
        for device in devices:
            if device.error:
                lines.append(f"  device {device.device} ({device.platform}): could not be "
                             f"read: {device.error}")
                continue
            lines.append(f"  device {device.device} ({device.platform})")
            for d in device.differences:
                lines.append(f"    ~ {d.resource}: has {d.running}; should have "
                             f"{d.intended}{_whose(d)}")
    if not report.resources and not report.unreadable:
        lines.append(f"In sync: {len(report.devices)} device(s) run the intent of the last "
                     "apply.")
        if report.unapplied:
            lines.append(_summary(report))
    else:
        lines.append(_summary(report))
    return "\n".join(lines)


def markdown(report: DriftReport) -> str:
    """An issue or pull-request comment: a table per site."""
    lines = [MARKER, "### tenantry drift", ""]
    for site, devices in _by_site(report).items():
        lines += [f"#### site `{site}`", "",
                  "| device | resource | has | should have | occupier | services |",
                  "|---|---|---|---|---|---|"]
        for device in devices:
            if device.error:
                lines.append(f"| `{device.device}` | — | **could not be read**: "
                             f"{_cell(device.error)} | | | |")
            for d in device.differences:
                lines.append(
                    f"| `{device.device}` | `{_cell(d.resource)}` | {_cell(d.running)} | "
                    f"{_cell(d.intended)} | {_cell(d.occupier)} | {_cell(', '.join(d.services))} |"
                )
        lines.append("")
    lines.append(_summary(report) if report.resources or report.unreadable
                 else f"In sync: {len(report.devices)} device(s).")
    return "\n".join(lines)


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def as_json(report: DriftReport) -> str:
    doc = {
        "in_sync": report.exit_code == EXIT_IN_SYNC,
        "resources": report.resources,
        "devices": [
            {
                "site": d.site,
                "device": d.device,
                "platform": d.platform,
                "readable": not d.error,
                "error": d.error,
                "differences": [
                    {"resource": x.resource, "running": x.running, "intended": x.intended,
                     "occupier": x.occupier, "services": list(x.services)}
                    for x in d.differences
                ],
            }
            for d in sorted(report.devices, key=lambda d: (d.site, d.device))
        ],
        "unapplied": report.unapplied,
    }
    return json.dumps(doc, indent=2)


FORMATS = {"human": text, "json": as_json, "markdown": markdown}
