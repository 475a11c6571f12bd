"""Where allocations, number states, statuses and what devices were last given live."""

from reconciler.ledger.model import Allocation, Change, Holdings, Kind, Release, State
from reconciler.ledger.protocol import Ledger, LedgerTransaction
from reconciler.ledger.sql import (
    LedgerBusy,
    LedgerConflict,
    LedgerError,
    SqlLedger,
    open_ledger,
)

__all__ = [
    "Allocation",
    "Change",
    "Holdings",
    "Kind",
    "Ledger",
    "LedgerBusy",
    "LedgerConflict",
    "LedgerError",
    "LedgerTransaction",
    "Release",
    "SqlLedger",
    "State",
    "open_ledger",
]
