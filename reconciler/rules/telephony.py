"""Telephony and Wi-Fi rules T1–T3 (seeds 000, 001, 002)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from reconciler.catalogue import decommissioned
from reconciler.findings import Finding, error
from reconciler.model.kinds import NumberBlock, Occupier, Site
from reconciler.model.repo import Repo
from reconciler.rules.context import Context


@lru_cache(maxsize=4096)
def valid_number(number: str) -> bool:
    """A real, dialable number for its country (Google's libphonenumber metadata, imported
    on the first number: a tenth of the start-up otherwise)."""
    import phonenumbers

    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return False


def in_block(number: str, block: NumberBlock) -> bool:
    return (
        len(number) == len(block.first) == len(block.last) and block.first <= number <= block.last
    )


def site_has_number(site: Site, number: str) -> bool:
    return any(in_block(number, block) for block in site.spec.number_blocks)


def t1_main_number(repo: Repo, ctx: Context) -> Iterator[Finding]:
    """The main number, when declared, is one of the occupier's active numbers at that site."""
    for occupier in repo.occupiers.values():
        active = {(n.site, n.number) for n in occupier.spec.activations.numbers}
        sites: set[str] = set()
        for index, main in enumerate(occupier.spec.main_numbers):
            path = ("spec", "mainNumbers", index)
            if main.site in sites:
                yield error(
                    "T1",
                    repo.source(occupier),
                    (*path, "site"),
                    f"occupier {occupier.name} declares two main numbers at {main.site}",
                )
            sites.add(main.site)
            if (main.site, main.number) not in active:
                yield error(
                    "T1",
                    repo.source(occupier),
                    (*path, "number"),
                    f"occupier {occupier.name}: main number {main.number} is not one of "
                    f"its active numbers at {main.site}",
                    "activate it first",
                )


def t2_numbers(repo: Repo, ctx: Context) -> Iterator[Finding]:
    """Numbers come from the site's blocks, are real E.164 numbers, and belong to one occupier;
    a user's number is one the occupier has activated."""
    for site in repo.sites.values():
        if not ctx.reports(repo.source(site)):
            continue  # the findings of its blocks are at the site
        blocks = site.spec.number_blocks
        for index, block in enumerate(blocks):
            path = ("spec", "numberBlocks", index)
            for end in ("first", "last"):
                if not valid_number(getattr(block, end)):
                    yield error(
                        "T2",
                        repo.source(site),
                        (*path, end),
                        f"site {site.name}: {getattr(block, end)} is not a valid phone number",
                    )
            if len(block.first) != len(block.last) or block.first > block.last:
                yield error(
                    "T2",
                    repo.source(site),
                    path,
                    f"site {site.name}: number block {block.first}..{block.last} must "
                    "have first ≤ last, of the same length",
                )
            for other in blocks[:index]:
                if in_block(block.first, other) or in_block(other.first, block):
                    yield error(
                        "T2",
                        repo.source(site),
                        path,
                        f"site {site.name}: number blocks {other.first}.. and "
                        f"{block.first}.. overlap",
                    )
    holders: dict[str, str] = {}
    for name in sorted(repo.occupiers):
        occupier = repo.occupiers[name]
        if decommissioned(occupier, ctx.today):
            continue  # D3: its numbers are deactivated; they cool off in the ledger
        yield from _activated_numbers(repo, name, occupier, holders)


def _activated_numbers(
    repo: Repo, name: str, occupier: Occupier, holders: dict[str, str]
) -> Iterator[Finding]:
    """T2 for one occupier's activations and users; `holders`: who activated each number
    so far."""
    numbers = occupier.spec.activations.numbers
    activated: set[str] = set()
    for index, activation in enumerate(numbers):
        home = repo.sites.get(activation.site)
        if home is None:
            continue
        number = activation.number
        at = ("spec", "activations", "numbers", index, "number")
        if not site_has_number(home, number):
            reason = (
                "is not a valid phone number"
                if not valid_number(number)
                else f"is not in a number block of site {home.name}"
            )
            yield error("T2", repo.source(occupier), at, f"occupier {name}: {number} {reason}")
        if number in activated:
            yield error(
                "T2",
                repo.source(occupier),
                at,
                f"occupier {name} activates {number} twice",
                "remove the second activation",
            )
            continue
        activated.add(number)
        holder = holders.setdefault(number, name)
        if holder != name:
            yield error(
                "T2",
                repo.source(occupier),
                at,
                f"number {number} is activated by both {holder} and {name}",
            )
    mine: set[str] | None = None
    for index, user in enumerate(occupier.spec.users):
        if user.number is None:
            continue
        if mine is None:
            mine = {n.number for n in numbers}
        if user.number not in mine:
            yield error(
                "T2",
                repo.source(occupier),
                ("spec", "users", index, "number"),
                f"user {user.name} of {name} is assigned {user.number}, "
                "which the occupier has not activated",
                "activate the number first",
            )


def mac_key(mac: str) -> str:
    return mac.replace("-", "").replace(":", "").lower()


def t3_wifi(repo: Repo, ctx: Context) -> Iterator[Finding]:
    """Wi-Fi users and devices count against their allocations (S7); a MAC is unique per site;
    Wi-Fi is only at sites where the occupier has a contract."""
    seen: dict[tuple[str, str], str] = {}
    for name in sorted(repo.occupiers):
        occupier = repo.occupiers[name]
        if decommissioned(occupier, ctx.today):
            continue  # D3: its Wi-Fi devices are deleted, their MACs free again
        spec = occupier.spec
        sites = set(repo.sites_of(name))
        for index, device in enumerate(spec.wifi_devices):
            path = ("spec", "wifiDevices", index)
            key = (device.site, mac_key(device.mac))
            if key in seen:
                yield error(
                    "T3",
                    repo.source(occupier),
                    (*path, "mac"),
                    f"MAC {device.mac} at {device.site} is used by both {seen[key]} and "
                    f"{name}/{device.name}",
                )
            seen.setdefault(key, f"{name}/{device.name}")
            if device.site in repo.sites and device.site not in sites:
                yield error(
                    "T3",
                    repo.source(occupier),
                    (*path, "site"),
                    f"Wi-Fi device {device.name}: {name} has no contract at {device.site}",
                )
        names: set[str] = set()
        for index, user in enumerate(spec.users):
            if user.name in names:
                yield error(
                    "T3",
                    repo.source(occupier),
                    ("spec", "users", index, "name"),
                    f"occupier {name}: user {user.name} declared twice",
                )
            names.add(user.name)
            # `wifi: true` is every site where a contract holds today (`wifi_sites`): a site
            # of a contract, never one to report
            for site in user.wifi if isinstance(user.wifi, tuple) else ():
                if site not in sites:
                    yield error(
                        "T3",
                        repo.source(occupier),
                        ("spec", "users", index, "wifi"),
                        f"user {user.name}: {name} has no contract at {site}",
                    )
