"""Which platforms exist for which device kind: plain data, no driver imported.

The rules read this table (a router with `platform: junos`, or a switch platform on a router,
is refused at validate time); `drivers.registry` maps the same names to driver classes and
`drivers.registry.register` adds to both. A Site names its devices' kinds by where they sit:
`switches`, `router`, `telephony`, `wifi`.
"""

from __future__ import annotations

KINDS = ("switch", "router", "telephony", "wifi")

NAMES: dict[str, set[str]] = {
    "switch": {"render", "cisco_iosxe", "openvswitch"},
    "router": {"render", "frr"},
    "telephony": {"render", "kamailio"},
    "wifi": {"render", "freeradius"},
}

# Other spellings of a platform name, as scrapli and NAPALM users write them.
ALIASES: dict[str, str] = {"ios": "cisco_iosxe", "iosxe": "cisco_iosxe", "ovs": "openvswitch"}


def canonical(platform: str) -> str:
    return ALIASES.get(platform, platform)


def platforms_of(kind: str) -> list[str]:
    """The platform names (aliases included) a device of `kind` may name, sorted."""
    names = NAMES.get(kind, set())
    return sorted(names | {alias for alias, name in ALIASES.items() if name in names})


def kinds_of(platform: str) -> list[str]:
    """The kinds a platform drives (["switch"] for cisco_iosxe; every kind for render)."""
    name = canonical(platform)
    return [kind for kind in KINDS if name in NAMES[kind]]
