"""Every test gets its own ledger location, so a `.tenantry/` left in the working directory
by someone's `tenantry apply` never changes what a test sees."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def private_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TENANTRY_LEDGER", str(tmp_path / "private-ledger.db"))
