"""Benchmark: 100 port changes across 4 simulated Cisco switches (fake-switches over SSH).

    .venv/bin/python bench/apply_ports.py [--switches 4] [--ports 25] [--parallel]

Starts the switches itself (tests/labs/network/netlab.py), applies three rounds (assign every
port to an occupier, re-apply unchanged, park every port) and prints per round: sessions
opened, configuration lines sent, wall-clock seconds. Stops every switch it started.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "labs"))

from network.netlab import FakeCiscoLab  # noqa: E402

from drivers._ssh import SshOptions  # noqa: E402
from drivers.base import PortIntent, SwitchIntent, Transcript  # noqa: E402
from drivers.cisco_iosxe import CiscoIosxeDriver  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--switches", type=int, default=4)
    p.add_argument("--ports", type=int, default=25)
    p.add_argument("--parallel", action="store_true", help="one thread per switch")
    a = p.parse_args()

    labs = [FakeCiscoLab(hostname=f"sw{i}", ports=a.ports) for i in range(a.switches)]
    try:
        t0 = time.monotonic()
        for lab in labs:
            lab.start()
        print(f"started {a.switches} switches x {a.ports} ports in {time.monotonic() - t0:.2f} s")
        driver = CiscoIosxeDriver(SshOptions(strict_host_key=False, timeout_s=30))

        def assigned(lab: FakeCiscoLab) -> SwitchIntent:
            ports = tuple(
                PortIntent(
                    f"GigabitEthernet0/{n}",
                    100 + n % 8,
                    f"occupier {n % 8}",
                    True,
                    40 if n % 2 else None,
                )
                for n in range(1, a.ports + 1)
            )
            return SwitchIntent(lab.endpoint(), ports, vlans=(*range(100, 108), 40, 999))

        def parked(lab: FakeCiscoLab) -> SwitchIntent:
            ports = tuple(PortIntent(f"GigabitEthernet0/{n}", 999) for n in range(1, a.ports + 1))
            return SwitchIntent(lab.endpoint(), ports, vlans=(999,))

        for label, make in (("assign", assigned), ("re-apply", assigned), ("park", parked)):
            t0 = time.monotonic()
            jobs = [(make(lab), lab.credentials()) for lab in labs]
            if a.parallel:
                with ThreadPoolExecutor(len(jobs)) as pool:
                    results: list[Transcript] = list(pool.map(lambda j: driver.apply(*j), jobs))
            else:
                results = [driver.apply(*j) for j in jobs]
            dt = time.monotonic() - t0
            print(
                f"{label:<9} ports={a.switches * a.ports} "
                f"sessions={sum(r.sessions for r in results)} "
                f"reads={sum(len(r.reads) for r in results)} "
                f"config_lines={sum(len(r.commands) for r in results)} seconds={dt:.2f}"
            )
    finally:
        for lab in labs:
            lab.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
