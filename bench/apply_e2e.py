"""Benchmark: `tenantry apply` (the real CLI) of 100 port changes across 4 lab switches.

    .venv/bin/python bench/apply_e2e.py [--switches 4] [--ports 25] [--parallel 4]

Starts the simulated Cisco switches itself (tests/labs/network/netlab.py), writes a
desired-state repo (tests/labs/network/labrepo.py) with one site, the switches, and one
occupier per port row (an activated floor port on every switch), then times three runs of
`tenantry apply --drivers devices --transcript FILE`:

    assign    every port gets its occupier's VLAN, description, no shutdown
    no-op     unchanged input: must send no command and open at most one session per device
    park      every occupier leaves: every port is parked (parking VLAN, shutdown)

and prints per run: wall-clock seconds (the whole CLI: validate, plan, ledger, devices),
sessions opened, read commands, configuration commands. Stops every switch it started.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "labs"))

from network.labrepo import TODAY, Occupier, Site, Switch, Tenancy, write_repo  # noqa: E402
from network.netlab import FakeCiscoLab  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--switches", type=int, default=4)
    p.add_argument("--ports", type=int, default=25, help="managed ports per switch")
    p.add_argument("--parallel", type=int, default=4, help="tenantry apply --parallel")
    a = p.parse_args()
    tenantry = Path(sys.executable).parent / "tenantry"
    labs = [FakeCiscoLab(hostname=f"sw{i}", ports=a.ports) for i in range(a.switches)]
    work = Path(tempfile.mkdtemp(prefix="tenantry-bench-"))
    failed = False
    try:
        t0 = time.monotonic()
        for lab in labs:
            lab.start()
        print(f"started {a.switches} switches x {a.ports} ports in {time.monotonic() - t0:.2f} s")
        site, occupiers = bench_site(labs, a.ports)
        env = bench_env(labs)
        repo, state, transcript = work / "repo", work / "state.db", work / "transcript.json"
        # occupiers leave by decommission: deleting their files is refused by G1
        leaving = [replace(o, leaves=True) for o in occupiers]
        for label, occs in (("assign", occupiers), ("no-op", occupiers), ("park", leaving)):
            write_repo(repo, [site], occs)
            t0 = time.monotonic()
            res = subprocess.run(
                [
                    str(tenantry),
                    "apply",
                    str(repo),
                    "--drivers",
                    "devices",
                    "--state",
                    str(state),
                    "--today",
                    TODAY,
                    "--parallel",
                    str(a.parallel),
                    "--transcript",
                    str(transcript),
                ],
                capture_output=True,
                text=True,
                env=env,
            )
            dt = time.monotonic() - t0
            record = json.loads(transcript.read_text())
            devices = record["devices"].values()
            sessions = sum(d["sessions"] for d in devices)
            commands = sum(len(d["commands"]) for d in devices)
            interfaces = sum(1 for d in devices for c in d["commands"] if c.startswith("interface"))
            print(
                f"{label:<7} exit={res.returncode} seconds={dt:.2f} sessions={sessions} "
                f"reads={sum(len(d['reads']) for d in devices)} config_lines={commands} "
                f"ports_changed={interfaces} failures={len(record['failures'])}"
            )
            if res.returncode != 0:
                print(res.stdout + res.stderr)
                failed = True
            if label == "no-op" and (commands or any(d["sessions"] > 1 for d in devices)):
                print("FAIL: a no-op apply sent commands or opened more than one session")
                failed = True
    finally:
        for lab in labs:
            lab.stop()
    return 1 if failed else 0


def bench_site(labs: list[FakeCiscoLab], ports: int) -> tuple[Site, list[Occupier]]:
    """One site of the switches, `ports` managed ports each, and one occupier per port row
    (an activated floor port on every switch)."""
    switches = [
        Switch(
            f"sw{i}",
            "cisco_iosxe",
            lab.port,
            {f"GigabitEthernet0/{n}": f"S{i}-{n:02d}" for n in range(1, ports + 1)},
        )
        for i, lab in enumerate(labs)
    ]
    spaces = {
        f"row-{n:02d}": [f"S{i}-{n:02d}" for i in range(len(labs))] for n in range(1, ports + 1)
    }
    site = Site("bench", switches, spaces, vlan_range="100-899", parking=999)
    occupiers = []
    for n in range(1, ports + 1):
        row = f"row-{n:02d}"
        desks = {fp: f"desk {fp}" for fp in spaces[row]}
        occupiers.append(Occupier(f"occ-{n:02d}", [Tenancy("bench", [row], desks)]))
    return site, occupiers


def bench_env(labs: list[FakeCiscoLab]) -> dict[str, str]:
    """The environment of the CLI runs: the switches' credentials, no strict host keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENANTRY_")}
    env.update(
        TENANTRY_SSH_STRICT_HOST_KEY="0",
        TENANTRY_SSH_TIMEOUT="30",
        TENANTRY_CRED_DEFAULT_USERNAME=labs[0].username,
        TENANTRY_CRED_DEFAULT_PASSWORD=labs[0].password,
        TENANTRY_CRED_DEFAULT_ENABLE=labs[0].enable,
    )
    return env


if __name__ == "__main__":
    sys.exit(main())
