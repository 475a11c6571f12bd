"""Shared pieces of every desired-state document: the envelope and constrained types.

Constraints live in the types (patterns, ranges) so that pydantic-core checks them without
calling back into Python: validating tens of thousands of documents stays cheap.
The models are slotted classes, what frozen dataclasses with slots would be (`Slotted`),
validated by pydantic-core. Their core schemas are what pydantic makes of them
(`reconciler.model.twin`), compiled to Python (`core_schemas.py`) so that a command does not
import pydantic: a fifth of `tenantry validate`'s start-up. Annotations are objects, not
strings (no `from __future__ import annotations`): the types pydantic reads for the schemas.
"""

import os
import sys
import zlib
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from ipaddress import IPv4Address, IPv4Network
from operator import attrgetter
from types import MappingProxyType, ModuleType
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    ClassVar,
    Literal,
    Self,
    TypeVar,
    cast,
    dataclass_transform,
    get_origin,
)

from reconciler import API_VERSION as API_VERSION  # where the other modules import it
from reconciler.model.engine import (
    ArgsKwargs,
    PydanticCustomError,
    PydanticSerializationUnexpectedValue,
    SchemaSerializer,
    SchemaValidator,
)
from reconciler.model.engine import version as pydantic_core_version
from reconciler.model.marks import (
    AfterValidator,
    BeforeValidator,
    Field,
    Mark,
    Strict,
    StringConstraints,
)

if TYPE_CHECKING:
    import dataclasses

    from pydantic import BaseModel, GetCoreSchemaHandler
    from pydantic_core import core_schema
    from pydantic_core.core_schema import SerializationInfo


class Interned:
    """In `Annotated[str, ..., Interned]`: one string per distinct value, not one per
    document (names a repo repeats). pydantic-core calls `sys.intern` itself: an
    AfterValidator would have pydantic read the function's signature, which for a builtin
    means tokenizing its text at every use (12 ms of start-up), and a Python function
    around it costs a call per field validated."""

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: "GetCoreSchemaHandler"
    ) -> "core_schema.CoreSchema":
        from pydantic_core import core_schema

        return core_schema.no_info_after_validator_function(sys.intern, handler(source))


def as_written(value: object) -> object:
    """A whole number written with a point or an exponent (`30.0`, `1e3`) becomes the Decimal
    of its text, exponent kept (Decimal("30.0")), as pydantic makes it from Python data.
    From JSON text pydantic would make Decimal("30"), and the CLI's parse child sends
    documents as JSON (`reconciler.parse.as_sent`): a price must not depend on who parsed
    it (its digest, its display)."""
    if type(value) is float and value.is_integer():
        return Decimal(repr(value))
    return value


def _plain_money(value: Decimal) -> Decimal:
    """`1e3` would be shown (and billed) as 1E+3: money is written as plain digits."""
    if not value.is_finite() or int(value.as_tuple().exponent) > 0:
        raise ValueError("money is digits with an optional decimal point, such as 1000.00")
    return value


def _written_as_text(value: object) -> object:
    """An address is written as text: pydantic would take a number or a boolean for one
    (`cidr: true` as 0.0.0.1/32, `gateway: 3232235777` as 192.168.1.1)."""
    if isinstance(value, int):  # bool included
        raise ValueError("an address is written as text, such as 10.0.0.1 or 10.64.0.0/16")
    return value


_Ip = TypeVar("_Ip", IPv4Address, IPv4Network)


def ip_v4_address_validator(input_value: Any, /) -> IPv4Address:
    """pydantic's own (pydantic._internal._validators), which the core schemas name."""
    return _ip(IPv4Address, input_value, "ip_v4_address", "Input is not a valid IPv4 address")


def ip_v4_network_validator(input_value: Any, /) -> IPv4Network:
    """pydantic's own (pydantic._internal._validators), which the core schemas name."""
    return _ip(IPv4Network, input_value, "ip_v4_network", "Input is not a valid IPv4 network")


def _ip(kind: type[_Ip], value: Any, error: str, message: str) -> _Ip:
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except ValueError:
        raise PydanticCustomError(error, message) from None


def _ser_ip(kind: type[Any], ip: Any, info: "SerializationInfo") -> Any:
    """pydantic's `ser_ip` (GenerateSchema._ip_schema): the address itself in Python, text
    in JSON."""
    if not isinstance(ip, kind | str):
        raise PydanticSerializationUnexpectedValue(
            f"Expected `{kind}` but got `{type(ip)}` with value `'{ip}'` - serialized value may"
            " not be as expected."
        )
    return ip if info.mode == "python" else str(ip)


def ser_ip_v4_address(ip: Any, info: "SerializationInfo") -> Any:
    return _ser_ip(IPv4Address, ip, info)


def ser_ip_v4_network(ip: Any, info: "SerializationInfo") -> Any:
    return _ser_ip(IPv4Network, ip, info)


# IPv4 addresses and networks, written as text (as the JSON Schemas say).
Address = Annotated[IPv4Address, BeforeValidator(_written_as_text)]
Network = Annotated[IPv4Network, BeforeValidator(_written_as_text)]
# DNS-1123 label, as Kubernetes requires of metadata.name.
Name = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)]
# Free text shown to people and, for some fields, sent to devices as a description: one line,
# no control characters, no characters a CLI would interpret.
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f\x7f]*$", max_length=200)]
DeviceText = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9 ._:/@+()#,-]*$", max_length=80)]
# E.164: '+', country code, up to 15 digits. Whether the number is real for its country is
# checked against the site's number blocks (rules T2/T3), with `phonenumbers` on the blocks.
E164 = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]
# A device's own address: unicast (the group bit of the first octet clear), so neither the
# broadcast ff:ff:ff:ff:ff:ff nor a multicast address can be registered as a Wi-Fi device.
Mac = Annotated[
    str, StringConstraints(pattern=r"^[0-9A-Fa-f][02468aceACE]([:-][0-9A-Fa-f]{2}){5}$")
]
# Numbers and booleans are taken as YAML typed them: "2" is not 2 and "yes" is not true
# (YAML 1.2), exactly as the JSON Schemas say.
StrictInt = Annotated[int, Strict()]
Flag = Annotated[bool, Strict()]
VlanId = Annotated[int, Strict(), Field(ge=1, le=4094)]
# Money is written as digits with at most two decimals: "1e3" would be shown as 1E+3.
Money = Annotated[
    Decimal,
    Field(ge=0, max_digits=12, decimal_places=2),
    BeforeValidator(as_written),
    AfterValidator(_plain_money),
]
Count = Annotated[int, Strict(), Field(ge=0, le=100_000)]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
# A host name or address; never starting with "-", which ssh would read as an option.
Host = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9.:_][A-Za-z0-9.:_-]*$", max_length=253)
]
Day = date


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(Field,))
class Slotted(type):
    """Makes every subclass of Spec what a frozen dataclass with slots would be (its fields in
    `_names`, their defaults in `_defaults`, `dataclasses.fields` on first use), validated by
    pydantic-core as pydantic would validate it (its core schema: `schema_of`). A repo holds
    hundreds of thousands of these objects: a BaseModel instance carries a __dict__ and a set
    of the fields given (about 600 bytes before its values); a slotted one, 8 bytes per field.
    pydantic-core fills the slots itself, as fast as a model."""

    def __new__(
        cls, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any
    ) -> "Slotted":
        for field, value in namespace.items():
            if isinstance(value, Mark):  # pydantic would move it first in the schemas
                raise TypeError(f"{name}.{field}: write Annotated[type, Field(...)] = default")
        hints = namespace.get("__annotations__", {})
        caller = sys._getframe(1)
        if caller.f_locals is not caller.f_globals:
            # Defined in a function: its annotations may name the function's own classes,
            # which its pydantic twin (`twin`) would not find.
            hints = namespace["__annotations__"] = {
                field: eval(hint, caller.f_globals, caller.f_locals) if type(hint) is str else hint
                for field, hint in hints.items()
            }
        # The fields and slots a dataclass(slots=True) would make, made here: `dataclasses`
        # would build each class twice (once more with the slots), 1.1 ms of every start-up.
        # What frozen=True, eq and repr would add, Spec has once for every class.
        inherited: tuple[str, ...] = getattr(bases[0], "_names", ()) if bases else ()
        own = [field for field, hint in hints.items() if not _is_class_variable(hint)]
        defaults = {**getattr(bases[0], "_defaults", {})} if bases else {}
        defaults.update((field, namespace.pop(field)) for field in own if field in namespace)
        namespace["__slots__"] = tuple(field for field in own if field not in inherited)
        namespace["__written_doc__"] = namespace.get("__doc__")
        namespace["__dataclass_fields__"] = _DataclassFields()
        model: Any = super().__new__(cls, name, bases, namespace, **kwargs)
        model._names = (*inherited, *namespace["__slots__"])
        model._defaults = defaults
        model._values = staticmethod(_values_of(model._names))
        if bases:  # Spec itself has no fields to validate
            schema = schema_of(model)
            model.__pydantic_validator__ = SchemaValidator(schema, schema.get("config"))
            model.__pydantic_serializer__ = SchemaSerializer(schema, schema.get("config"))
            # A model nested in another is validated by its own validator, as pydantic-core
            # does for a pydantic dataclass ("prebuilt"): one per class, not one per use.
            model.__pydantic_complete__ = True
        return cast(Slotted, model)


class _DataclassFields:
    """A model's `__dataclass_fields__`, made when first read: `dataclasses.fields()` reads
    it, and pydantic-core serializes an object as a dataclass only if it has one (a default
    in a JSON Schema, `model_dump`). A validation never reads it."""

    def __get__(self, instance: object, owner: type[Any]) -> "dict[str, dataclasses.Field[Any]]":
        import dataclasses
        import inspect

        hints: dict[str, Any] = {}
        for declaring in reversed(owner.__mro__):
            hints.update(inspect.get_annotations(declaring))
        shadow = dataclasses.make_dataclass(
            owner.__name__,
            [
                (name, hints[name], dataclasses.field(default=owner._defaults[name]))
                if name in owner._defaults
                else (name, hints[name])
                for name in owner._names
            ],
            init=False,
            repr=False,
            eq=False,
            kw_only=True,
        )
        fields = {field.name: field for field in dataclasses.fields(shadow)}
        type.__setattr__(owner, "__dataclass_fields__", fields)  # made once per class
        return fields


def _is_class_variable(hint: Any) -> bool:
    """`ClassVar[...]`, as an object or as written in a module with postponed annotations."""
    if type(hint) is str:
        return hint.startswith(("ClassVar", "typing.ClassVar"))
    return hint is ClassVar or get_origin(hint) is ClassVar


def _values_of(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The tuple of an object's field values (what a dataclass compares and hashes)."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        value = attrgetter(names[0])
        return lambda made: (value(made),)
    return lambda made: ()


def schema_of(model: type[Any]) -> dict[str, Any]:
    """The model's core schema: compiled (`core_schemas.py`) while the files it was compiled
    from are unchanged, else made by pydantic there and then (`twin.model_schema`)."""
    compiled = _compiled()
    made = compiled.SCHEMAS.get(compiled_name(model)) if compiled is not None else None
    if made is not None:  # (base and kinds as far as they are defined)
        return cast(dict[str, Any], made(model, sys.modules[__name__], sys.modules.get(_KINDS)))
    from reconciler.model.twin import model_schema

    return model_schema(model)


def compiled_name(thing: type[Any] | Callable[..., Any]) -> str:
    """How core_schemas.py names a class or function of the models: `kinds.Site`."""
    return f"{thing.__module__.rsplit('.', 1)[1]}.{thing.__qualname__}"


_KINDS = "reconciler.model.kinds"
_MODEL_SOURCES = ("base.py", "engine.py", "kinds.py", "marks.py", "twin.py")
_checked: list[ModuleType | None] = []


def _compiled() -> ModuleType | None:
    """The compiled core schemas if they are those of the models as they are now (and not
    if the file is missing: pydantic makes the schemas then)."""
    if not _checked:
        try:
            from reconciler.model import core_schemas
        except ImportError:
            _checked.append(None)
        else:
            current = sources_digest() == core_schemas.SOURCES
            _checked.append(core_schemas if current else None)
    return _checked[0]


def sources_digest() -> str:
    """What the core schemas are made from: the models' files and the pydantic-core release
    (pydantic pins it; another release may make other schemas). A CRC, to tell an edit, not
    an attack: hashlib would load OpenSSL at every start-up."""
    check = zlib.crc32(pydantic_core_version.encode())
    folder = os.path.dirname(__file__)  # (pathlib is not imported: 1.5 ms of start-up)
    for name in _MODEL_SOURCES:
        try:
            with open(os.path.join(folder, name), "rb") as source:
                check = zlib.crc32(source.read(), check)
        except OSError:
            return ""
    return f"{check:08x}"


class Spec(metaclass=Slotted):
    """Base of every spec and nested object: camelCase in YAML, unknown fields refused.
    The few methods of pydantic's BaseModel that tenantry uses are here, over the
    dataclass's own validator and serializer."""

    if TYPE_CHECKING:  # set on each class by Slotted
        __pydantic_validator__: ClassVar[SchemaValidator]
        __pydantic_serializer__: ClassVar[SchemaSerializer]
        _names: ClassVar[tuple[str, ...]]  # the fields, in order
        _defaults: ClassVar[dict[str, Any]]  # their defaults
        _values: ClassVar[Callable[[Any], tuple[Any, ...]]]  # an object's field values

    # What dataclass(frozen=True) writes for each class, written once: equal when of the
    # same class with equal fields, hashed by the fields, shown with them, never assigned.
    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            values = type(self)._values
            return bool(values(self) == values(other))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(type(self)._values(self))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._names)
        return f"{self.__class__.__qualname__}({shown})"

    def __setattr__(self, name: str, value: Any) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __getstate__(self) -> list[Any]:
        """What a frozen slotted dataclass pickles: its field values, in order."""
        return list(type(self)._values(self))

    def __setstate__(self, state: list[Any]) -> None:
        for name, value in zip(self._names, state, strict=True):
            object.__setattr__(self, name, value)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Validated as `model_validate` validates (what a pydantic dataclass does)."""
        type(self).__pydantic_validator__.validate_python(
            ArgsKwargs(args, kwargs), self_instance=self
        )

    @classmethod
    def model_validate(cls, data: Any) -> Self:
        found: Self = cls.__pydantic_validator__.validate_python(data)
        return found

    @classmethod
    def model_json_schema(
        cls, by_alias: bool = True, mode: Literal["validation", "serialization"] = "validation"
    ) -> dict[str, Any]:
        from reconciler.model.twin import json_schema

        return json_schema(cls, by_alias, mode)

    def model_dump(self, **options: Any) -> dict[str, Any]:
        dumped: dict[str, Any] = self.__pydantic_serializer__.to_python(self, **options)
        return dumped

    def model_dump_json(self, **options: Any) -> str:
        return self.__pydantic_serializer__.to_json(self, **options).decode()

    def model_copy(self, update: dict[str, Any] | None = None) -> Self:
        """A copy with `update`'s fields replaced, unvalidated (as BaseModel's)."""
        import copy

        copied = copy.copy(self)
        for name, value in (update or {}).items():
            object.__setattr__(copied, name, value)
        return copied


class Metadata(Spec):
    """The document's identity, as in Kubernetes."""

    name: Name
    """The document's name (a DNS-1123 label), unique per kind; other documents refer to it."""
    labels: dict[str, str] | None = None
    """Kubernetes labels; kept, not used by the rules."""
    annotations: dict[str, str] | None = None
    """Kubernetes annotations; ignored by the rules."""
    # Fields that Kubernetes adds when a document is read back with kubectl; ignored.
    namespace: str | None = None
    """Added by Kubernetes on read-back; ignored (the kinds are cluster-scoped)."""
    uid: str | None = None
    """Added by Kubernetes on read-back; ignored."""
    resource_version: str | None = None
    """Added by Kubernetes on read-back; ignored."""
    generation: int | None = None
    """Added by Kubernetes on read-back; ignored."""
    creation_timestamp: str | None = None
    """Added by Kubernetes on read-back; ignored."""
    finalizers: tuple[str, ...] = ()
    """Added by Kubernetes on read-back; ignored."""
    managed_fields: tuple[Any, ...] | None = None
    """Added by Kubernetes on read-back; ignored."""


class Document(Spec):
    """The Kubernetes-shaped envelope shared by every kind."""

    KIND: ClassVar[str] = ""

    api_version: Annotated[str, Interned]  # one string, not one per document
    """Always tenantry.dev/v1alpha1."""
    kind: str
    """Which kind of document this is: Site, ServiceDefinition, Occupier, Contract or Service."""
    metadata: Metadata
    """The document's name (and, in a cluster, the server's bookkeeping)."""
    status: dict[str, Any] | None = None
    """Written by the operator in a cluster; ignored in a repository."""

    @property
    def name(self) -> str:
        return self.metadata.name


def described(root: "type[BaseModel] | type[Spec]") -> None:
    """Give every field of `root` and of its subclasses the docstring under it as its
    description, and rebuild their schemas, exactly as pydantic's `use_attribute_docstrings`
    would have at import (the generated JSON Schemas and CRDs are checked in, so any
    difference shows). Only `tenantry schemas` and `tenantry crds` need it; each model is
    done once. A Spec's descriptions go to its pydantic twin, which makes its JSON Schema."""
    from pydantic import BaseModel
    from pydantic._internal._docs_extraction import extract_docstrings_from_cls
    from pydantic.dataclasses import rebuild_dataclass

    from reconciler.model.twin import twin

    models = [m for m in subclasses(root) if m is not Spec and "__described__" not in m.__dict__]
    docs = {model: extract_docstrings_from_cls(model, use_inspect=True) for model in models}
    made = {model: model if issubclass(model, BaseModel) else twin(model) for model in models}
    for model in models:
        for name, info in made[model].__pydantic_fields__.items():
            owner = _declaring(model, name)
            text = docs.get(owner, {}).get(name) if owner is not None else None
            if info.description is None and text is not None:
                info.description = text
                _keep_description(made[model], name, text)
    for _ in range(2):  # the second pass: every nested model's schema is final by then
        for model in models:
            if issubclass(model, BaseModel):
                model.model_rebuild(force=True)
            else:
                rebuild_dataclass(cast(Any, made[model]), force=True)
    for model in models:
        model.__described__ = True


def _keep_description(model: type[Any], name: str, text: str) -> None:
    """A dataclass's rebuild collects its fields again from `dataclasses.fields`: the
    description goes there too."""
    field = getattr(model, "__dataclass_fields__", {}).get(name)
    if field is not None:
        field.metadata = MappingProxyType({**field.metadata, "description": text})


def subclasses(root: type[Any]) -> list[type[Any]]:
    """`root` and every subclass, parents before children. (Not the class a slotted
    dataclass was made from: it lingers among the subclasses until collected.)"""
    found, queue = [root], [root]
    while queue:
        for sub in queue.pop(0).__subclasses__():
            made = "__slots__" in sub.__dict__ or "__pydantic_fields__" in sub.__dict__
            if sub not in found and made:
                found.append(sub)
                queue.append(sub)
    return found


def _declaring(model: type[Any], name: str) -> type[Any] | None:
    """The class whose own annotations declare field `name` (where its docstring is)."""
    import inspect

    from pydantic import BaseModel

    for cls in model.__mro__:
        if name in inspect.get_annotations(cls):
            return cls if issubclass(cls, BaseModel | Spec) else None
    return None
