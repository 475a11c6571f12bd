"""Shared helpers for the lab tests (tests that start real components).

`require(binary)` finds a binary a lab needs. Locally a missing one skips the test (the lab is
optional on a laptop); with CI=true it FAILS, so a CI image without the lab cannot pass quietly.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def missing(what: str) -> None:
    """Skip locally, fail in CI."""
    message = f"{what} (install with scripts/setup-labs.sh)"
    if in_ci():
        pytest.fail(f"CI=true and a lab component is missing: {message}", pytrace=False)
    pytest.skip(message)


def require(binary: str) -> str:
    """Path of `binary` (a name on PATH or an absolute path), else skip / fail in CI."""
    found = shutil.which(binary)
    if found is None and os.path.isabs(binary) and os.access(binary, os.X_OK):
        found = binary
    if found is None:
        missing(f"{binary} not installed")
    assert found is not None
    return found


def require_module(module: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        missing(f"Python package {module} not installed")


def require_root() -> None:
    if os.geteuid() != 0:
        missing("root is needed (network namespaces, private daemons)")


class Requirements:
    """The helpers above, handed to fixtures in test packages (which cannot import conftest)."""

    binary = staticmethod(require)
    module = staticmethod(require_module)
    root = staticmethod(require_root)


@pytest.fixture(name="require", scope="session")
def require_fixture() -> Callable[[str], str]:
    return require


@pytest.fixture(scope="session")
def requirements() -> type[Requirements]:
    return Requirements
