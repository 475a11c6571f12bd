"""pytest fixtures that start and stop a real Kamailio (+ SIPp PBX stand-in) and a real
FreeRADIUS on 127.0.0.1; the machinery is in voicelab.py.

* ``kamailio_lab`` → `KamailioLab`: fresh number database, Kamailio and PBX running;
  ``endpoint``, ``db_path``, ``rpc_url``, ``driver()``, ``call(number, expect)``,
  ``register(number)``, ``registered(number)``, ``restart(load_db=...)``.
* ``radius_lab`` → `RadiusLab`: fresh SQL database, FreeRADIUS running; ``endpoint``,
  ``db_path``, ``driver(secrets)``, ``auth_user(name, password)``, ``auth_mac(mac)``,
  ``peap(eapol_test, name, password)``.

With ``CI=true`` a missing binary fails the test (see `require`) instead of skipping it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.kamailio import create_schema

from . import radius_config
from .voicelab import KamailioLab, RadiusLab, require


@pytest.fixture
def kamailio_lab(tmp_path: Path) -> Iterator[KamailioLab]:
    """A fresh Kamailio (empty number database) plus the PBX stand-in, stopped afterwards."""
    lab = KamailioLab(tmp_path, kamailio=require("kamailio"), sipp=require("sipp"))
    create_schema(lab.db_path)
    try:
        lab.start()
        lab.start_pbx()
        yield lab
    finally:
        lab.close()


@pytest.fixture(scope="session")
def raddb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One generated FreeRADIUS config per test session (ports etc. come from the env)."""
    require("freeradius")
    require("openssl")
    return radius_config.build_raddb(tmp_path_factory.mktemp("raddb") / "raddb")


@pytest.fixture
def radius_lab(tmp_path: Path, raddb: Path) -> Iterator[RadiusLab]:
    """A fresh FreeRADIUS with an empty SQL database, stopped afterwards."""
    lab = RadiusLab(
        tmp_path, raddb, freeradius=require("freeradius"), radclient=require("radclient")
    )
    radius_config.create_db(lab.db_path, raddb)
    try:
        lab.start()
        yield lab
    finally:
        lab.stop()
