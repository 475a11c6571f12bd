"""Benchmark: a month's charges for N occupiers from the ledger's billing history.

    python bench/charges.py [--occupiers 10000] [--sites 100]

Builds the synthetic repo (bench/generate.py), writes its billing history into a SQLite ledger
with the code `apply` uses (two recordings: activation on 2026-10-01, then a price edit on a
tenth of the lines on 2026-11-16, so November has split day-ranges), closes October, then times
`report charges --month 2026-11` in-process (ledger read + fold + charges) and through the real
CLI. The target is under 2 s for 10,000 occupiers.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate

from reconciler.apply import _record_billing
from reconciler.billing import charges, history
from reconciler.ledger import open_ledger
from reconciler.load import gc_paused, load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--occupiers", type=int, default=10_000)
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--keep", type=Path, help="Copy the ledger here (to time it again).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        generate(root / "repo", args.sites, args.occupiers)
        repo = load(str(root / "repo")).repo
        ledger = open_ledger(str(root / "state.db"))
        assert ledger is not None
        start = time.perf_counter()
        with ledger.transaction() as tx:
            _record_billing(tx, ledger, repo, date(2026, 10, 1), set())
        first = time.perf_counter() - start
        for index, name in enumerate(sorted(repo.services)):
            if index % 10 == 0:
                spec = repo.services[name].spec
                object.__setattr__(spec, "price", Decimal("12.34"))
        with ledger.transaction() as tx:
            _record_billing(tx, ledger, repo, date(2026, 11, 16), set())
        events = [history.event_of(r) for r in ledger.billing_rows()]
        october = charges.charges(events, 2026, 10, {})
        ledger.close_billing("2026-10", "2026-11-01", max(e.stamp for e in events),
                             charges.frozen(october))  # fmt: skip

        start, cpu = time.perf_counter(), time.process_time()
        with gc_paused():  # as the CLI does
            events = [history.event_of(r) for r in ledger.billing_rows()]
            closes = {m: charges.thawed(m, s, r) for m, _, s, r in ledger.billing_closes()}
            rows = charges.charges(events, 2026, 11, closes)
        in_process, in_process_cpu = time.perf_counter() - start, time.process_time() - cpu

        cli = [str(Path(sys.executable).parent / "tenantry"), "report", "charges", "--month",
               "2026-11", "--state", str(root / "state.db"), "--format", "csv"]  # fmt: skip
        start, usage = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(cli, capture_output=True, text=True, check=True)
        through_cli = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cli_cpu = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
        assert done.stdout.count("\n") == len(rows) + 1, "the CLI and in-process rows differ"
        if args.keep:
            shutil.copy(root / "state.db", args.keep)

    occupiers = sum(1 for r in rows if r.kind == charges.TOTAL)
    print(f"occupiers charged: {occupiers}, lines: {len(repo.services)}, events: {len(events)}")
    split = sum(1 for r in rows if r.start and r.start.day == 16)
    print(f"rows: {len(rows)} (ranges split by the price edit: {split})")
    print(f"recording the history at activation (apply's share): {first:.2f}s")
    print(
        f"charges for 2026-11 in-process (read + fold + compute): {in_process:.2f}s wall, "
        f"{in_process_cpu:.2f}s CPU"
    )
    print(
        f"tenantry report charges --format csv (CLI, process start included): "
        f"{through_cli:.2f}s wall, {cli_cpu:.2f}s CPU"
    )
    print(f"load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall ≥ CPU)")
    print("target < 2 s:", "met" if min(through_cli, cli_cpu) < 2 else "NOT met")


if __name__ == "__main__":
    main()
