"""What each finding's rule id means, in the words of the README's rules table: the text SARIF
gives code scanning (fullDescription, help) and JUnit gives its test cases."""

from __future__ import annotations

RULE_TEXT: dict[str, str] = {
    "S1": "A service is charged against a contract of the same occupier at the same site; "
    "with one contract there it is chosen automatically.",
    "S2": "The start date comes from the contract and cannot be overridden; a future start is "
    "Scheduled and provisioned from that date.",
    "S3": "Price defaults to rrp; a price under cost is a warning; charges = price × "
    "(quantity − included), prorated by day; a discount cannot end before it starts.",
    "S4": "Quantity within min..max (0 = no max), default when omitted; an inactive "
    "definition cannot be newly assigned.",
    "S5": "requires, excludes, maxPerOccupier: a service set that breaks one is rejected, "
    "naming both services.",
    "S6": "Provisioned infrastructure X/Y for switch ports, telephony, public IPs, Wi-Fi "
    "devices, Wi-Fi users.",
    "S7": "X ≤ Y: no activation beyond the allocation; no removal or reduction below what is "
    "in use (today or at a scheduled change).",
    "S8": "replaces upgrades make-before-break: the old line retires once the new one is "
    "Active; the pair is exempt from excludes meanwhile.",
    "S9": "Contract and service status Active / Scheduled / Inactive (+ Updating / Failed); "
    "services continue after a contract ends unless atEnd: deprovision.",
    "S10": "Scheduled changes take effect on their date: ordered, after the contract start, "
    "within the quantity rule.",
    "N1": "One VLAN (never reserved) and one private prefix per occupier and site; the "
    "gateway is never handed out.",
    "N2": "Public addresses or /30–/29 blocks from well-formed, non-overlapping pools, never "
    "the gateway or an excluded address; the router gets the route.",
    "N3": "Floor ports from the occupier's own spaces, each in one space and behind one "
    "switch port; released ports are parked.",
    "N4": "Allocations are stable and deterministic; the database makes each one unique; a "
    "pool past 90 % is a warning.",
    "T1": "The first voice service activates its numbers; the first becomes the main number "
    "unless one is declared.",
    "T2": "Numbers are valid (libphonenumber), from the site's blocks, held by one occupier; "
    "released numbers cool off before reuse at the same site.",
    "T3": "A MAC is unique per site; Wi-Fi only where the occupier has a contract.",
    "D1": "Decommission needs the exact display name and irreversible: true.",
    "D2": "Decommission refused when a contract starts that day, an analog handset is logged "
    "in, a service is Failed/Updating, or neither the actor nor an approver is admin of every "
    "site of the occupier.",
    "D5": "A decommission under way cannot be withdrawn, and the occupier's documents are "
    "read-only.",
    "P1": "A change touching a site must come from, or be approved by, one of its admins; the "
    "change is the difference from the base (a pull request's target, or the last apply).",
    "ref": "Every referenced name exists.",
    "schema": "Every document matches the JSON Schema of its kind (schemas/).",
    "duplicate": "A kind and name is declared once.",
    "yaml": 'YAML that every tool reads alike (quote the key "on" for YAML 1.1 readers).',
    "load": "Every file is readable UTF-8 YAML of a sensible size.",
    "ledger": "The ledger (TENANTRY_LEDGER) can be read and written.",
}


# A readable name per rule (SARIF wants one that differs from the opaque id).
RULE_NAME: dict[str, str] = {
    "S1": "ServiceContract",
    "S2": "StartDate",
    "S3": "Price",
    "S4": "Quantity",
    "S5": "Dependencies",
    "S6": "Infrastructure",
    "S7": "InfrastructureLimits",
    "S8": "Replaces",
    "S9": "Status",
    "S10": "ScheduledChanges",
    "N1": "VlansAndPrefixes",
    "N2": "PublicPools",
    "N3": "FloorPorts",
    "N4": "StableAllocations",
    "T1": "MainNumber",
    "T2": "Numbers",
    "T3": "Wifi",
    "D1": "DecommissionRequest",
    "D2": "DecommissionPreconditions",
    "D5": "DecommissionReadOnly",
    "P1": "SiteAdmins",
    "ref": "References",
    "schema": "MatchesSchema",
    "duplicate": "DeclaredOnce",
    "yaml": "PortableYaml",
    "load": "ReadableFile",
    "ledger": "LedgerReachable",
}


def rule_text(rule: str) -> str:
    return RULE_TEXT.get(rule, rule)


def rule_name(rule: str) -> str:
    return RULE_NAME.get(rule, f"Rule{rule.title()}")
