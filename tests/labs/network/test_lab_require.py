"""A missing lab component skips locally but fails with CI=true (no quiet green CI)."""

from __future__ import annotations

from typing import Any

import pytest


def test_missing_binary_skips_locally(requirements: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        requirements.binary("tenantry-no-such-binary")


@pytest.mark.parametrize("ci", ["true", "1", "TRUE"])
def test_missing_binary_fails_in_ci(requirements: Any, monkeypatch: pytest.MonkeyPatch,
                                    ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception):
        requirements.binary("tenantry-no-such-binary")
    with pytest.raises(pytest.fail.Exception):
        requirements.module("tenantry_no_such_module")


def test_present_binary_is_found(requirements: Any) -> None:
    assert requirements.binary("sh").endswith("/sh")
