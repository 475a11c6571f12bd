"""Shared pieces of every desired-state document: the envelope and constrained types.

Constraints live in the types (patterns, ranges) so that pydantic-core checks them without
calling back into Python: validating tens of thousands of documents stays cheap.
Annotations are objects, not strings (no `from __future__ import annotations`): pydantic
would evaluate each string at every start-up.
"""

import copy
import inspect
import sys
from datetime import date
from decimal import Decimal
from ipaddress import IPv4Address, IPv4Network
from types import MappingProxyType
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    ClassVar,
    Literal,
    Self,
    cast,
    dataclass_transform,
)

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    Strict,
    StringConstraints,
)
from pydantic.alias_generators import to_camel
from pydantic.dataclasses import dataclass, rebuild_dataclass
from pydantic.fields import FieldInfo
from pydantic.json_schema import model_json_schema
from pydantic_core import SchemaSerializer, SchemaValidator, core_schema

from reconciler import API_VERSION as API_VERSION  # where the other modules import it


class Interned:
    """In `Annotated[str, ..., Interned]`: one string per distinct value, not one per
    document (names a repo repeats). pydantic-core calls `sys.intern` itself: an
    AfterValidator would have pydantic read the function's signature, which for a builtin
    means tokenizing its text at every use (12 ms of start-up), and a Python function
    around it costs a call per field validated."""

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
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


# camelCase in YAML, unknown fields refused.
SPEC_CONFIG = ConfigDict(
    extra="forbid",
    alias_generator=to_camel,
    # YAML uses the camelCase names only, as the JSON Schemas say.
    validate_by_alias=True,
    validate_by_name=False,
    str_strip_whitespace=False,
    # The docstring under a field is its description (JSON Schema, CRD, kubectl explain),
    # read by `described` when those are generated, not here: reading it means
    # tokenizing the models' source, a seventh of every command's start-up.
)


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(Field,))
class Slotted(type):
    """Makes every subclass of Spec a frozen pydantic dataclass with slots. A repo holds
    hundreds of thousands of these objects: a BaseModel instance carries a __dict__ and a
    set of the fields given (about 600 bytes before its values); a slotted one, 8 bytes per
    field. pydantic-core fills the slots itself, as fast as a model."""

    def __new__(
        cls, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any
    ) -> "Slotted":
        made = super().__new__(cls, name, bases, namespace, **kwargs)
        if "__slots__" in namespace:  # the copy `dataclasses` makes with the slots
            return made
        for field, value in namespace.items():
            if isinstance(value, FieldInfo):  # pydantic would move it first in the schemas
                raise TypeError(f"{name}.{field}: write Annotated[type, Field(...)] = default")
        caller = sys._getframe(1)
        if caller.f_locals is not caller.f_globals:
            # Defined in a function: its annotations may name the function's own classes,
            # which a dataclass (unlike a model) would not find when it is rebuilt.
            made.__annotations__ = {
                field: eval(hint, caller.f_globals, caller.f_locals) if type(hint) is str else hint
                for field, hint in made.__annotations__.items()
            }
        slotted = dataclass(frozen=True, slots=True, kw_only=True, config=SPEC_CONFIG)
        return cast(Slotted, slotted(cast(type[Any], made)))


class Spec(metaclass=Slotted):
    """Base of every spec and nested object: camelCase in YAML, unknown fields refused.
    The few methods of pydantic's BaseModel that tenantry uses are here, over the
    dataclass's own validator and serializer."""

    if TYPE_CHECKING:  # set by pydantic on each class
        __pydantic_validator__: ClassVar[SchemaValidator]
        __pydantic_serializer__: ClassVar[SchemaSerializer]

    @classmethod
    def model_validate(cls, data: Any) -> Self:
        found: Self = cls.__pydantic_validator__.validate_python(data)
        return found

    @classmethod
    def model_json_schema(
        cls, by_alias: bool = True, mode: Literal["validation", "serialization"] = "validation"
    ) -> dict[str, Any]:
        return model_json_schema(cls, by_alias=by_alias, mode=mode)  # type: ignore[arg-type]

    def model_dump(self, **options: Any) -> dict[str, Any]:
        dumped: dict[str, Any] = self.__pydantic_serializer__.to_python(self, **options)
        return dumped

    def model_dump_json(self, **options: Any) -> str:
        return self.__pydantic_serializer__.to_json(self, **options).decode()

    def model_copy(self, update: dict[str, Any] | None = None) -> Self:
        """A copy with `update`'s fields replaced, unvalidated (as BaseModel's)."""
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


def described(root: type[BaseModel] | type[Spec]) -> None:
    """Give every field of `root` and of its subclasses the docstring under it as its
    description, and rebuild their schemas, exactly as pydantic's `use_attribute_docstrings`
    would have at import (the generated JSON Schemas and CRDs are checked in, so any
    difference shows). Only `tenantry schemas` and `tenantry crds` need it; each model is
    done once."""
    from pydantic._internal._docs_extraction import extract_docstrings_from_cls

    models = [m for m in _subclasses(root) if not m.__dict__.get("__described__")]
    docs = {model: extract_docstrings_from_cls(model, use_inspect=True) for model in models}
    for model in models:
        for name, info in model.__pydantic_fields__.items():
            owner = _declaring(model, name)
            text = docs.get(owner, {}).get(name) if owner is not None else None
            if info.description is None and text is not None:
                info.description = text
                _keep_description(model, name, text)
    for _ in range(2):  # the second pass: every nested model's schema is final by then
        for model in models:
            if issubclass(model, BaseModel):
                model.model_rebuild(force=True)
            else:
                rebuild_dataclass(model, force=True)
    for model in models:
        model.__described__ = True


def _keep_description(model: type[Any], name: str, text: str) -> None:
    """A dataclass's rebuild collects its fields again from `dataclasses.fields`: the
    description goes there too."""
    field = getattr(model, "__dataclass_fields__", {}).get(name)
    if field is not None:
        field.metadata = MappingProxyType({**field.metadata, "description": text})


def _subclasses(root: type[Any]) -> list[type[Any]]:
    """`root` and every subclass, parents before children. (Not the class a slotted
    dataclass was made from: it lingers among the subclasses until collected.)"""
    found, queue = [root], [root]
    while queue:
        for sub in queue.pop(0).__subclasses__():
            if sub not in found and "__pydantic_fields__" in sub.__dict__:
                found.append(sub)
                queue.append(sub)
    return found


def _declaring(model: type[Any], name: str) -> type[Any] | None:
    """The class whose own annotations declare field `name` (where its docstring is)."""
    for cls in model.__mro__:
        if name in inspect.get_annotations(cls):
            return cls if issubclass(cls, BaseModel | Spec) else None
    return None
