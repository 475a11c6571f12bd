"""Shared pieces of every desired-state document: the envelope and constrained types.

Constraints live in the types (patterns, ranges) so that pydantic-core checks them without
calling back into Python: validating tens of thousands of documents stays cheap.
"""

from __future__ import annotations

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
    )


class Metadata(Spec):
    name: Name
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    # Fields that Kubernetes adds when a document is read back with kubectl; ignored.
    namespace: str | None = None
    uid: str | None = None
    resource_version: str | None = None
    generation: int | None = None
    creation_timestamp: str | None = None
    finalizers: tuple[str, ...] = ()
    managed_fields: tuple[Any, ...] | None = None


class Document(Spec):
    """The Kubernetes-shaped envelope shared by every kind."""

    KIND: ClassVar[str] = ""

    api_version: str
    kind: str
    metadata: Metadata
    status: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return self.metadata.name
