"""Copy a repo made by bench/generate.py with varied dates, as real repos have them: contract
starts, ends and atEnd, scheduled changes, future decommissions and a few lines that change to
an excluded definition, so the timeline has hundreds of dates and dated findings.

    python bench/generate.py bench/out/repo --occupiers 1000 --sites 100 --findings-fraction 0.5
    python bench/vary_dates.py bench/out/repo bench/out/repo-varied
    python bench/rules.py bench/out/repo-varied --per-rule
"""

import random
import re
import shutil
import sys
from datetime import date, timedelta
from pathlib import Path

src, dst = Path(sys.argv[1]), Path(sys.argv[2])
if dst.exists():
    shutil.rmtree(dst)
shutil.copytree(src, dst)
rng = random.Random(11)


def d(lo: int, hi: int) -> date:
    return date(2025, 6, 1) + timedelta(days=rng.randint(lo, hi))


files = [p for p in sorted(dst.rglob("*.yaml")) if "kind: Occupier" in p.read_text()]
for path in files:
    docs = path.read_text().split("---\n")
    start = d(0, 720)
    end = start + timedelta(days=rng.randint(100, 900))
    at_end = "deprovision" if rng.random() < 0.3 else "keep"
    name = None
    out = []
    for doc in docs:
        if "kind: Occupier" in doc:
            name = re.search(r"name: (\S+)", doc).group(1)
            if rng.random() < 0.04:
                disp = re.search(r"displayName: (.*)", doc).group(1)
                doc += (
                    f"  decommission:\n    confirm: {disp}\n    irreversible: true\n"
                    f"    at: {d(540, 1100)}\n"
                )
        elif "kind: Contract" in doc:
            doc = doc.replace("start: 2026-01-01", f"start: {start}")
            doc = doc.replace(
                "end: 2028-12-31", f"end: {end}" if rng.random() < 0.9 else "end: null"
            )
            doc = doc.replace("atEnd: keep", f"atEnd: {at_end}")
        elif "kind: Service" in doc:
            r = rng.random()
            on = start + timedelta(days=rng.randint(1, 600))
            if "definition: wifi-user" in doc and r < 0.15:
                doc += f"  changes:\n    - {{on: {on}, quantity: {rng.choice([1, 3])}}}\n"
            elif "definition: internet-lan-100" in doc and r < 0.1:
                doc += f"  changes:\n    - {{on: {on}, definition: internet-lan-1000}}\n"
            elif "definition: voice-line" in doc and r < 0.05:
                later = on + timedelta(days=30)
                doc += (
                    f"  changes:\n    - {{on: {on}, quantity: 2}}\n"
                    f'    - {{on: {later}, price: "9.00"}}\n'
                )
        out.append(doc)
    if name and rng.random() < 0.05:
        on = start + timedelta(days=rng.randint(1, 600))
        found = re.search(r"site: (site-[0-9]+)", docs[1])
        site = found.group(1) if found else "site-000"
        out.append(
            f"apiVersion: tenantry.dev/v1alpha1\nkind: Service\nmetadata:\n  name: {name}-fast\n"
            f"spec:\n  occupier: {name}\n  site: {site}\n  definition: internet-lan-100\n"
            f"  changes:\n    - {{on: {on}, definition: internet-lan-1000}}\n"
        )
    path.write_text("---\n".join(out))
print(len(files), "occupier files varied")
