"""What apply, the operator and validate need from a ledger: a Protocol, so they depend on
this and not on the SQL class (SQLite and PostgreSQL satisfy it; a test double could too)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from reconciler.ledger.model import Change, Holdings, StatusRecord


class LedgerTransaction(Protocol):
    """The write side of one exclusive transaction over some sites."""

    def holdings(self, known: Holdings | None = None) -> Holdings:
        """Every allocation; `known` itself when the ledger still holds what it was read
        from."""
        ...

    def apply(self, changes: Iterable[Change], existing: Holdings) -> int:
        """Write allocations and releases; a second holder is refused (LedgerConflict)."""
        ...

    def set_status(self, kind: str, name: str, status: str, reason: str = "") -> None: ...

    def flush(self) -> None:
        """Send the statuses set so far now (they are sent at the commit anyway)."""
        ...

    def record_applied(self, device: str, items: dict[str, str]) -> None: ...

    def record_intents(self, rows: Sequence[tuple[str, str, str]]) -> None:
        """(device, site, intent as JSON) of devices that were just given their intent."""
        ...

    def record_repairs(
        self, seq: int, device: str, rows: Sequence[tuple[str, str, str]]
    ) -> None: ...

    def record_desired(self, commit: str, rows: dict[str, tuple[str, str, str, str]]) -> None:
        """Replace the recorded desired state (P1's base for the next apply)."""
        ...

    def billing_rows(self) -> list[tuple[Any, ...]]:
        """The billing history so far (issue 19), read inside the transaction."""
        ...

    def next_billing_stamp(self) -> int: ...

    def add_billing_rows(self, rows: Sequence[tuple[Any, ...]]) -> None: ...


class Ledger(Protocol):
    """Allocations, recorded statuses, and what each device was last given."""

    def holdings(self) -> Holdings: ...

    def statuses(self, kind: str) -> dict[str, StatusRecord]: ...

    def applied(self) -> dict[str, dict[str, str]]: ...

    def transaction(
        self, sites: Iterable[str] = ()
    ) -> AbstractContextManager[LedgerTransaction]: ...

    def intents(self) -> dict[str, tuple[str, str]]:
        """Each device's last applied intent: device → (site, JSON of drivers.base)."""
        ...

    def repairs(self) -> list[tuple[int, str, str, str, str, str]]: ...

    def billing_rows(self) -> list[tuple[Any, ...]]:
        """The billing history; empty for a ledger no apply has migrated yet."""
        ...

    def billing_closes(self) -> list[tuple[str, str, int, str]]: ...

    def apply_lock(
        self, wait_s: float = 600.0, source: str = "", actor: str = ""
    ) -> AbstractContextManager[int]:
        """Hold the ledger for a whole apply (G2); yields the apply's number in the log."""
        ...
