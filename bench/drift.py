"""Benchmark: `tenantry drift` of 4 lab switches x 25 managed ports (issue 15).

    .venv/bin/python bench/drift.py [--switches 4] [--ports 25] [--changed 5]

Starts the simulated Cisco switches itself (tests/labs/network/netlab.py), applies a
desired-state repo with one occupier per port row (as bench/apply_e2e.py), then times:

    in sync    `tenantry drift` (the real CLI): every switch read once, nothing differs
    drifted    after `--changed` ports per switch were moved to another VLAN by hand
    parallel 1 the same check with --parallel 1 (devices one after the other)
    repair     `tenantry apply --only-drift`, then `drift` again (must exit 0)

and, in-process, how many sessions each check opened per device (the credential lookup is
made once per session). Stops every switch it started. The figures depend on the machine's
load: compare the rows of one run, not runs of different days.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "labs"))

from apply_e2e import bench_env, bench_site  # noqa: E402  (this directory)
from network.labrepo import TODAY, write_repo  # noqa: E402
from network.netlab import FakeCiscoLab  # noqa: E402

from drivers._ssh import SshOptions, open_cli  # noqa: E402
from drivers.cisco_iosxe import _definition  # noqa: E402
from drivers.credentials import CredentialStore  # noqa: E402
from reconciler.app import App  # noqa: E402
from reconciler.load import load  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--switches", type=int, default=4)
    p.add_argument("--ports", type=int, default=25, help="managed ports per switch")
    p.add_argument("--changed", type=int, default=5, help="ports changed by hand per switch")
    a = p.parse_args()
    tenantry = str(Path(sys.executable).parent / "tenantry")
    labs = [FakeCiscoLab(hostname=f"sw{i}", ports=a.ports) for i in range(a.switches)]
    work = Path(tempfile.mkdtemp(prefix="tenantry-bench-drift-"))
    repo, state = work / "repo", work / "state.db"
    failed = False
    try:
        for lab in labs:
            lab.start()
        site, occupiers = bench_site(labs, a.ports)
        write_repo(repo, [site], occupiers)
        env = bench_env(labs)
        where = [str(repo), "--drivers", "devices", "--state", str(state)]

        def cli(label: str, *args: str, expect: int) -> float:
            nonlocal failed
            t0 = time.monotonic()
            res = subprocess.run([tenantry, *args], capture_output=True, text=True, env=env)
            seconds = time.monotonic() - t0
            print(f"{label:<11} exit={res.returncode} seconds={seconds:.2f}")
            if res.returncode != expect:
                print(f"FAIL: expected exit {expect}\n{res.stdout}{res.stderr}")
                failed = True
            return seconds

        cli("apply", "apply", *where, "--today", TODAY, expect=0)
        in_sync = cli("in sync", "drift", *where, expect=0)
        print(f"sessions per device (in sync): {sessions(repo, state, env)}")
        by_hand = SshOptions(strict_host_key=False, timeout_s=30)
        for i, lab in enumerate(labs):
            cli_session = open_cli(lab.endpoint(f"sw{i}"), lab.credentials(), _definition(),
                                   by_hand, enable=True)
            lines = []
            for n in range(1, a.changed + 1):
                lines += [f"interface GigabitEthernet0/{n}", "switchport access vlan 777"]
            cli_session.send_inputs(lines, requested_mode="configuration")
            cli_session.close()
        drifted = cli("drifted", "drift", *where, expect=2)
        serial = cli("parallel 1", "drift", *where, "--parallel", "1", expect=2)
        print(f"sessions per device (drifted): {sessions(repo, state, env)}")
        cli("repair", "apply", *where, "--only-drift", "--today", TODAY, expect=0)
        cli("after", "drift", *where, expect=0)
        print(f"{a.switches} switches x {a.ports} ports: in sync {in_sync:.2f}s, drifted "
              f"({a.switches * a.changed} resources) {drifted:.2f}s; --parallel 1 takes "
              f"{serial / drifted:.1f}x the time of --parallel 4 (same run)")
    finally:
        for lab in labs:
            lab.stop()
    return 1 if failed else 0


def sessions(repo: Path, state: Path, env: dict[str, str]) -> str:
    """One check in-process (no interpreter start-up), counting the credential lookups: one
    per session opened."""
    store = CredentialStore(env)
    opened: Counter[str] = Counter()

    def lookup(device: str) -> Any:
        opened[device] += 1
        return store.get(device)

    saved = dict(os.environ)
    os.environ.update(env)  # the SSH options come from the environment
    try:
        loaded = load(str(repo)).repo
        t0 = time.monotonic()
        App(str(state), "devices", credentials=lookup).drift(loaded)
        seconds = time.monotonic() - t0
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return f"{dict(sorted(opened.items()))}, read in-process in {seconds:.2f}s"


if __name__ == "__main__":
    sys.exit(main())
