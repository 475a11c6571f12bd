"""The driver table: {kind: {platform: driver class}}.

`create_driver(platform, kind)` builds the driver of one device; `register(kind, platform,
cls)` adds a platform (the names in `drivers.platforms` follow, so validate accepts it).
Driver modules import their optional dependencies (scrapli) only when a session opens, so
the table can hold the classes themselves.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from drivers.base import Intent, RouterIntent, SwitchIntent, TelephonyIntent, WifiIntent
from drivers.cisco_iosxe import CiscoIosxeDriver
from drivers.contract import Driver
from drivers.freeradius import FreeRadiusDriver
from drivers.frr import FrrDriver
from drivers.kamailio import KamailioDriver
from drivers.openvswitch import OpenVSwitchDriver
from drivers.platforms import ALIASES, KINDS, NAMES, canonical, kinds_of
from drivers.render import RenderDriver

AnyDriver = Driver[Any, Any, Any, Any]

DRIVERS: dict[str, dict[str, type[AnyDriver]]] = {
    "switch": {
        "render": RenderDriver,
        "cisco_iosxe": CiscoIosxeDriver,
        "openvswitch": OpenVSwitchDriver,
    },
    "router": {"render": RenderDriver, "frr": FrrDriver},
    "telephony": {"render": RenderDriver, "kamailio": KamailioDriver},
    "wifi": {"render": RenderDriver, "freeradius": FreeRadiusDriver},
}
KIND_OF_INTENT: dict[type[Intent], str] = {
    SwitchIntent: "switch",
    RouterIntent: "router",
    TelephonyIntent: "telephony",
    WifiIntent: "wifi",
}

__all__ = ["ALIASES", "DRIVERS", "KINDS", "PLATFORMS", "UnknownPlatform", "create_driver",
           "driver_class", "driver_for", "register", "unregister"]


class _Platforms(Mapping[str, list[str]]):
    """Every platform name → the kinds it drives: a live view of DRIVERS."""

    def __getitem__(self, platform: str) -> list[str]:
        kinds = [kind for kind in KINDS if platform in DRIVERS[kind]]
        if not kinds:
            raise KeyError(platform)
        return kinds

    def __iter__(self) -> Iterator[str]:
        return iter(sorted({p for table in DRIVERS.values() for p in table}))

    def __len__(self) -> int:
        return len(list(iter(self)))


PLATFORMS: Mapping[str, list[str]] = _Platforms()


class UnknownPlatform(KeyError):
    """No driver is registered for this platform name (for this kind of device)."""


def register(kind: str, platform: str, cls: type[AnyDriver]) -> None:
    """Add (or replace) the driver of `platform` for devices of `kind`."""
    if kind not in DRIVERS:
        raise ValueError(f"unknown device kind {kind!r} (kinds: {', '.join(KINDS)})")
    if cls.kind not in (kind, RenderDriver.kind):
        raise ValueError(f"{cls.__name__} drives {cls.kind} devices, not {kind}")
    DRIVERS[kind][platform] = cls
    NAMES[kind].add(platform)


def unregister(kind: str, platform: str) -> None:
    """Remove a platform added with `register` (a plugin unloaded, a test finished)."""
    DRIVERS[kind].pop(platform, None)
    NAMES[kind].discard(platform)


def driver_class(platform: str, kind: str | None = None) -> type[AnyDriver]:
    """The class for `platform` on a device of `kind` (any kind when None)."""
    name = canonical(platform)
    for each in [kind] if kind is not None else kinds_of(name) or list(KINDS):
        found = DRIVERS.get(each, {}).get(name)
        if found is not None:
            return found
    known = ", ".join(sorted({p for k in ([kind] if kind else KINDS) for p in DRIVERS.get(k, {})}))
    where = f" for a {kind}" if kind else ""
    raise UnknownPlatform(f"no driver{where} for platform {platform!r} (known: {known})")


def create_driver(platform: str, kind: str | None = None, **options: Any) -> AnyDriver:
    """An instance of the platform's driver; `options` go to its constructor."""
    return driver_class(platform, kind)(**options)


def driver_for(intent: Intent, **options: Any) -> AnyDriver:
    """The driver of the device an intent is for, by its kind and its platform."""
    return create_driver(intent.endpoint.platform, KIND_OF_INTENT[type(intent)], **options)
