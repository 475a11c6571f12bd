"""A test run killed mid-way (a timeout, ^C, kill -9) leaves its Open vSwitch lab behind:
daemons, sshd, namespaces. Two userspace vswitchds cannot share a network namespace (each
wants the `ovs-netdev` device), so the leftover breaks every later OVS lab with "tbr… is not a
bridge". The next lab to start stops such orphans, and never a lab whose owner still runs;
a lab of another session that still runs is waited for (one OVS lab at a time on a machine)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .netlab import _alive, hold_ovs_lock, reap_orphaned_ovs_labs, run

pytestmark = pytest.mark.lab

ROOT = Path(__file__).parents[3]
START_A_LAB = """
import time
from tests.labs.network.netlab import OvsLab
lab = OvsLab(hosts=("a1",))
lab.start()
print(lab.run_dir, lab.host("a1").ns, flush=True)
time.sleep(600)
"""


def test_a_lab_left_by_a_killed_run_is_stopped_by_the_next(requirements: Any) -> None:
    requirements.root()
    for binary in ("ovs-vswitchd", "ovsdb-server", "/usr/sbin/sshd", "ip"):
        requirements.binary(binary)
    owner = subprocess.Popen(
        [sys.executable, "-c", START_A_LAB],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert owner.stdout is not None
    started = owner.stdout.readline().split()
    if len(started) != 2:
        owner.kill()
        raise AssertionError(" ".join(started) + owner.stdout.read())
    run_dir, ns = started
    daemons = [
        Path(run_dir, "ovs", f"{daemon}.pid").read_text().strip()
        for daemon in ("ovsdb-server", "ovs-vswitchd")
    ]
    try:
        reap_orphaned_ovs_labs()  # its owner runs: left alone
        assert all(_alive(int(pid)) for pid in daemons)
        with pytest.raises(RuntimeError, match="another test session's Open vSwitch lab"):
            hold_ovs_lock(wait_s=0.5)  # a lab of this session would wait for it
    finally:
        owner.kill()
        owner.wait()
    assert all(_alive(int(pid)) for pid in daemons)  # orphaned, still running
    os.close(hold_ovs_lock(wait_s=5))  # its owner's death released the machine's lab lock
    reap_orphaned_ovs_labs()
    assert not any(_alive(int(pid)) for pid in daemons)
    assert not Path(run_dir).exists()
    assert ns not in run("ip", "netns", "list").stdout
