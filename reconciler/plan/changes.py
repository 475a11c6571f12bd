"""What each device will be told, as flat items compared with what it was last given
successfully (for `plan` and the pull-request comment). Pure."""

from __future__ import annotations

from dataclasses import dataclass

from drivers.base import RouterIntent, SwitchIntent, TelephonyIntent
from reconciler.plan.result import Intent, Plan


def items_of(intent: Intent) -> dict[str, str]:
    """A device intent as flat items, to compare with what was last applied (for `plan`)."""
    items: dict[str, str] = {}
    if isinstance(intent, SwitchIntent):
        for p in intent.ports:
            state = "up" if p.enabled else "down"
            voice = f" voice {p.voice_vlan}" if p.voice_vlan else ""
            desc = f' "{p.description}"' if p.description else ""
            items[f"port {p.interface}"] = f"vlan {p.vlan} {state}{voice}{desc}"
    elif isinstance(intent, RouterIntent):
        for g in intent.gateways:
            items[f"gateway vlan {g.vlan}"] = f"{g.address} {g.description}".strip()
        for r in intent.routes:
            items[f"route {r.prefix}"] = f"via {r.next_hop} {r.description}".strip()
    elif isinstance(intent, TelephonyIntent):
        for n in intent.numbers:
            until = f"until {n.until}" if n.until else ""
            who = f"({n.assignee})" if n.assignee else ""
            items[f"number {n.number}"] = " ".join(
                x for x in (n.state, n.occupier, who, until) if x
            )
        for number in intent.logout:
            items[f"logout {number}"] = "handset"
    else:
        for group in intent.groups:
            disabled = " disabled" if group.disabled else ""
            items[f"group {group.name}"] = f"vlan {group.vlan}{disabled}"
        for u in intent.users:
            items[f"user {u.username}"] = u.group
        for d in intent.devices:
            items[f"device {d.mac}"] = d.group
    return items


@dataclass(frozen=True)
class DeviceChange:
    """One item of one device that a run will add, change or remove."""

    device: str
    item: str
    old: str | None  # None: added
    new: str | None  # None: removed


def device_changes(plan: Plan, applied: dict[str, dict[str, str]]) -> list[DeviceChange]:
    """What each device will be told, compared with what it was last given successfully."""
    out = []
    for device in sorted(plan.intents):
        new = items_of(plan.intents[device])
        old = applied.get(device, {})
        for item in sorted(set(new) | set(old)):
            if new.get(item) != old.get(item):
                out.append(DeviceChange(device, item, old.get(item), new.get(item)))
    return out
