"""Credentials: environment per device, file, defaults; secrets never in repr."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from drivers.credentials import CredentialsError, CredentialStore


def test_device_env_wins_over_default_field_by_field() -> None:
    env = {
        "TENANTRY_CRED_DEFAULT_USERNAME": "netops",
        "TENANTRY_CRED_DEFAULT_PASSWORD": "default-secret",
        "TENANTRY_CRED_SW_FLOOR3_PASSWORD": "floor3-secret",
        "TENANTRY_CRED_SW_FLOOR3_ENABLE": "en",
    }
    cred = CredentialStore(env).get("sw-floor3")
    assert cred is not None
    assert (cred.username, cred.password, cred.enable) == ("netops", "floor3-secret", "en")
    other = CredentialStore(env).get("sw-floor4")
    assert other is not None and other.password == "default-secret"
    assert "secret" not in repr(cred) and "secret" not in str(cred)


def test_no_username_means_no_credentials() -> None:
    assert CredentialStore({}).get("sw1") is None


def test_toml_file_and_env_order(tmp_path: Path) -> None:
    f = tmp_path / "creds.toml"
    f.write_text('[default]\nusername = "netops"\nkey = "/k"\n'
                 '[devices."rtr-1"]\npassword = "file-pw"\n')
    f.chmod(0o600)
    env = {"TENANTRY_CREDENTIALS": str(f), "TENANTRY_CRED_DEFAULT_USERNAME": "envuser"}
    cred = CredentialStore(env).get("rtr-1")
    assert cred is not None
    # per-device file beats default env; default env beats default file
    assert (cred.username, cred.password, cred.private_key) == ("envuser", "file-pw", "/k")


def test_yaml_file(tmp_path: Path) -> None:
    f = tmp_path / "creds.yaml"
    f.write_text("devices:\n  sw1:\n    username: admin\n    password: pw\n")
    f.chmod(0o600)
    cred = CredentialStore({}, path=f).get("sw1")
    assert cred is not None and cred.password == "pw"


def test_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "creds.toml"
    f.write_text('[default]\nusername = "x"\npassword = "secret"\n')
    os.chmod(f, 0o644)
    with pytest.raises(CredentialsError, match="chmod 600"):
        CredentialStore({"TENANTRY_CREDENTIALS": str(f)})


def test_parse_error_does_not_echo_the_file(tmp_path: Path) -> None:
    f = tmp_path / "creds.toml"
    f.write_text('password = "hunter2\n')
    f.chmod(0o600)
    with pytest.raises(CredentialsError) as err:
        CredentialStore({}, path=f)
    assert "hunter2" not in str(err.value)
