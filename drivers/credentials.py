"""Device credentials from the environment or a credentials file, never from the repository.

Lookup for device `sw-floor3` (names are upper-cased, anything not A-Z/0-9 becomes `_`):

1. TENANTRY_CRED_SW_FLOOR3_USERNAME / _PASSWORD / _ENABLE / _KEY   (environment, per device)
2. [devices."sw-floor3"] in the file named by TENANTRY_CREDENTIALS   (TOML, or YAML by suffix)
3. TENANTRY_CRED_DEFAULT_USERNAME / ...                              (environment, default)
4. [default] in the file

Each field is looked up on its own along that order, so a per-device password can reuse the
default username. A file readable by group or others is refused (like ssh refuses such keys).
Secrets never reach logs: `Credentials.__repr__` masks them and nothing here logs values.

File example (TOML):

    [default]
    username = "netops"
    key = "/etc/tenantry/id_ed25519"

    [devices."sw-floor3"]
    password = "..."
    enable = "..."
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from drivers.base import Credentials

FIELDS = ("username", "password", "enable", "key")
ENV_PREFIX = "TENANTRY_CRED_"
FILE_ENV = "TENANTRY_CREDENTIALS"


class CredentialsError(Exception):
    """The credentials source is unusable (bad file, unsafe permissions)."""


def env_key(device: str) -> str:
    return re.sub(r"[^A-Z0-9]", "_", device.upper())


def _load_file(path: Path) -> dict[str, Any]:
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise CredentialsError(f"credentials file {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CredentialsError(f"credentials file {path} is accessible by others; chmod 600 it")
    text = path.read_text()
    try:
        if path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            data = tomllib.loads(text)
    except Exception as exc:  # the parser's message may quote a line: keep only its type
        raise CredentialsError(f"credentials file {path}: cannot parse ({type(exc).__name__})"
                               ) from None
    if not isinstance(data, dict):
        raise CredentialsError(f"credentials file {path}: expected a mapping at the top")
    return data


class CredentialStore:
    """Resolves Credentials per device name; `get` returns None when no username is known."""

    def __init__(self, env: Mapping[str, str] | None = None, path: str | Path | None = None
                 ) -> None:
        self.env = dict(os.environ if env is None else env)
        file = path or self.env.get(FILE_ENV)
        self.file: dict[str, Any] = _load_file(Path(file)) if file else {}

    def _file_section(self, device: str | None) -> Mapping[str, Any]:
        if device is None:
            section = self.file.get("default", {})
        else:
            section = (self.file.get("devices") or {}).get(device, {})
        return section if isinstance(section, Mapping) else {}

    def _field(self, device: str, name: str) -> str | None:
        sources = (
            self.env.get(f"{ENV_PREFIX}{env_key(device)}_{name.upper()}"),
            self._file_section(device).get(name),
            self.env.get(f"{ENV_PREFIX}DEFAULT_{name.upper()}"),
            self._file_section(None).get(name),
        )
        for value in sources:
            if value not in (None, ""):
                return str(value)
        return None

    def get(self, device: str) -> Credentials | None:
        username = self._field(device, "username")
        if username is None:
            return None
        return Credentials(
            username=username,
            password=self._field(device, "password"),
            enable=self._field(device, "enable"),
            private_key=self._field(device, "key"),
        )


def credentials_for(device: str, env: Mapping[str, str] | None = None) -> Credentials | None:
    """One-shot lookup with the process environment (see the module docstring)."""
    return CredentialStore(env).get(device)
