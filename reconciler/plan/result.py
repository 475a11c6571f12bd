"""The planner's answer: what to allocate and release, and every device's intended state."""

from __future__ import annotations

from dataclasses import dataclass, field

from drivers.base import RouterIntent, SwitchIntent, TelephonyIntent, WifiIntent
from reconciler.findings import Finding
from reconciler.ledger.model import Allocation, Change, Holdings, Release

Intent = SwitchIntent | RouterIntent | TelephonyIntent | WifiIntent


@dataclass
class Plan:
    """One run's changes and intents; releases wait until the devices no longer use them."""

    allocations: list[Allocation] = field(default_factory=list)  # new values and state changes
    releases: list[Release] = field(default_factory=list)  # carried out after the devices
    findings: list[Finding] = field(default_factory=list)
    after: Holdings = field(default_factory=Holdings)
    intents: dict[str, Intent] = field(default_factory=dict)
    services: dict[str, str] = field(default_factory=dict)  # service → site, provisioned now
    decommissions: list[str] = field(default_factory=list)  # occupiers being decommissioned
    sites_of_device: dict[str, str] = field(default_factory=dict)

    @property
    def changes(self) -> list[Change]:
        return [*self.allocations, *self.releases]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]
