"""pydantic's view of the models: each Spec class's pydantic dataclass twin.

The models are slotted classes, made what frozen dataclasses would be by `base.Slotted`,
validated by pydantic-core.
What pydantic itself makes of them, their core schemas, JSON Schemas and descriptions, comes
from a twin of each class: a pydantic dataclass with the same name, fields, defaults and
docstring, the marks (`reconciler.model.marks`) turned into pydantic's, and nested models
turned into their twins. A twin's core schema, its classes turned back into the models and
pydantic's few private functions into our copies (`model_schema`), is the model's.

`python -m reconciler.model` writes those schemas as Python (`core_schemas.py`), so that
a command validates without importing pydantic; `--check` says whether the file is current.
"""

from __future__ import annotations

import inspect
import re
import sys
import types
import typing
from datetime import date
from decimal import Decimal
from enum import Enum
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, cast

import pydantic
from pydantic._internal import _validators
from pydantic.alias_generators import to_camel
from pydantic.dataclasses import dataclass
from pydantic.json_schema import model_json_schema

from reconciler.model import base
from reconciler.model.marks import Mark

# camelCase in YAML, unknown fields refused.
SPEC_CONFIG = pydantic.ConfigDict(
    extra="forbid",
    alias_generator=to_camel,
    # YAML uses the camelCase names only, as the JSON Schemas say.
    validate_by_alias=True,
    validate_by_name=False,
    str_strip_whitespace=False,
    # The docstring under a field is its description (JSON Schema, CRD, kubectl explain),
    # read by `base.described` when those are generated, not here: reading it means
    # tokenizing the models' source.
)

# The compiled core schemas: used only while the models' files are what they were made from
# (`base.sources_digest`).
COMPILED = Path(__file__).with_name("core_schemas.py")

_twins: dict[type[Any], type[Any]] = {}
_models: dict[type[Any], type[Any]] = {}  # twin → model


def twin(model: type[Any]) -> type[Any]:
    """The pydantic dataclass twin of a Spec class (made once)."""
    found = _twins.get(model)
    if found is not None:
        return found
    bases = tuple(twin(b) for b in model.__bases__ if b is not base.Spec) or (object,)
    namespace: dict[str, Any] = {
        "__module__": model.__module__,
        "__qualname__": model.__qualname__,
        "__doc__": model.__dict__.get("__written_doc__"),
        "__annotations__": {
            name: _pydantic_hint(hint) for name, hint in inspect.get_annotations(model).items()
        },
    }
    for name, default in model._defaults.items():
        if name in namespace["__annotations__"]:
            namespace[name] = default
    made = types.new_class(model.__name__, bases, exec_body=lambda ns: ns.update(namespace))
    pydantic_twin = dataclass(frozen=True, slots=True, kw_only=True, config=SPEC_CONFIG)(made)
    _twins[model] = pydantic_twin
    _models[pydantic_twin] = model
    return cast(type[Any], pydantic_twin)


def _pydantic_hint(hint: Any) -> Any:
    """An annotation as pydantic is to read it: marks as pydantic's, models as twins."""
    if isinstance(hint, type) and issubclass(hint, base.Spec):
        return twin(hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Annotated:
        marks = (_pydantic_mark(mark) for mark in hint.__metadata__)
        return Annotated[(_pydantic_hint(args[0]), *marks)]
    if origin in (Literal, ClassVar) or not args:
        return hint
    translated = tuple(_pydantic_hint(arg) for arg in args)
    if origin in (types.UnionType, typing.Union):
        return typing.Union[translated]  # noqa: UP007 (built from a tuple)
    return origin[translated]


def _pydantic_mark(mark: object) -> object:
    if isinstance(mark, Mark):
        return getattr(pydantic, type(mark).__name__)(*mark.args, **mark.kwargs)
    return mark


def json_schema(model: type[Any], by_alias: bool, mode: str) -> dict[str, Any]:
    return model_json_schema(twin(model), by_alias=by_alias, mode=mode)  # type: ignore[arg-type]


def model_schema(model: type[Any]) -> dict[str, Any]:
    """The model's core schema: its twin's, made of the models and of our functions."""
    return cast(dict[str, Any], _runtime(twin(model).__pydantic_core_schema__))


# pydantic's private validators in the schemas of addresses, and the copies the models use.
_OURS = {
    _validators.ip_v4_address_validator: base.ip_v4_address_validator,
    _validators.ip_v4_network_validator: base.ip_v4_network_validator,
}
_SER_IP = {IPv4Address: base.ser_ip_v4_address, IPv4Network: base.ser_ip_v4_network}
_REF = re.compile(r":\d+$")  # pydantic's refs end in the class's id()


def _runtime(node: Any) -> Any:
    """A twin's core schema made of the models: twins become the models, pydantic's private
    functions our copies, and a ref loses the id() that would change at every run. The
    `metadata` (for JSON Schemas) goes; pydantic-core does not read it."""
    if isinstance(node, dict):
        return {
            key: _REF.sub("", value) if key in ("ref", "schema_ref") else _runtime(value)
            for key, value in node.items()
            if key != "metadata"
        }
    if isinstance(node, list):
        return [_runtime(item) for item in node]
    if isinstance(node, type):
        return _models.get(node, node)
    if callable(node) and getattr(node, "__module__", "").startswith("pydantic"):
        if node in _OURS:
            return _OURS[node]
        if node.__qualname__.endswith("_ip_schema.<locals>.ser_ip"):
            return _SER_IP[node.__closure__[0].cell_contents]
        raise TypeError(f"a function of pydantic's in a core schema: {node!r}; copy it to base")
    return node


# ------------------------------------------------------------------ the compiled core schemas


def specs() -> list[type[Any]]:
    """Every Spec class of the package, in the order they are defined."""
    import reconciler.model.kinds  # noqa: F401 (defines them)

    return [m for m in base.subclasses(base.Spec)[1:] if m.__module__ in _MODULES]


_MODULES = ("reconciler.model.base", "reconciler.model.kinds")  # what core_schemas.py names


def render() -> str:
    """core_schemas.py: one function per model building its core schema."""
    functions, table = [], []
    used: set[str] = set()
    for model in specs():
        name = base.compiled_name(model)
        function = "_" + name.replace(".", "_")
        table.append(f"    {name!r}: {function},")
        body = _Writer(model, used).source(model_schema(model), 8)
        functions += [
            "",
            "",
            f"def {function}(cls: Any, base: Any, kinds: Any) -> Any:",
            f"    return {body}",
        ]
    imports = [line for name, line in _IMPORTS.items() if name in used]
    head = [
        '"""Generated by `python -m reconciler.model` from the models\' pydantic twins',
        "(`reconciler.model.twin`): the core schema of each model, so that a command validates",
        "without importing pydantic. Used only while SOURCES is the digest of the files the models",
        'are made from (`reconciler.model.base.sources_digest`). Do not edit."""',
        "",
        *imports,
        "from typing import Any",
        "",
        f"SOURCES = {base.sources_digest()!r}",
    ]
    return "\n".join([*head, *functions, "", "", "SCHEMAS = {", *table, "}", ""])


_IMPORTS = {
    "sys": "import sys",
    "date": "from datetime import date",
    "Decimal": "from decimal import Decimal",
    "IPv4Address": "from ipaddress import IPv4Address",
    "IPv4Network": "from ipaddress import IPv4Network",
}
_WIDTH = 100


class _Writer:
    """Python for one model's core schema, a node per line where a line would be too long."""

    def __init__(self, model: type[Any], used: set[str]) -> None:
        self.model = model
        self.used = used

    def source(self, node: Any, indent: int, owner: str = "", field: str = "") -> str:
        """`owner`/`field`: the dataclass and field a `default` is of; a default that is a
        model is written as that field's own default object."""
        if isinstance(node, dict):
            if node.get("type") == "dataclass":
                owner = self.source(node["cls"], indent)
            if node.get("type") == "dataclass-field":
                field = node["name"]
            items = [
                f"{key!r}: "
                + (
                    f"{owner}._defaults[{field!r}]"
                    if key == "default" and isinstance(value, base.Spec)
                    else self.source(value, indent + 4, owner, field)
                )
                for key, value in node.items()
            ]
            return self._joined("{", items, "}", indent)
        if isinstance(node, list | tuple):
            items = [self.source(item, indent + 4, owner, field) for item in node]
            if isinstance(node, list):
                return self._joined("[", items, "]", indent)
            return self._joined("(", items, ",)" if len(items) == 1 else ")", indent)
        return self._atom(node)

    def _joined(self, opening: str, items: list[str], closing: str, indent: int) -> str:
        line = opening + ", ".join(items) + closing
        if len(line) + indent <= _WIDTH and "\n" not in line:
            return line
        inner = " " * indent
        lines = "".join(f"\n{inner}{item}," for item in items)
        return f"{opening}{lines}\n{' ' * (indent - 4)}{closing.lstrip(',')}"

    def _atom(self, node: Any) -> str:
        if node is self.model:
            return "cls"
        if isinstance(node, Enum):
            return f"{self._atom(type(node))}.{node.name}"
        if node is sys.intern:
            self.used.add("sys")
            return "sys.intern"
        if isinstance(node, type | types.FunctionType):
            return self._named(node)
        if isinstance(node, Decimal | IPv4Address | IPv4Network):
            self.used.add(type(node).__name__)
            return f"{type(node).__name__}({str(node)!r})"
        if isinstance(node, date):
            self.used.add("date")
            return f"date({node.year}, {node.month}, {node.day})"
        if node is None or isinstance(node, bool | int | float | str):
            return repr(node)
        raise TypeError(f"cannot write {node!r} in a core schema")

    def _named(self, thing: type[Any] | types.FunctionType) -> str:
        if thing.__module__ in _MODULES:
            return base.compiled_name(thing)
        if thing in (IPv4Address, IPv4Network, Decimal):
            self.used.add(thing.__name__)
            return thing.__name__
        raise TypeError(f"cannot name {thing!r} in core_schemas.py")


def stale() -> bool:
    return not COMPILED.exists() or COMPILED.read_text(encoding="utf-8") != render()


def main(argv: list[str]) -> int:
    """`python -m reconciler.model [--check]`."""
    if argv not in ([], ["--check"]):
        print("usage: python -m reconciler.model [--check]", file=sys.stderr)
        return 2
    if not argv:
        COMPILED.write_text(render(), encoding="utf-8")
        print(f"wrote {COMPILED}")
    elif stale():
        print(f"{COMPILED} is not current: run `python -m reconciler.model`", file=sys.stderr)
        return 1
    return 0
