"""CustomResourceDefinitions generated from the models (the same source as the JSON Schemas).

Kubernetes wants a *structural* openAPIV3Schema: no `$ref`/`$defs`, a `type` on every node,
no `additionalProperties` beside `properties`, and unions only as `nullable`. The pydantic
schema is turned into that: references are inlined, `X | None` becomes `nullable`, `const`
becomes a one-value `enum`, and the few real unions (a flag or a list of sites, a name or
`anyOf`, money as a number or a string) keep their value as written through
`x-kubernetes-preserve-unknown-fields` (their shape is checked by the admission webhook with
the models themselves). `status` is typed from reconciler/model/status.py. Every node carries
the description of its model field, so `kubectl explain` says what it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from reconciler import generated
from reconciler.model.base import API_VERSION, Spec, described
from reconciler.model.kinds import KINDS
from reconciler.model.status import STATUS_MODELS, Observed

GROUP, VERSION = API_VERSION.split("/")
CRD_DIR = Path("charts/tenantry/crds")


# kind → (plural, short names). `svc` is not used for Service: it is the short name of the
# core Service, which kubectl always prefers, so `kubectl get svc` could never reach ours.
NAMES: dict[str, tuple[str, list[str]]] = {
    "Site": ("sites", ["site"]),
    "ServiceDefinition": ("servicedefinitions", ["sdef"]),
    "Occupier": ("occupiers", ["occ"]),
    "Contract": ("contracts", ["ctr"]),
    "Service": ("services", ["tsvc"]),
}

_PHASE = {"name": "Phase", "type": "string", "jsonPath": ".status.phase"}
_AGE = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
COLUMNS: dict[str, list[dict[str, str]]] = {
    "Site": [
        _PHASE,
        {"name": "VLANs", "type": "string", "jsonPath": ".status.pools.vlans"},
        {"name": "Public-IPs", "type": "string", "jsonPath": ".status.pools.publicIPs"},
        {"name": "Numbers", "type": "string", "jsonPath": ".status.pools.numbers"},
        _AGE,
    ],
    "ServiceDefinition": [
        {"name": "Category", "type": "string", "jsonPath": ".spec.category"},
        {"name": "RRP", "type": "string", "jsonPath": ".spec.rrp"},
        _PHASE,
        _AGE,
    ],
    "Occupier": [
        _PHASE,
        {"name": "Services", "type": "integer", "jsonPath": ".status.services"},
        {"name": "Ports", "type": "string", "jsonPath": ".status.ports"},
        {"name": "Numbers", "type": "string", "jsonPath": ".status.numbers"},
        {"name": "Public-IPs", "type": "string", "jsonPath": ".status.publicIPs"},
        _AGE,
    ],
    "Contract": [
        {"name": "Occupier", "type": "string", "jsonPath": ".spec.occupier"},
        {"name": "Site", "type": "string", "jsonPath": ".spec.site"},
        {"name": "Start", "type": "string", "jsonPath": ".spec.start"},
        {"name": "End", "type": "string", "jsonPath": ".spec.end"},
        _PHASE,
        _AGE,
    ],
    "Service": [
        {"name": "Occupier", "type": "string", "jsonPath": ".spec.occupier"},
        {"name": "Site", "type": "string", "jsonPath": ".spec.site"},
        {"name": "Definition", "type": "string", "jsonPath": ".spec.definition"},
        {"name": "Quantity", "type": "integer", "jsonPath": ".spec.quantity"},
        _PHASE,
        _AGE,
    ],
}

# Formats the apiserver knows; pydantic's own (ipv4network, decimal) are dropped.
_FORMATS = {"date", "date-time", "ipv4", "ipv6", "email", "uuid", "byte", "int32", "int64"}
_KEEP = {
    "type",
    "properties",
    "items",
    "required",
    "enum",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "description",
    "format",
    "nullable",
    "additionalProperties",
}


def plural(kind: str) -> str:
    return NAMES[kind][0]


def structural(node: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """One pydantic JSON Schema node → a structural OpenAPI v3 node."""
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return structural(merged, defs)
    if "allOf" in node and len(node["allOf"]) == 1:
        merged = {**node["allOf"][0], **{k: v for k, v in node.items() if k != "allOf"}}
        return structural(merged, defs)
    for union in ("anyOf", "oneOf"):
        if union in node:
            options = [o for o in node[union] if o.get("type") != "null"]
            nullable = len(options) < len(node[union])
            rest = {k: v for k, v in node.items() if k != union}
            if len(options) == 1:
                merged = structural({**options[0], **rest}, defs)
            else:
                merged = {"x-kubernetes-preserve-unknown-fields": True}
                if "description" in rest:
                    merged["description"] = rest["description"]
            if nullable:
                merged["nullable"] = True
            return merged
    out: dict[str, Any] = {}
    if "const" in node:
        out["enum"] = [node["const"]]
    for key, value in node.items():
        if key not in _KEEP:
            continue
        if key == "properties":
            out[key] = {name: structural(sub, defs) for name, sub in value.items()}
        elif key == "items":
            out[key] = structural(value, defs)
        elif key == "additionalProperties":
            if isinstance(value, dict) and "properties" not in node:
                out[key] = structural(value, defs)
        elif key == "format":
            if value in _FORMATS:
                out[key] = value
        else:
            out[key] = value
    if "prefixItems" in node and "items" not in out:
        out["items"] = {"x-kubernetes-preserve-unknown-fields": True}
    if "type" not in out and "x-kubernetes-preserve-unknown-fields" not in out:
        if "properties" in out:
            out["type"] = "object"
        elif "enum" in out:
            out["type"] = "string"
        else:
            out = {"x-kubernetes-preserve-unknown-fields": True}
    if (
        out.get("type") == "object"
        and not out.get("properties")
        and "additionalProperties" not in out
    ):
        out["x-kubernetes-preserve-unknown-fields"] = True
    return out


def open_api_schema(kind: str) -> dict[str, Any]:
    described(Spec)
    schema = KINDS[kind].model_json_schema(by_alias=True, mode="validation")
    defs = schema.get("$defs", {})
    spec = structural(schema["properties"]["spec"], defs)
    return {
        "type": "object",
        "description": schema.get("description", kind),
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string", "description": f"Always {API_VERSION}."},
            "kind": {"type": "string", "description": f"Always {kind}."},
            "metadata": {
                "type": "object",
                "description": "The object's name (a DNS-1123 label) and the server's metadata.",
            },
            "spec": spec,
            "status": status_schema(kind),
        },
    }


def status_schema(kind: str) -> dict[str, Any]:
    """The typed status. Fields it does not declare are kept, not pruned: Helm never upgrades
    CRDs, so a newer operator may write fields an older CRD does not know yet."""
    described(Observed)
    schema = STATUS_MODELS[kind].model_json_schema(by_alias=True, mode="serialization")
    out = structural(schema, schema.get("$defs", {}))
    conditions = out["properties"]["conditions"]
    conditions["x-kubernetes-list-type"] = "map"
    conditions["x-kubernetes-list-map-keys"] = ["type"]
    conditions["items"]["required"] = ["type", "status", "reason", "message", "lastTransitionTime"]
    out["x-kubernetes-preserve-unknown-fields"] = True
    return out


def crd_for(kind: str) -> dict[str, Any]:
    name, short = NAMES[kind]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{name}.{GROUP}",
            "labels": {"app.kubernetes.io/part-of": "tenantry"},
        },
        "spec": {
            "group": GROUP,
            "scope": "Cluster",
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": name,
                "singular": kind.lower(),
                "shortNames": short,
                "categories": ["tenantry"],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": COLUMNS[kind],
                    "schema": {"openAPIV3Schema": open_api_schema(kind)},
                }
            ],
        },
    }


def file_name(kind: str) -> str:
    return f"{plural(kind)}.{GROUP}.yaml"


HEADER = "# Generated by `tenantry crds` from reconciler/model; do not edit.\n"


def render_all() -> dict[str, str]:
    return {
        file_name(kind): HEADER + yaml.safe_dump(crd_for(kind), sort_keys=False, width=100)
        for kind in KINDS
    }


def write(directory: Path = CRD_DIR) -> list[Path]:
    return generated.write(directory, render_all())


def stale(directory: Path = CRD_DIR) -> list[str]:
    return generated.stale(directory, render_all())
