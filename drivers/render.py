"""The embedded default driver: write each device's intended configuration to a directory.

A newcomer needs no hardware: `render` turns every intent type into stable text, one file per
device (Cisco-style for switches, FRR-style for routers, JSON for telephony and Wi-Fi). The
rendering functions are pure. `RenderDriver` is the render platform of every device kind,
run by the same loop as a device: its files are its running state (`read_running` parses a
file back into the intent it holds), the steps are the changed lines, `push` replaces the
file only when its content changes, so writing the same intent again reports zero commands.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from drivers.base import (
    Credentials,
    Endpoint,
    GatewayIntent,
    Intent,
    IntentRefused,
    NumberIntent,
    PushError,
    RouteIntent,
    RouterIntent,
    SwitchIntent,
    TelephonyIntent,
    Transcript,
    WifiDeviceIntent,
    WifiGroupIntent,
    WifiIntent,
    WifiUserIntent,
    safe_text,
)
from drivers.cisco_iosxe import check_intent as check_switch_intent
from drivers.cisco_iosxe import intended_lines, natural_key, parse_running_config
from drivers.contract import Driver, Remediation, changes_between, describe_port
from drivers.frr import Interface, describe_interface, parse_interfaces, parse_static_routes
from drivers.kamailio import Entry, describe

PLATFORM = "render"


# A router's addresses are parsed when its file is rendered and again when it is compared:
# parsed once (a 10,000-occupier apply has tens of thousands).
@lru_cache(maxsize=1 << 16)
def _interface(address: str) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
    return ipaddress.ip_interface(address)


@lru_cache(maxsize=1 << 16)
def _network(prefix: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(prefix, strict=False)


def _header(intent: Intent, comment: str) -> list[str]:
    ep = intent.endpoint
    return [f"{comment} tenantry intended configuration: {ep.name} ({ep.platform})",
            f"{comment} managed resources only; generated, do not edit"]


def render_switch(intent: SwitchIntent) -> str:
    check_switch_intent(intent)
    lines = [*_header(intent, "!"), "!"]
    for vlan in sorted(set(intent.vlans)):
        lines += [f"vlan {vlan}", "!"]
    for port in sorted(intent.ports, key=lambda p: natural_key(p.interface)):
        lines += [*intended_lines(port), "!"]
    return "\n".join([*lines, "end"]) + "\n"


def render_router(intent: RouterIntent) -> str:
    lines = [*_header(intent, "!")]
    for pool in sorted(intent.managed_prefixes):
        lines.append(f"! managed prefix {pool}")
    lines.append("!")
    for gw in sorted(intent.gateways, key=lambda g: g.vlan):
        lines += [f"interface vlan{gw.vlan}"]
        if gw.description:
            lines.append(f" description {safe_text(gw.description)}")
        lines += [f" ip address {_interface(gw.address)}", "exit", "!"]
    routes = sorted(
        ((net.version, net, r.next_hop) for r in intent.routes
         for net in [_network(r.prefix)]),
        key=lambda x: (x[0], x[1].network_address.packed, x[1].prefixlen, x[2]),
    )
    for _, net, next_hop in routes:
        keyword = "ip" if net.version == 4 else "ipv6"
        lines.append(f"{keyword} route {net} {safe_text(next_hop)}")
    return "\n".join([*lines, "!", "end"]) + "\n"


def render_telephony(intent: TelephonyIntent) -> str:
    doc = {
        "device": intent.endpoint.name,
        "platform": intent.endpoint.platform,
        "numbers": [
            {"number": n.number, "state": n.state, "occupier": n.occupier, "until": n.until,
             "assignee": n.assignee}
            for n in sorted(intent.numbers, key=lambda n: n.number)
        ],
        "logout": sorted(intent.logout),
    }
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def render_wifi(intent: WifiIntent) -> str:
    doc = {
        "device": intent.endpoint.name,
        "platform": intent.endpoint.platform,
        "groups": [{"name": g.name, "vlan": g.vlan}
                   for g in sorted(intent.groups, key=lambda g: g.name)],
        # the secret itself never leaves the credentials store: only its key is written
        "users": [{"username": u.username, "group": u.group, "secret_ref": u.secret_ref}
                  for u in sorted(intent.users, key=lambda u: u.username)],
        "devices": [{"mac": d.mac, "group": d.group}
                    for d in sorted(intent.devices, key=lambda d: d.mac)],
    }
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def file_name(intent: Intent) -> str:
    """Device name made safe for a file name, with a suffix per intent kind."""
    base = re.sub(r"[^A-Za-z0-9._-]", "_", intent.endpoint.name).lstrip(".") or "device"
    suffix = {SwitchIntent: ".switch.cfg", RouterIntent: ".router.conf",
              TelephonyIntent: ".telephony.json", WifiIntent: ".wifi.json"}[type(intent)]
    return base + suffix


def render(intent: Intent) -> tuple[str, str]:
    """(file name, content) for one intent; pure."""
    if isinstance(intent, SwitchIntent):
        content = render_switch(intent)
    elif isinstance(intent, RouterIntent):
        content = render_router(intent)
    elif isinstance(intent, TelephonyIntent):
        content = render_telephony(intent)
    else:
        content = render_wifi(intent)
    return file_name(intent), content


# ------------------------------------------------------------------ parsing a file back


def parse(text: str, intent: Intent) -> Intent:
    """The intent a rendered file holds (of `intent`'s kind; an empty text holds nothing)."""
    ep = intent.endpoint
    if isinstance(intent, SwitchIntent):
        ports, vlans = parse_running_config(text)
        return SwitchIntent(ep, tuple(ports.values()), tuple(sorted(vlans)))
    if isinstance(intent, RouterIntent):
        return _parse_router(text, ep)
    doc: dict[str, Any] = json.loads(text) if text.strip() else {}
    if isinstance(intent, TelephonyIntent):
        return TelephonyIntent(
            ep,
            tuple(NumberIntent(n["number"], n["state"], n["occupier"], n["until"],
                               n.get("assignee", "")) for n in doc.get("numbers", [])),
            tuple(doc.get("logout", [])),
        )
    return WifiIntent(
        ep,
        tuple(WifiGroupIntent(g["name"], g["vlan"]) for g in doc.get("groups", [])),
        tuple(WifiUserIntent(u["username"], u["group"], u["secret_ref"])
              for u in doc.get("users", [])),
        tuple(WifiDeviceIntent(d["mac"], d["group"]) for d in doc.get("devices", [])),
    )


def _parse_router(text: str, ep: Endpoint) -> RouterIntent:
    gateways = tuple(
        GatewayIntent(int(name[len("vlan"):]), address, iface.description)
        for name, iface in sorted(parse_interfaces(text).items())
        if name.startswith("vlan") and name[len("vlan"):].isdigit()
        for address in sorted(iface.addresses)
    )
    routes = tuple(RouteIntent(r.prefix, r.next_hop) for r in sorted(parse_static_routes(text)))
    pools = tuple(line.split()[-1] for line in text.splitlines()
                  if line.startswith("! managed prefix "))
    return RouterIntent(ep, routes, gateways, pools)


def resources(intent: Intent) -> tuple[dict[str, str], dict[str, str]]:
    """{resource: state} of what an intent (or a file parsed back) holds, and the owners."""
    if isinstance(intent, SwitchIntent):
        ports = {f"port {p.interface}": describe_port(p) for p in intent.ports}
        vlans = {f"vlan {v}": "defined" for v in intent.vlans}
        return ports | vlans, {f"port {p.interface}": p.occupier for p in intent.ports}
    if isinstance(intent, RouterIntent):
        gws = {f"interface vlan{g.vlan}": describe_interface(
            Interface(frozenset({str(_interface(g.address))}), g.description))
            for g in intent.gateways}
        routes = {f"route {_network(r.prefix)}": f"via {r.next_hop}"
                  for r in intent.routes}
        owners = {f"interface vlan{g.vlan}": g.description for g in intent.gateways}
        owners |= {f"route {_network(r.prefix)}": r.description
                   for r in intent.routes}
        return gws | routes, owners
    if isinstance(intent, TelephonyIntent):
        numbers = {f"number {n.number}": describe(Entry(n.state, n.occupier, n.until,
                                                        n.assignee)) for n in intent.numbers}
        logouts = {f"registration {n}": "logged out" for n in intent.logout}
        return numbers | logouts, {f"number {n.number}": n.occupier for n in intent.numbers}
    groups = {f"group {g.name}": f"vlan {g.vlan}" for g in intent.groups}
    users = {f"user {u.username}": f"in {u.group}, secret {u.secret_ref}" for u in intent.users}
    devices = {f"device {d.mac}": f"in {d.group}" for d in intent.devices}
    owners = {f"user {u.username}": u.group for u in intent.users}
    owners |= {f"device {d.mac}": d.group for d in intent.devices}
    return groups | users | devices, owners | {f"group {g.name}": g.name for g in intent.groups}


def changed_lines(old: str, new: str) -> list[str]:
    """The changed lines of a file, `+ added` / `- removed`: the render platform's steps."""
    if not old:  # a new file: every line is added (what the diff says, without diffing)
        return ["+" + line for line in new.splitlines() if not line.startswith("++")]
    added = (
        line.rstrip("\n")
        for line in difflib.unified_diff(old.splitlines(), new.splitlines(), n=0, lineterm="")
        if line[:1] in "+-"
    )
    return [line for line in added if not line.startswith(("+++", "---"))]


# ------------------------------------------------------------------ the driver


class File:
    """A rendered file as it is on disk ("" when there is none) and the intent it holds,
    parsed only when asked: a file that is already what the intent renders to needs no
    parsing."""

    def __init__(self, text: str, intent: Intent) -> None:
        self.text = text
        self._intent = intent
        self._holds: Intent | None = None

    @property
    def holds(self) -> Intent:
        if self._holds is None:
            try:
                self._holds = parse(self.text, self._intent)
            except (ValueError, KeyError, TypeError):  # edited by hand: it will be rewritten
                self._holds = parse("", self._intent)
        return self._holds


class RenderDriver(Driver[Intent, Path, File, str]):
    """Writes intended configuration files; the render platform of every device kind.

    Each intent is rendered once per session, although the loop asks for it at every stage
    (check, diff, push, verify): `check` keeps the text until the session ends."""

    kind = "any"
    platform = PLATFORM
    waits_on_device = False  # rendering is computing: devices are converged in turn

    def __init__(self, out_dir: str | Path | None = None) -> None:
        """`out_dir` defaults to TENANTRY_RENDER_DIR, else ./rendered."""
        self.out_dir = Path(out_dir or os.environ.get("TENANTRY_RENDER_DIR", "rendered"))
        # id(intent) → (intent, file name, content); the intent is kept so that its id is
        # not reused while the entry lives. Threads apply different devices: a dict
        # operation is atomic, and each entry is used by one thread only.
        self._rendered: dict[int, tuple[Intent, str, str]] = {}

    def _render(self, intent: Intent) -> tuple[str, str]:
        found = self._rendered.get(id(intent))
        if found is not None and found[0] is intent:
            return found[1], found[2]
        return render(intent)

    def check(self, intent: Intent) -> None:
        try:
            name, content = render(intent)
        except ValueError as exc:
            raise IntentRefused(intent.endpoint.name, str(exc)) from None
        self._rendered[id(intent)] = (intent, name, content)

    @contextmanager
    def session(self, intent: Intent, credentials: Credentials | None,
                transcript: Transcript) -> Iterator[Path]:
        """The loop's session; the intent's rendered text is dropped when it ends."""
        try:
            with super().session(intent, credentials, transcript) as session:
                yield session
        finally:
            self._rendered.pop(id(intent), None)

    def open(self, intent: Intent, credentials: Credentials | None,
             transcript: Transcript) -> Path:
        return self.out_dir / file_name(intent)

    def read_running(self, session: Path, intent: Intent, transcript: Transcript) -> File:
        text = session.read_text() if session.exists() else ""
        transcript.reads.append(str(session))
        return File(text, intent)

    def diff(self, intent: Intent, running: File) -> Remediation[str]:
        content = self._render(intent)[1]
        if running.text == content:
            return Remediation()
        have, _ = resources(running.holds)
        want, owners = resources(intent)
        return Remediation(changes_between(have, want, owners),
                           tuple(changed_lines(running.text, content)))

    def push(self, session: Path, intent: Intent, remediation: Remediation[str],
             transcript: Transcript) -> None:
        name, content = self._render(intent)
        transcript.commands.extend(remediation.steps)
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.out_dir, prefix=f".{name}.")
            with os.fdopen(fd, "w") as f:
                f.write(content)
            os.replace(tmp, session)  # readers see the old file or the new one, never half
        except OSError as exc:
            raise PushError(intent.endpoint.name, f"cannot write {session}: {exc.strerror}",
                            temporary=False) from None

    def verify(self, session: Path, intent: Intent, transcript: Transcript) -> None:
        """The file read back is the text just rendered: converged without parsing it."""
        text = session.read_text() if session.exists() else ""
        if text != self._render(intent)[1]:
            super().verify(session, intent, transcript)
            return
        transcript.reads.append(str(session))
