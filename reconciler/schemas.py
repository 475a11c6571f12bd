"""JSON Schemas generated from the models: one file per kind, for editors and for CI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reconciler import generated
from reconciler.model.base import API_VERSION, Spec, described
from reconciler.model.kinds import KINDS

SCHEMA_BASE = "https://tenantry.dev/schemas"


def schema_for(kind: str) -> dict[str, Any]:
    described(Spec)
    model = KINDS[kind]
    schema = model.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"{SCHEMA_BASE}/{file_name(kind)}"
    schema["title"] = f"tenantry {kind} ({API_VERSION})"
    props = schema["properties"]
    props["apiVersion"] = {"const": API_VERSION, "title": "Apiversion", "type": "string"}
    props["kind"] = {"const": kind, "title": "Kind", "type": "string"}
    return schema


def file_name(kind: str) -> str:
    return f"{kind.lower()}.schema.json"


def render_all() -> dict[str, str]:
    return {
        file_name(kind): json.dumps(schema_for(kind), indent=2, sort_keys=True) + "\n"
        for kind in KINDS
    }


def write(directory: Path) -> list[Path]:
    return generated.write(directory, render_all())


def stale(directory: Path) -> list[str]:
    return generated.stale(directory, render_all())
