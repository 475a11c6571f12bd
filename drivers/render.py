"""The embedded default driver: write each device's intended configuration to a directory.

A newcomer needs no hardware: `render` turns every intent type into stable text, one file per
device (Cisco-style for switches, FRR-style for routers, JSON for telephony and Wi-Fi). The
rendering functions are pure; `RenderDriver` is a thin writer that replaces a file only when
its content changes, so writing the same intent again reports zero commands.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import os
import re
import tempfile
from pathlib import Path

from drivers.base import (
    Credentials,
    DriverError,
    RouterIntent,
    SwitchIntent,
    TelephonyIntent,
    Transcript,
    WifiIntent,
    safe_text,
)
from drivers.cisco_iosxe import check_intent as check_switch_intent
from drivers.cisco_iosxe import intended_lines, natural_key

PLATFORM = "render"
Intent = SwitchIntent | RouterIntent | TelephonyIntent | WifiIntent


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
        lines += [f" ip address {ipaddress.ip_interface(gw.address)}", "exit", "!"]
    routes = sorted(
        ((net.version, net, r.next_hop) for r in intent.routes
         for net in [ipaddress.ip_network(r.prefix, strict=False)]),
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


class RenderDriver:
    """Writes intended configuration files; satisfies every driver protocol in drivers.base."""

    platform = PLATFORM

    def __init__(self, out_dir: str | Path | None = None) -> None:
        """`out_dir` defaults to TENANTRY_RENDER_DIR, else ./rendered."""
        self.out_dir = Path(out_dir or os.environ.get("TENANTRY_RENDER_DIR", "rendered"))

    def apply(self, intent: Intent, credentials: Credentials | None = None) -> Transcript:
        """Write the file if its content changed; the commands are the changed lines."""
        device = intent.endpoint.name
        try:
            name, content = render(intent)
        except ValueError as exc:
            raise DriverError(device, str(exc), temporary=False) from None
        path = self.out_dir / name
        transcript = Transcript(device=device)
        old = path.read_text() if path.exists() else ""
        transcript.reads.append(str(path))
        if old == content:
            return transcript
        transcript.commands = [
            line.rstrip("\n")
            for line in difflib.unified_diff(old.splitlines(), content.splitlines(), n=0,
                                             lineterm="")
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        ]
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.out_dir, prefix=f".{name}.")
            with os.fdopen(fd, "w") as f:
                f.write(content)
            os.replace(tmp, path)  # readers see the old file or the new one, never half
        except OSError as exc:
            raise DriverError(device, f"cannot write {path}: {exc.strerror}",
                              temporary=False) from None
        return transcript
