"""Shared pieces of every desired-state document: the envelope and constrained types.

Constraints live in the types (patterns, ranges) so that pydantic-core checks them without
calling back into Python: validating tens of thousands of documents stays cheap.
"""

from __future__ import annotations

import inspect
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, StringConstraints
from pydantic.alias_generators import to_camel

API_VERSION = "tenantry.dev/v1alpha1"


def _plain_money(value: Decimal) -> Decimal:
    """`1e3` would be shown (and billed) as 1E+3: money is written as plain digits."""
    if not value.is_finite() or int(value.as_tuple().exponent) > 0:
        raise ValueError("money is digits with an optional decimal point, such as 1000.00")
    return value


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
    Decimal, Field(ge=0, max_digits=12, decimal_places=2), AfterValidator(_plain_money)
]
Count = Annotated[int, Strict(), Field(ge=0, le=100_000)]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
# A host name or address; never starting with "-", which ssh would read as an option.
Host = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9.:_][A-Za-z0-9.:_-]*$", max_length=253)
]
Day = date


class Spec(BaseModel):
    """Base of every spec and nested object: camelCase in YAML, unknown fields refused."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        # YAML uses the camelCase names only, as the JSON Schemas say.
        validate_by_alias=True,
        validate_by_name=False,
        str_strip_whitespace=False,
        # The docstring under a field is its description (JSON Schema, CRD, kubectl explain),
        # read by `described` when those are generated, not here: reading it means
        # tokenizing the models' source, a seventh of every command's start-up.
    )


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

    api_version: str
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


def described(root: type[BaseModel]) -> None:
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
    for _ in range(2):  # the second pass: every nested model's schema is final by then
        for model in models:
            model.model_rebuild(force=True)
    for model in models:
        model.__described__ = True  # type: ignore[attr-defined]


def _subclasses(root: type[BaseModel]) -> list[type[BaseModel]]:
    """`root` and every subclass, parents before children."""
    found, queue = [root], [root]
    while queue:
        for sub in queue.pop(0).__subclasses__():
            if sub not in found:
                found.append(sub)
                queue.append(sub)
    return found


def _declaring(model: type[BaseModel], name: str) -> type[BaseModel] | None:
    """The class whose own annotations declare field `name` (where its docstring is)."""
    for cls in model.__mro__:
        if name in inspect.get_annotations(cls):
            return cls if issubclass(cls, BaseModel) else None
    return None
