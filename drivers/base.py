"""The records the reconciler hands to device drivers, and the one tree of driver errors.

Drivers never see the core's models: the planner hands them plain, frozen intended-state
records (below). The loop every driver runs (open → read → diff → push → verify → close) is
written once in `drivers.contract`; `remediation` is pure, so a second run against a
converged device sends nothing. Only the resources named in an intent are managed;
everything else on a device is left alone.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

# Text that reaches a device CLI (descriptions, names) is restricted to this alphabet, so a
# hostile value in YAML can never add a command. The loader refuses anything else earlier;
# drivers check again because they are the last line.
SAFE_TEXT = re.compile(r"^[A-Za-z0-9 ._:/@+()#,-]{0,80}$")


class DriverError(Exception):
    """The root of every driver failure; `temporary` says whether a retry may succeed.

    The stage subclasses below say where it happened; callers (apply, the ledger's status,
    the operator's retry) need only the root, its `reason` and `temporary`.
    """

    stage = "device"
    temporary_by_default = True

    def __init__(
        self, device: str, message: str, *, temporary: bool | None = None, resource: str = ""
    ) -> None:
        super().__init__(f"{device}: {message}")
        self.device = device
        self.reason = message
        self.temporary = self.temporary_by_default if temporary is None else temporary
        self.resource = resource  # the managed resource concerned, when one is


class IntentRefused(DriverError):
    """The intent itself is unsafe or out of range: refused before any session is opened."""

    stage = "intent"
    temporary_by_default = False


class ConnectError(DriverError):
    """The session could not be opened (unreachable, login refused, enable refused)."""

    stage = "open"


class ReadError(DriverError):
    """The running state could not be read or understood."""

    stage = "read"


class PushError(DriverError):
    """The device refused or dropped a change; a permanent one is rolled back where the
    platform can."""

    stage = "push"


class VerifyError(DriverError):
    """After the push the device still differs from the intent."""

    stage = "verify"


def safe_text(value: str) -> str:
    if not SAFE_TEXT.match(value):
        raise ValueError(f"unsafe text for a device: {value!r}")
    return value


def check_switch_intent(intent: SwitchIntent, port_name: re.Pattern[str]) -> None:
    """Refuse, before any session is opened, anything that could inject or is out of range;
    `port_name` is the platform's pattern for an interface or port name."""
    device = intent.endpoint.name
    for port in intent.ports:
        if not port_name.match(port.interface):
            raise IntentRefused(device, f"unsafe port name {port.interface!r}")
        try:
            safe_text(port.description)
        except ValueError as exc:
            raise IntentRefused(device, f"{port.interface}: {exc}") from None
        for vlan in (port.vlan, port.voice_vlan):
            if vlan is not None and not 1 <= vlan <= 4094:
                raise IntentRefused(device, f"{port.interface}: VLAN {vlan} out of range")
    for vlan in intent.vlans:
        if not 1 <= vlan <= 4094:
            raise IntentRefused(device, f"VLAN {vlan} out of range")
    names = [p.interface for p in intent.ports]
    if len(names) != len(set(names)):
        raise IntentRefused(device, "a port appears twice in the intent")


@dataclass(frozen=True)
class Credentials:
    """Login for one device; comes from the environment or a file, never from the repo."""

    username: str
    password: str | None = None
    enable: str | None = None
    private_key: str | None = None  # path to a key file

    def __repr__(self) -> str:  # credentials never appear in logs or tracebacks
        return f"Credentials(username={self.username!r}, password=***, enable=***)"


@dataclass(frozen=True)
class Endpoint:
    """Where a device is reached: from the Site document (host) plus the environment (port)."""

    name: str
    platform: str
    host: str
    port: int | None = None


# ---------------------------------------------------------------- switches


@dataclass(frozen=True)
class PortIntent:
    """Intended state of one managed access port (a floor port behind a switch port).

    A parked port has `vlan` = the site's parking VLAN, `enabled` False, empty description.
    """

    interface: str
    vlan: int
    description: str = ""
    enabled: bool = False
    voice_vlan: int | None = None
    # who the port is for (reports only): not device state, so not part of equality
    occupier: str = field(default="", compare=False)


@dataclass(frozen=True)
class SwitchIntent:
    """What a switch should run: its managed ports and VLANs."""

    endpoint: Endpoint
    ports: tuple[PortIntent, ...]  # every managed port of this switch, parked ones included
    vlans: tuple[int, ...] = ()  # VLANs that must exist (occupier VLANs + parking)


# ---------------------------------------------------------------- routers


@dataclass(frozen=True)
class GatewayIntent:
    """An occupier's gateway: a VLAN sub-interface / SVI with the prefix's first address."""

    vlan: int
    address: str  # "10.64.14.1/24"
    description: str = ""


@dataclass(frozen=True)
class RouteIntent:
    """A static route for an occupier's public addresses."""

    prefix: str  # "203.0.113.8/29" or "203.0.113.10/32"
    next_hop: str
    description: str = ""


@dataclass(frozen=True)
class RouterIntent:
    """What a router should run: routes and gateways, within the prefixes it manages."""

    endpoint: Endpoint
    routes: tuple[RouteIntent, ...]
    gateways: tuple[GatewayIntent, ...] = ()
    # Routes inside these prefixes (the site's public pools) are managed: one that is running
    # but not intended is removed. Routes outside them are never touched.
    managed_prefixes: tuple[str, ...] = ()


# ---------------------------------------------------------------- telephony


@dataclass(frozen=True)
class NumberIntent:
    """One number the SIP server must know. Numbers of the managed blocks that are not listed
    are unknown to the server (calls get 404)."""

    number: str  # E.164, "+442079460001"
    state: str  # "active" (routed), "cooling-off" (refused, 410), "suspended" (480)
    occupier: str = ""
    until: str | None = None  # cooling-off end date (ISO), for the record
    assignee: str = ""  # the user the number is assigned to, or "main" for the main number


@dataclass(frozen=True)
class TelephonyIntent:
    """What the telephony platform should hold: numbers, and handsets to log out."""

    endpoint: Endpoint
    numbers: tuple[NumberIntent, ...]
    logout: tuple[str, ...] = ()  # numbers whose digital handsets must be logged out remotely


# ---------------------------------------------------------------- Wi-Fi


@dataclass(frozen=True)
class WifiGroupIntent:
    """One RADIUS group per occupier, carrying the VLAN tunnel attributes (RFC 3580)."""

    name: str
    vlan: int
    disabled: bool = False  # Stopped (suspended): its users and devices are refused


@dataclass(frozen=True)
class WifiUserIntent:
    """A Wi-Fi user: their group, and where their password is kept."""

    username: str
    group: str
    secret_ref: str  # key of the password in the credentials store, never the password itself


@dataclass(frozen=True)
class WifiDeviceIntent:
    """A device admitted to Wi-Fi by its MAC address."""

    mac: str  # "02-00-00-00-00-01" (RFC 3580 dashed, upper case)
    group: str


@dataclass(frozen=True)
class WifiIntent:
    """What the RADIUS server should hold: groups, users and devices."""

    endpoint: Endpoint
    groups: tuple[WifiGroupIntent, ...]
    users: tuple[WifiUserIntent, ...]
    devices: tuple[WifiDeviceIntent, ...]


# ---------------------------------------------------------------- results


Intent = SwitchIntent | RouterIntent | TelephonyIntent | WifiIntent


@dataclass
class Transcript:
    """What a driver sent to one device: the evidence for idempotence tests and the apply log."""

    device: str
    sessions: int = 0
    reads: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    # drift repaired by this session: (resource, what the device had, what it was given) for
    # each resource that differed from the intent of the last apply (see Driver.apply)
    repairs: list[tuple[str, str, str]] = field(default_factory=list)


# ---------------------------------------------------------------- intents as records

_INTENT_KINDS: dict[str, type[Any]] = {
    "switch": SwitchIntent, "router": RouterIntent, "telephony": TelephonyIntent,
    "wifi": WifiIntent,
}
_PARTS: dict[str, type[Any]] = {
    "ports": PortIntent, "routes": RouteIntent, "gateways": GatewayIntent,
    "numbers": NumberIntent, "groups": WifiGroupIntent, "users": WifiUserIntent,
    "devices": WifiDeviceIntent,
}


def encode_intent(intent: Intent) -> str:
    """An intent as JSON text: the ledger keeps each device's last applied intent, which
    `drift` reads the device against (and `apply --only-drift` puts back)."""
    kind = next(k for k, cls in _INTENT_KINDS.items() if isinstance(intent, cls))
    return json.dumps({"kind": kind, **_plain(intent)}, sort_keys=True, default=_plain)


_FIELDS: dict[type[Any], tuple[str, ...]] = {}


def _plain(record: Any) -> dict[str, Any]:
    """One record of an intent as a dict of its fields; the JSON encoder calls it again for
    each record inside (`dataclasses.asdict` deep-copies: an apply encodes every device's
    intent, hundreds of thousands of records)."""
    names = _FIELDS.get(type(record))
    if names is None:
        if not is_dataclass(record):
            raise TypeError(f"{type(record).__name__} is not part of an intent")
        names = _FIELDS[type(record)] = tuple(f.name for f in fields(record))
    return {name: getattr(record, name) for name in names}


def decode_intent(text: str) -> Intent:
    """The intent `encode_intent` wrote; ValueError when the text is not one."""
    try:
        doc = json.loads(text)
        cls = _INTENT_KINDS[doc.pop("kind")]
        fields: dict[str, Any] = {"endpoint": Endpoint(**doc.pop("endpoint"))}
        for name, value in doc.items():
            part = _PARTS.get(name)
            fields[name] = tuple(part(**v) if part else v for v in value)
        intent: Intent = cls(**fields)
        return intent
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a recorded intent: {type(exc).__name__}: {exc}") from None
