"""A missing component skips a lab test locally but fails it in CI (CI=true)."""

from __future__ import annotations

import pytest

from .voicelab import require


def test_missing_binary_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="not installed"):
        require("tenantry-no-such-binary")


def test_missing_binary_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        require("tenantry-no-such-binary")


def test_present_binary_is_found() -> None:
    assert require("sh").endswith("/sh")
