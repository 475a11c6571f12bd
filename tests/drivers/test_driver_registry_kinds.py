"""The driver table and the platform names the rules read agree, kind by kind."""

from __future__ import annotations

from drivers.contract import Driver
from drivers.platforms import KINDS, NAMES
from drivers.registry import DRIVERS
from drivers.render import RenderDriver


def test_every_kind_has_the_same_platforms_in_both_tables() -> None:
    assert set(DRIVERS) == set(NAMES) == set(KINDS)
    for kind in KINDS:
        assert set(DRIVERS[kind]) == NAMES[kind], kind


def test_every_driver_drives_the_kind_it_is_listed_under() -> None:
    for kind, table in DRIVERS.items():
        for platform, cls in table.items():
            assert issubclass(cls, Driver)
            assert cls.kind == kind or cls is RenderDriver, (kind, platform)
            assert cls.platform == platform
