"""Fixtures that start and stop the real network labs (machinery in netlab.py).

* ``cisco_lab``  → `FakeCiscoLab`, a fresh simulated Cisco switch per test (ports
  GigabitEthernet0/1..8); ``endpoint(name)``, ``credentials()``, ``cred_env(device)``.
* ``ovs_lab``    → `OvsLab` (one per module): userspace OVS bridge, namespaces a1 a2 b1 b2
  (``host(name)`` → ns, port, address), all ports parked (tag 999, down); sshd on
  127.0.0.1 so ``endpoint()`` + ``credentials()`` reach ovs-vsctl over SSH.
* ``frr_lab``    → `FrrLab` (one per module): inet ns — router ns with FRR — occupier ns;
  ``vtysh`` (command line for FrrDriver), ``endpoint()``, ``credentials()``.
* ``ssh_options`` → SshOptions for the labs (no strict host keys: the keys are made per run).

Start times are collected and printed at the end of the run ("network lab timings").
With CI=true a missing component fails instead of skipping (tests/labs/conftest.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from drivers._ssh import SshOptions

from .netlab import FakeCiscoLab, FrrLab, OvsLab, sshd_logs

TIMINGS: dict[str, list[float]] = {}


def timed(name: str, seconds: float) -> None:
    TIMINGS.setdefault(name, []).append(seconds)


@pytest.fixture(scope="session")
def ssh_options() -> SshOptions:
    return SshOptions(strict_host_key=False, timeout_s=10)


@pytest.fixture
def cisco_lab(requirements: Any) -> Iterator[FakeCiscoLab]:
    requirements.module("fake_switches")
    requirements.module("scrapli")
    requirements.binary("ssh")
    lab = FakeCiscoLab()
    t0 = time.monotonic()
    try:
        lab.start()
        timed("cisco_lab start", time.monotonic() - t0)
        yield lab
    finally:
        lab.stop()


@pytest.fixture(scope="module")
def ovs_lab(requirements: Any) -> Iterator[OvsLab]:
    requirements.root()
    for binary in (
        "ovs-vswitchd",
        "ovsdb-server",
        "ovs-vsctl",
        "ovs-ofctl",
        "ip",
        "ping",
        "/usr/sbin/sshd",
        "ssh",
        "ssh-keygen",
    ):
        requirements.binary(binary)
    requirements.module("scrapli")
    lab = OvsLab()
    t0 = time.monotonic()
    try:
        lab.start()
        timed("ovs_lab start", time.monotonic() - t0)
        yield lab
    finally:
        lab.stop()


@pytest.fixture(scope="module")
def frr_lab(requirements: Any) -> Iterator[FrrLab]:
    requirements.root()
    for binary in (
        "/usr/lib/frr/zebra",
        "/usr/lib/frr/staticd",
        "vtysh",
        "ip",
        "ping",
        "/usr/sbin/sshd",
        "ssh",
        "ssh-keygen",
    ):
        requirements.binary(binary)
    requirements.module("scrapli")
    lab = FrrLab()
    t0 = time.monotonic()
    try:
        lab.start()
        timed("frr_lab start", time.monotonic() - t0)
        yield lab
    finally:
        lab.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Iterator[None]:
    """A failing lab test's report shows what the labs' sshd logged (a device that could not
    be read over SSH says why on the server's side too)."""
    outcome: Any = yield
    report = outcome.get_result()
    if report.failed and report.when == "call":
        for lab, text in sshd_logs():
            report.sections.append((f"sshd log of {lab}", text))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not TIMINGS:
        return
    terminalreporter.section("network lab timings")
    for name, values in sorted(TIMINGS.items()):
        ms = sorted(v * 1000 for v in values)
        terminalreporter.write_line(
            f"{name:<32} n={len(ms):<3} min={ms[0]:7.0f} ms  median={ms[len(ms) // 2]:7.0f} ms"
            f"  max={ms[-1]:7.0f} ms"
        )


@pytest.fixture(scope="module")
def frr_e2e(requirements: Any) -> Iterator[FrrLab]:
    """The FRR lab with its occupier namespace on acme's prefix: the planner routes a public
    /32 to the second host of the occupier's private prefix (10.64.0.2 for 10.64.0.0/24)."""
    from .labrepo import ACME_NEXT_HOP, PUBLIC_IP, PUBLIC_POOL

    requirements.root()
    for binary in (
        "/usr/lib/frr/zebra",
        "/usr/lib/frr/staticd",
        "vtysh",
        "ip",
        "ping",
        "/usr/sbin/sshd",
        "ssh",
        "ssh-keygen",
    ):
        requirements.binary(binary)
    requirements.module("scrapli")
    lab = FrrLab(
        xfer_rtr="10.64.0.1", xfer_occ=ACME_NEXT_HOP, public_block=PUBLIC_POOL, public_ip=PUBLIC_IP
    )
    try:
        lab.start()
        yield lab
    finally:
        lab.stop()
