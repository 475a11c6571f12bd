"""CPU seconds of the rules (with the timeline) on generated repos: per rule and for the whole
`reconciler.timeline.check`, each measured on a repo whose memo starts empty (as a validate
run does). Prints a digest of the findings so two source trees can be compared:

    python bench/rules.py bench/out/repo-10000-f0.5 [--dump findings.txt]
    PYTHONPATH=/path/to/other/tree python bench/rules.py …   # the same figures for that tree
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import resource
import sys
from datetime import date
from pathlib import Path

from reconciler.rules import RULES, Context
from reconciler.timeline import check
from reconciler.validate import load, measured, recorded_context


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(repo: object, ctx: Context, only: list[str] | None, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        repo.memo.clear()  # type: ignore[attr-defined]
        start = cpu()
        check(repo, ctx, only)  # type: ignore[arg-type]
        best = min(best, cpu() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("repos", nargs="+", type=Path)
    parser.add_argument("--today", default="2026-11-23")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--per-rule", action="store_true")
    parser.add_argument("--dump", type=Path, help="write the findings, one a line, here")
    args = parser.parse_args()
    gc.disable()  # as validate runs the rules (gc_paused)
    for root in args.repos:
        loaded = load(str(root))
        today = Context(date.fromisoformat(args.today))
        ctx = measured(loaded, recorded_context(loaded.repo, today))
        repo = loaded.repo
        repo.memo.clear()
        found = check(repo, ctx)
        lines = sorted(
            f"{f.source.file if f.source else ''}\t{f.source.index if f.source else ''}\t"
            f"{f.path}\t{f.rule}\t{f.severity}\t{f.on}\t{f.message}\t{f.hint}"
            for f in found
        )
        digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:12]
        if args.dump:
            args.dump.write_text("\n".join(lines) + "\n")
        total = timed(repo, ctx, None, args.repeat)
        print(f"{root}: {len(repo.sources)} documents, {len(found)} findings ({digest}); "
              f"check {total:.3f}s CPU", flush=True)
        if args.per_rule:
            each = {rule: timed(repo, ctx, [rule], args.repeat) for rule in RULES}
            print("  " + "  ".join(f"{r} {t:.3f}" for r, t in each.items()), flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
