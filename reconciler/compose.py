"""PyYAML's composer, configured for the YAML 1.2 core schema as yaml-rs reads it: the
reference for positions (every node keeps its line and column) and for where a syntax error
is. Imported only when needed: most runs never compose a file."""

from __future__ import annotations

import re
from typing import Any

import yaml

from reconciler.findings import Path


class PositionLoader(yaml.SafeLoader):
    """PyYAML configured for the YAML 1.2 core schema (as yaml-rs), refusing duplicate keys."""

    yaml_implicit_resolvers = {}  # noqa: RUF012 - PyYAML's own class-level registry

    def compose_node(self, parent: Any, index: Any) -> Any:
        node = super().compose_node(parent, index)
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, Any] = {}
            for key, _value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        raise yaml.constructor.ConstructorError(
                            "while reading a mapping",
                            node.start_mark,
                            f"duplicate key {key.value!r} (first at line "
                            f"{seen[key.value].start_mark.line + 1})",
                            key.start_mark,
                        )
                    seen[key.value] = key
        return node


for _tag, _regexp, _first in [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (
        "tag:yaml.org,2002:int",
        r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$",
        list("-+0123456789"),
    ),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+.0123456789"),
    ),
]:
    PositionLoader.add_implicit_resolver(_tag, re.compile(_regexp), _first)


def _construct_int12(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    value = str(loader.construct_scalar(node))
    if value.startswith("0o"):
        return int(value[2:], 8)
    if value.startswith("0x"):
        return int(value[2:], 16)
    return int(value)


PositionLoader.add_constructor("tag:yaml.org,2002:int", _construct_int12)


def compose(text: str) -> list[Any]:
    """The composed documents of `text` (nodes with marks); [] if it does not compose."""
    try:
        return list(yaml.compose_all(text, Loader=PositionLoader))
    except yaml.YAMLError:
        return []


def where(node: Any, path: Path) -> tuple[int, int]:
    """1-based line and column of `path` below `node`, or of its closest parent."""
    for part in path:
        child = _child(node, part)
        if child is None:
            continue  # a union tag or a missing field: stay at the closest parent
        node = child
    return node.start_mark.line + 1, node.start_mark.column + 1


def syntax_error(text: str) -> tuple[int, int, str] | None:
    """(line, column, problem) where PyYAML stops on `text`, or None if it does not."""
    try:
        for _ in yaml.compose_all(text, Loader=PositionLoader):
            pass
    except RecursionError:
        return None  # PyYAML gives up on deep nesting
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if mark is not None:
            return mark.line + 1, mark.column + 1, exc.problem or exc.context or "invalid YAML"
    except yaml.YAMLError:
        return None
    return None


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if key.value == part:
                return value if not isinstance(value, yaml.ScalarNode) or value.value else key
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
    return None
