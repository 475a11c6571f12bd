"""Every registered platform resolves to a class with apply(); unknown names say so."""

from __future__ import annotations

import pytest

from drivers.registry import ALIASES, PLATFORMS, UnknownPlatform, driver_class


@pytest.mark.parametrize("platform", sorted(PLATFORMS) + sorted(ALIASES))
def test_platform_resolves(platform: str) -> None:
    assert callable(driver_class(platform).apply)


def test_unknown_platform() -> None:
    with pytest.raises(UnknownPlatform, match="known: "):
        driver_class("junos")
