"""Device platforms: each device of a Site names a platform that drives its kind of device.

Without this a router with `platform: junos`, or a switch platform on a router, passed
validate and failed only at apply. The names per kind are plain data in `drivers.platforms`
(a platform registered with `drivers.registry.register` is known here too).
"""

from __future__ import annotations

from collections.abc import Iterator

from drivers.platforms import kinds_of, platforms_of
from reconciler.findings import Finding, Path, error
from reconciler.model.repo import Repo
from reconciler.rules.context import Context


def platform(repo: Repo, ctx: Context) -> Iterator[Finding]:
    """A device's platform must exist and drive its kind (a switch platform on a switch)."""
    for site in repo.sites.values():
        spec = site.spec
        devices: list[tuple[str, Path, str, str]] = [
            ("switch", ("spec", "switches", i, "platform"), s.name, s.platform)
            for i, s in enumerate(spec.switches)
        ]
        for kind, field in (("router", "router"), ("telephony", "telephony"), ("wifi", "wifi")):
            device = getattr(spec, field)
            if device is not None:
                devices.append((kind, ("spec", field, "platform"), device.name, device.platform))
        for kind, path, name, named in devices:
            if named in platforms_of(kind):
                continue
            elsewhere = kinds_of(named)
            why = (f"drives {' and '.join(elsewhere)} devices, not a {kind}" if elsewhere
                   else "has no driver")
            yield error(
                "platform",
                repo.source(site),
                path,
                f"site {site.name}: {kind} {name}: platform '{named}' {why}",
                hint=f"a {kind} platform is one of: {', '.join(platforms_of(kind))}",
            )
