"""Generate a synthetic desired-state repo shaped like desired-state/: N sites × M occupiers.

    python bench/generate.py OUT --sites 100 --occupiers 10000

Each occupier has one file with its Occupier, one Contract and 3–7 Services, users, Wi-Fi
devices and activations, so 10,000 occupiers give ~65,000 documents (~22 MB).
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

HEADER = "apiVersion: tenantry.dev/v1alpha1\n"
SPACES_PER_OCCUPIER = 1
FLOOR_PORTS_PER_SPACE = 6

CATALOGUE = """\
apiVersion: tenantry.dev/v1alpha1
kind: ServiceDefinition
metadata:
  name: internet-lan-100
spec:
  category: internet
  description: Internet (LAN only), 100 Mbit/s
  cost: "40.00"
  rrp: "95.00"
  quantity: {min: 1, max: 10, default: 1}
  excludes: [internet-lan-1000]
  infrastructure: {switchPorts: {count: 1, role: internet}}
---
apiVersion: tenantry.dev/v1alpha1
kind: ServiceDefinition
metadata:
  name: internet-lan-1000
spec:
  category: internet
  description: Internet (LAN only), 1 Gbit/s
  cost: "120.00"
  rrp: "250.00"
  quantity: {min: 1, max: 10, default: 1}
  excludes: [internet-lan-100]
  infrastructure: {switchPorts: {count: 1, role: internet}}
---
apiVersion: tenantry.dev/v1alpha1
kind: ServiceDefinition
metadata:
  name: public-ip
spec:
  category: public-ip
  description: One public IPv4 address
  cost: "5.00"
  rrp: "15.00"
  quantity: {min: 1, max: 1}
  maxPerOccupier: 1
  requires: [{anyOf: [internet-lan-100, internet-lan-1000]}]
  infrastructure: {switchPorts: {count: 2, role: public-ip}, publicIPs: 1}
---
apiVersion: tenantry.dev/v1alpha1
kind: ServiceDefinition
metadata:
  name: voice-line
spec:
  category: voice
  description: Hosted voice line with one number
  cost: "0.00"
  rrp: "12.00"
  quantity: {min: 1, max: 0}
  infrastructure: {phoneNumbers: 1, switchPorts: {count: 1, role: voice}}
---
apiVersion: tenantry.dev/v1alpha1
kind: ServiceDefinition
metadata:
  name: call-recording
spec:
  category: call-feature
  description: Call recording
  cost: "1.00"
  rrp: "4.00"
  requires: [voice-line]
---
apiVersion: tenantry.dev/v1alpha1
kind: ServiceDefinition
metadata:
  name: wifi-user
spec:
  category: wifi
  description: Wi-Fi Secure account
  cost: "0.00"
  rrp: "3.00"
  quantity: {min: 1, max: 0, included: 2}
  infrastructure: {wifiUsers: 1}
---
apiVersion: tenantry.dev/v1alpha1
kind: ServiceDefinition
metadata:
  name: wifi-device
spec:
  category: wifi
  description: Shared Wi-Fi device
  cost: "0.00"
  rrp: "5.00"
  quantity: {min: 1, max: 0}
  infrastructure: {wifiDevices: 1}
"""


def site_doc(index: int, occupiers: int) -> str:
    name = f"site-{index:03d}"
    ports = occupiers * SPACES_PER_OCCUPIER * FLOOR_PORTS_PER_SPACE
    switch_lines = []
    for sw in range((ports + 47) // 48):
        switch_lines.append(
            f"    - name: {name}-sw{sw + 1}\n      platform: cisco_iosxe\n"
            f"      host: 10.{index // 250}.{index % 250}.{sw + 10}\n      ports:"
        )
        for p in range(sw * 48, min(ports, (sw + 1) * 48)):
            switch_lines.append(
                f"        - {{interface: GigabitEthernet1/0/{p % 48 + 1}, floorPort: FP-{p:04d}}}"
            )
    space_lines = []
    for s in range(occupiers * SPACES_PER_OCCUPIER):
        fps = ", ".join(
            f"FP-{s * FLOOR_PORTS_PER_SPACE + i:04d}" for i in range(FLOOR_PORTS_PER_SPACE)
        )
        space_lines.append(f"    - {{name: suite-{s:03d}, floorPorts: [{fps}]}}")
    public = f"100.{64 + index // 64}.{(index % 64) * 4}"
    block = f"+44207{index:03d}"
    return (
        f"{HEADER}kind: Site\nmetadata:\n  name: {name}\nspec:\n"
        f"  displayName: Site {index}\n  admins: [ops-team]\n  coolingOffDays: 90\n"
        f'  vlans: {{range: "100-3999", reserved: [100, 101], parking: 4000, voice: 4001}}\n'
        f"  privateSupernet: {{cidr: 10.{64 + index}.0.0/16, prefixLength: 24}}\n"
        f"  publicPools:\n    - {{name: transit, cidr: {public}.0/22, gateway: {public}.1}}\n"
        f'  numberBlocks:\n    - {{first: "{block}0000", last: "{block}0999"}}\n'
        f"  router: {{name: {name}-rtr, platform: frr, host: 10.{index // 250}.{index % 250}.1}}\n"
        f"  switches:\n" + "\n".join(switch_lines) + "\n  spaces:\n" + "\n".join(space_lines) + "\n"
    )


def occupier_file(site: int, slot: int, rng: random.Random, under_cost: bool = False) -> str:
    """One occupier's documents; `under_cost`: its internet line is priced under the
    definition's cost, a legacy price that S3 warns about (one finding in the file)."""
    site_name = f"site-{site:03d}"
    name = f"occ-{site:03d}-{slot:03d}"
    fp = slot * FLOOR_PORTS_PER_SPACE
    number = f"+44207{site:03d}0{slot:03d}"
    mac = f"02:{site % 256:02x}:{slot // 256:02x}:{slot % 256:02x}:00:01"
    extras = rng.random()
    devices = (
        f'  wifiDevices:\n    - {{name: printer, mac: "{mac}", site: {site_name}}}\n'
        if extras > 0.3
        else ""
    )
    docs = [
        f"""{HEADER}kind: Occupier
metadata:
  name: {name}
spec:
  displayName: Occupier {site}-{slot} Ltd
  users:
    - {{name: alex, email: alex@{name}.example, wifi: true, number: "{number}"}}
    - {{name: sam, email: sam@{name}.example, wifi: true}}
{devices}  activations:
    floorPorts:
      - {{site: {site_name}, floorPort: FP-{fp:04d}, role: internet, device: dock}}
      - {{site: {site_name}, floorPort: FP-{fp + 1:04d}, role: voice, device: handset}}
    numbers:
      - {{site: {site_name}, number: "{number}", handset: digital, loggedIn: true}}
  mainNumbers:
    - {{site: {site_name}, number: "{number}"}}
""",
        f"""{HEADER}kind: Contract
metadata:
  name: {name}-2026
spec:
  occupier: {name}
  site: {site_name}
  start: 2026-01-01
  end: 2028-12-31
  spaces: [suite-{slot:03d}]
  atEnd: keep
""",
    ]
    services = [
        ("internet", "internet-lan-100", 1, '"30.00"' if under_cost else '"90.00"'),
        ("voice", "voice-line", 1, None),
        ("wifi-users", "wifi-user", 2, None),
    ]
    if extras > 0.3:
        services.append(("wifi-devices", "wifi-device", 1, '"5.00"'))
    if extras > 0.5:
        services.append(("public-ip", "public-ip", 1, '"15.00"'))
    if extras > 0.8:
        services.append(("recording", "call-recording", 1, None))
    for suffix, definition, quantity, price in services:
        price_line = f"  price: {price}\n" if price else ""
        docs.append(f"""{HEADER}kind: Service
metadata:
  name: {name}-{suffix}
spec:
  occupier: {name}
  site: {site_name}
  definition: {definition}
  quantity: {quantity}
{price_line}""")
    return "---\n".join(docs)


def generate(
    out: Path, sites: int, occupiers: int, seed: int = 7, findings_fraction: float = 0.0
) -> int:
    """Write the repo; `findings_fraction` of the occupier files (spread evenly) carry one
    S3 warning each."""
    rng = random.Random(seed)
    if out.exists():
        shutil.rmtree(out)
    (out / "sites").mkdir(parents=True)
    (out / "catalogue").mkdir()
    (out / "catalogue" / "services.yaml").write_text(CATALOGUE)
    per_site = [occupiers // sites + (1 if i < occupiers % sites else 0) for i in range(sites)]
    total = 0
    for site, count in enumerate(per_site):
        (out / "sites" / f"site-{site:03d}.yaml").write_text(site_doc(site, count))
        folder = out / "occupiers" / f"site-{site:03d}"
        folder.mkdir(parents=True)
        for slot in range(count):
            under_cost = int((total + 1) * findings_fraction) > int(total * findings_fraction)
            text = occupier_file(site, slot, rng, under_cost)
            (folder / f"occ-{slot:03d}.yaml").write_text(text)
            total += 1
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--occupiers", type=int, default=10_000)
    parser.add_argument(
        "--findings-fraction", type=float, default=0.0, help="share of files with one warning"
    )
    args = parser.parse_args()
    count = generate(args.out, args.sites, args.occupiers, findings_fraction=args.findings_fraction)
    print(f"{count} occupiers at {args.sites} sites in {args.out}")


if __name__ == "__main__":
    main()
