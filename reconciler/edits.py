"""Small edits of desired-state files that keep their comments and layout (a text insert at
the right place, found with the position-aware loader)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import yaml

from reconciler.compose import PositionLoader
from reconciler.model.repo import Source


class EditError(Exception):
    pass


def request_decommission(source: Source, display_name: str, at: date | None) -> None:
    """Insert `decommission: {confirm, irreversible, at}` as the first key of the spec."""
    path = Path(source.file)
    text = path.read_text(encoding="utf-8")
    nodes = list(yaml.compose_all(text, Loader=PositionLoader))
    node = nodes[source.index] if source.index < len(nodes) else None
    spec = next((v for k, v in node.value if k.value == "spec"), None) if node else None
    if not isinstance(spec, yaml.MappingNode) or not spec.value:
        raise EditError("the occupier has no spec mapping to edit")
    if spec.flow_style:
        raise EditError("spec is written in flow style ({...}); add the request by hand")
    first_key = spec.value[0][0]
    indent = " " * first_key.start_mark.column
    lines = [
        f"{indent}decommission:",
        f"{indent}  confirm: {json.dumps(display_name, ensure_ascii=False)}",
        f"{indent}  irreversible: true",
    ]
    if at is not None:
        lines.append(f"{indent}  at: {at.isoformat()}")
    offset = first_key.start_mark.index - first_key.start_mark.column
    path.write_text(text[:offset] + "\n".join(lines) + "\n" + text[offset:], encoding="utf-8")
