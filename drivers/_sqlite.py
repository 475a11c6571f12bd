"""The SQLite files that Kamailio and FreeRADIUS read: found, opened and their faults classified
the same way for both drivers (a locked database is worth a retry, a missing table is not)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from drivers.base import ConnectError, DriverError


def database_path(configured: Path | None, env: str, device: str, label: str) -> Path:
    """`configured`, else the file named by the environment variable `env`; it must exist,
    since the driver never invents a database at a mistyped path."""
    path = configured
    if path is None:
        if not os.environ.get(env):
            raise ConnectError(device, f"no database: pass db_path or set {env}", temporary=False)
        path = Path(os.environ[env])
    if not path.exists():
        raise ConnectError(device, f"{label} {path} missing", temporary=False)
    return path


def connect(path: Path, device: str, label: str, timeout: float) -> sqlite3.Connection:
    """Read-write, never create; autocommit so each driver opens its transactions itself."""
    try:
        return sqlite3.connect(
            path.resolve().as_uri() + "?mode=rw", uri=True, timeout=timeout, isolation_level=None
        )
    except sqlite3.Error as exc:
        raise ConnectError(device, f"{label}: {exc}") from exc


def database_error(
    device: str, label: str, exc: sqlite3.Error, error: type[DriverError] = DriverError
) -> DriverError:
    return error(device, f"{label}: {exc}", temporary=busy(exc))


def busy(exc: sqlite3.Error) -> bool:
    """A locked or unopenable database is worth a retry; a missing table or column is not."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text or "unable to open" in text
