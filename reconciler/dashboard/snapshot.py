"""What the dashboard reads from the ledger, as one plain immutable snapshot, so the page model
stays a pure function of (documents, snapshot, today).

Today the ledger records allocations, statuses (with when they changed), what each device was
last given, the day each service first became Active and the billing history (issue 19), read
into each occupier's charges per month exactly as `tenantry report charges` gives them. Drift
checks and a pool history are optional slots: a ledger that records them fills them, and the
pages show them; while they are None the pages say "no history yet"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from reconciler.decommission import Record
from reconciler.ledger.model import Holdings, StatusRecord


@dataclass(frozen=True, slots=True)
class MonthCharge:
    """One occupier's total for one month, as `tenantry report charges --month` gives it:
    a closed month as billed, an open one as the billing history says so far."""

    month: str  # YYYY-MM
    amount: Decimal
    closed: bool = False


@dataclass(frozen=True, slots=True)
class DriftResult:
    """The last drift check of a device: how many managed lines differ from the last apply."""

    checked: str  # when, ISO 8601
    differences: int
    detail: str = ""


@dataclass(frozen=True)
class Snapshot:
    """What the ledger records, read once for the dashboard (or nothing, without a
    ledger)."""

    recorded: bool = False  # False: no ledger yet (documents only)
    holdings: Holdings = field(default_factory=Holdings)
    services: Mapping[str, StatusRecord] = field(default_factory=dict)  # service → status
    activated: Mapping[str, date] = field(default_factory=dict)  # service → first Active
    occupiers: Mapping[str, Record] = field(default_factory=dict)  # decommission phases
    applied: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # device → items
    devices: Mapping[str, StatusRecord] = field(default_factory=dict)  # last apply result
    billed: Mapping[str, Sequence[MonthCharge]] | None = None  # occupier → months charged
    drift: Mapping[str, DriftResult] | None = None  # device → last drift check
    pool_history: Mapping[tuple[str, str], Sequence[tuple[date, int]]] | None = None
