"""Platform name → driver class, imported lazily so optional dependencies stay optional.

The core looks a device's platform up here (`Endpoint.platform`) and calls
`create_driver(platform).apply(intent, credentials)`.
"""

from __future__ import annotations

import importlib
from typing import Any

PLATFORMS: dict[str, str] = {
    "render": "drivers.render:RenderDriver",
    "cisco_iosxe": "drivers.cisco_iosxe:CiscoIosxeDriver",
    "openvswitch": "drivers.openvswitch:OpenVSwitchDriver",
    "frr": "drivers.frr:FrrDriver",
    "kamailio": "drivers.kamailio:KamailioDriver",
    "freeradius": "drivers.freeradius:FreeRadiusDriver",
}
ALIASES: dict[str, str] = {"ios": "cisco_iosxe", "iosxe": "cisco_iosxe", "ovs": "openvswitch"}


class UnknownPlatform(KeyError):
    """No driver is registered for this platform name."""


def driver_class(platform: str) -> type[Any]:
    name = ALIASES.get(platform, platform)
    try:
        module, _, cls = PLATFORMS[name].partition(":")
    except KeyError:
        known = ", ".join(sorted(PLATFORMS))
        raise UnknownPlatform(f"no driver for platform {platform!r} (known: {known})") from None
    found: type[Any] = getattr(importlib.import_module(module), cls)
    return found


def create_driver(platform: str, **options: Any) -> Any:
    """An instance of the platform's driver; `options` go to its constructor."""
    return driver_class(platform)(**options)
