"""What the ledger holds, as plain immutable records the pure planner can read."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class Kind(StrEnum):
    VLAN = "vlan"
    PREFIX = "prefix"
    PUBLIC = "public"  # an address (/32) or a block (/30, /29)
    NUMBER = "number"
    PORT = "port"  # a floor port


class State(StrEnum):
    HELD = "held"  # VLAN, prefix, public address
    RESERVED = "reserved"  # allocated to the occupier, not (yet) in use: a number or a port
    ACTIVE = "active"  # a number routed to the occupier, a port configured
    COOLING_OFF = "cooling-off"  # a released number, not reusable before `until`


@dataclass(frozen=True, slots=True)
class Allocation:
    """One allocated value. (site, kind, value) is unique in the ledger: one holder each."""

    site: str
    kind: Kind
    value: str
    holder: str  # occupier; "" for a number in cooling-off
    state: State
    role: str = ""  # port role, or "main" for a main number
    until: date | None = None  # end of cooling-off

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.site, self.kind, self.value)


@dataclass(frozen=True, slots=True)
class Release:
    """Give a value back. Numbers go to cooling-off until `until`; the rest are deleted."""

    allocation: Allocation
    until: date | None = None


Change = Allocation | Release


@dataclass
class Holdings:
    """A snapshot of every allocation, indexed the ways the planner asks."""

    rows: list[Allocation] = field(default_factory=list)
    by_key: dict[tuple[str, str, str], Allocation] = field(default_factory=dict)
    of: dict[tuple[str, str], list[Allocation]] = field(default_factory=dict)  # (site, holder)
    taken: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (site, kind)
    at: dict[str, list[Allocation]] = field(default_factory=dict)  # site
    # the ledger's rows as read, when read from one: a later read that finds the same rows
    # is the same holdings (an apply reuses a plan made from them before it held the ledger)
    source: list[tuple[object, ...]] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of_rows(
        cls, rows: Iterable[Allocation], source: list[tuple[object, ...]] | None = None
    ) -> Holdings:
        holdings = cls(source=source)
        of: defaultdict[tuple[str, str], list[Allocation]] = defaultdict(list)
        taken: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
        at: defaultdict[str, list[Allocation]] = defaultdict(list)
        for row in rows:
            holdings.rows.append(row)
            holdings.by_key[row.key] = row
            of[row.site, row.holder].append(row)
            taken[row.site, row.kind].add(row.value)
            at[row.site].append(row)
        holdings.of = dict(of)
        holdings.taken = dict(taken)
        holdings.at = dict(at)
        return holdings

    def held_by(self, site: str, holder: str, kind: Kind) -> list[Allocation]:
        return [a for a in self.of.get((site, holder), ()) if a.kind is kind]

    def values(self, site: str, kind: Kind) -> set[str]:
        return self.taken.get((site, kind), set())


@dataclass(frozen=True, slots=True)
class StatusRecord:
    """A recorded status (of a service or a device), why, and when it was set."""

    status: str
    reason: str = ""
    updated: str = ""
