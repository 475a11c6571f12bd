"""Benchmark: what judging P1 on the change costs. On one synthetic repo, in one run: a full
`validate` without an actor, the same with an actor and a base state (every document's mark
computed and compared, the change judged), and `state()` alone (what `apply` records in the
ledger and what a `--base` load adds).

    python bench/p1.py [--occupiers 10000] [--sites 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate

from reconciler.change import state
from reconciler.load import load
from reconciler.rules import Context
from reconciler.validate import validate

TODAY = date(2026, 11, 23)


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--occupiers", type=int, default=10_000)
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    out = Path(__file__).resolve().parent / "out" / f"p1-{args.occupiers}"
    generate(out, args.sites, args.occupiers)
    repo = load(str(out)).repo
    documents = len(repo.sources)
    base = state(repo, str(out))
    plain = best(lambda: validate(str(out), TODAY), args.repeat)
    judged_ctx = Context(today=TODAY, actor="nobody", base=base, base_label="base")
    judged = best(lambda: validate(str(out), TODAY, "nobody", context=judged_ctx), args.repeat)
    marks = best(lambda: state(repo, str(out)), args.repeat)
    print(f"{documents} documents, {args.occupiers} occupiers, {args.sites} sites")
    print(f"validate, no actor:              {plain:6.2f} s")
    print(f"validate, actor + base (P1):     {judged:6.2f} s  ({judged / plain:.2f}x)")
    print(f"state() of the repo alone:       {marks:6.2f} s")


if __name__ == "__main__":
    main()
