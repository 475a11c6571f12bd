"""The five kinds of desired-state document (DESIGN §1)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Literal

from pydantic import Field

from reconciler.model.base import (
    E164,
    Count,
    DeviceText,
    Document,
    Email,
    Flag,
    Host,
    Mac,
    Money,
    Name,
    Spec,
    StrictInt,
    Text,
    VlanId,
)

# ------------------------------------------------------------------------------------ Site

# A driver module name: render, cisco_iosxe, openvswitch, frr, kamailio, freeradius.
Platform = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]


class VlanPool(Spec):
    range: Annotated[str, Field(pattern=r"^[0-9]{1,4}-[0-9]{1,4}$")]
    reserved: tuple[VlanId, ...] = ()
    parking: VlanId
    voice: VlanId | None = None  # shared voice VLAN for handsets on ports with the voice role

    @property
    def bounds(self) -> tuple[int, int]:
        first, last = self.range.split("-")
        return int(first), int(last)


class PrivateSupernet(Spec):
    cidr: IPv4Network
    prefix_length: Annotated[StrictInt, Field(ge=8, le=30)]


class PublicPool(Spec):
    name: Name
    cidr: IPv4Network
    gateway: IPv4Address
    exclude: tuple[IPv4Address, ...] = ()


class NumberBlock(Spec):
    first: E164
    last: E164


class Router(Spec):
    name: Name
    platform: Platform
    host: Host
    port: Annotated[StrictInt, Field(ge=1, le=65535)] | None = None


class SwitchPort(Spec):
    interface: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9/._-]*$", max_length=64)]
    floor_port: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]+$", max_length=32)]


class Switch(Spec):
    name: Name
    platform: Platform
    host: Host
    port: Annotated[StrictInt, Field(ge=1, le=65535)] | None = None
    ports: tuple[SwitchPort, ...] = ()


class Space(Spec):
    name: Name
    floor_ports: tuple[Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]+$", max_length=32)], ...] = ()


class Telephony(Spec):
    name: Name
    platform: Platform
    host: Host
    port: Annotated[StrictInt, Field(ge=1, le=65535)] | None = None


class SiteSpec(Spec):
    display_name: Text
    admins: tuple[Annotated[str, Field(min_length=1, max_length=100)], ...] = Field(min_length=1)
    cooling_off_days: Annotated[StrictInt, Field(ge=0, le=3650)] = 90
    vlans: VlanPool
    private_supernet: PrivateSupernet
    public_pools: tuple[PublicPool, ...] = ()
    number_blocks: tuple[NumberBlock, ...] = ()
    router: Router | None = None
    telephony: Telephony | None = None
    wifi: Telephony | None = None
    switches: tuple[Switch, ...] = ()
    spaces: tuple[Space, ...] = ()


class Site(Document):
    KIND = "Site"
    kind: Literal["Site"]
    spec: SiteSpec


# ------------------------------------------------------------------------ ServiceDefinition


class Category(StrEnum):
    INTERNET = "internet"
    VOICE = "voice"
    PUBLIC_IP = "public-ip"
    WIFI = "wifi"
    BANDWIDTH = "bandwidth"
    CALL_FEATURE = "call-feature"
    OTHER = "other"


class PortRole(StrEnum):
    INTERNET = "internet"
    PUBLIC_IP = "public-ip"
    VOICE = "voice"
    WIFI_AP = "wifi-ap"
    AV = "av"
    OTHER = "other"


class QuantityRule(Spec):
    """EngageIP's Quantity component: min, max (0 = no maximum), default, included units."""

    min: Count = 0
    max: Count = 0
    default: Count | None = None
    included: Count = 0


class AnyOf(Spec):
    any_of: tuple[Name, ...] = Field(min_length=1)


Requirement = Name | AnyOf


class SwitchPorts(Spec):
    count: Annotated[StrictInt, Field(ge=1, le=48)]
    role: PortRole


class Infrastructure(Spec):
    """Provisioned infrastructure per unit of the service (seed 000: the five device types)."""

    switch_ports: SwitchPorts | None = None
    phone_numbers: Count = 0
    public_ips: Annotated[Count, Field(alias="publicIPs")] = 0
    public_prefix_length: Annotated[StrictInt, Field(ge=29, le=30)] | None = None
    wifi_devices: Count = 0
    wifi_users: Count = 0


class ServiceDefinitionSpec(Spec):
    category: Category
    description: Text
    cost: Money
    rrp: Money
    quantity: QuantityRule = QuantityRule()
    requires: tuple[Requirement, ...] = ()
    excludes: tuple[Name, ...] = ()
    max_per_occupier: Annotated[StrictInt, Field(ge=1)] | None = None
    infrastructure: Infrastructure = Infrastructure()
    inactive: Flag = False
    charge_while_stopped: Flag = Field(
        False,
        description="Whether a line of this definition is still charged while it or its "
        "occupier is Stopped (suspended); default: not charged.",
    )


class ServiceDefinition(Document):
    KIND = "ServiceDefinition"
    kind: Literal["ServiceDefinition"]
    spec: ServiceDefinitionSpec


# --------------------------------------------------------------------------------- Occupier


class Handset(StrEnum):
    DIGITAL = "digital"  # logged out remotely by the reconciler
    ANALOG = "analog"  # must be logged out by hand (D2)
    SOFTPHONE = "softphone"


class User(Spec):
    name: Name
    email: Email
    wifi: Flag | tuple[Name, ...] = False  # true: at every site of the occupier; or a list of sites
    number: E164 | None = None


class WifiDevice(Spec):
    name: Name
    mac: Mac
    site: Name


class FloorPortActivation(Spec):
    site: Name
    floor_port: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]+$", max_length=32)]
    role: PortRole
    device: DeviceText = ""


class NumberActivation(Spec):
    site: Name
    number: E164
    handset: Handset = Handset.DIGITAL
    logged_in: Flag = False


class Activations(Spec):
    floor_ports: tuple[FloorPortActivation, ...] = ()
    numbers: tuple[NumberActivation, ...] = ()


class MainNumber(Spec):
    site: Name
    number: E164


class LineStatus(StrEnum):
    """Splynx's service status that tenantry acts on: Stopped is a temporary disable."""

    ACTIVE = "Active"
    STOPPED = "Stopped"


class Decommission(Spec):
    confirm: str
    irreversible: Flag
    at: date | None = None


class OccupierSpec(Spec):
    display_name: Annotated[str, Field(pattern=r"^[^\x00-\x1f\x7f]+$", max_length=200)]
    users: tuple[User, ...] = ()
    wifi_devices: tuple[WifiDevice, ...] = ()
    activations: Activations = Activations()
    main_numbers: tuple[MainNumber, ...] = ()
    decommission: Decommission | None = None
    status: LineStatus = Field(
        LineStatus.ACTIVE,
        description="Stopped suspends every service of the occupier (ports shut, Wi-Fi "
        "disabled, numbers unavailable, nothing released); remove it to resume.",
    )


class Occupier(Document):
    KIND = "Occupier"
    kind: Literal["Occupier"]
    spec: OccupierSpec


# --------------------------------------------------------------------------------- Contract


class AtEnd(StrEnum):
    KEEP = "keep"  # services continue after the contract ends (seed 000)
    DEPROVISION = "deprovision"


class ContractSpec(Spec):
    occupier: Name
    site: Name
    start: date
    end: date | None = None
    spaces: tuple[Name, ...] = ()
    at_end: AtEnd = AtEnd.KEEP


class Contract(Document):
    KIND = "Contract"
    kind: Literal["Contract"]
    spec: ContractSpec


# ---------------------------------------------------------------------------------- Service


class ScheduledChange(Spec):
    on: date
    quantity: Count | None = None
    definition: Name | None = None
    price: Money | None = None


class PayPeriod(StrEnum):
    """How often a line is invoiced, in advance (Splynx pay period)."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


class Discount(Spec):
    """Splynx discount: a percentage off the line between two dates (both included)."""

    percent: Annotated[Decimal, Field(gt=0, le=100, max_digits=5, decimal_places=2)] = Field(
        description="Percentage off the line's charge, 0 < percent <= 100."
    )
    start: date = Field(description="First day the discount applies.")
    end: date | None = Field(None, description="Last day the discount applies; open if absent.")


class ServiceSpec(Spec):
    occupier: Name
    site: Name
    contract: Name | None = None
    definition: Name
    quantity: Count | None = None
    price: Money | None = None
    start: date | None = None  # only to be refused when it differs from the contract (S2)
    replaces: Name | None = None
    changes: tuple[ScheduledChange, ...] = ()
    end: date | None = Field(
        None,
        description="Last day of the line: provisioning and billing stop after it (Splynx "
        "end date).",
    )
    discounts: tuple[Discount, ...] = Field(
        (), description="Percentages off the line's charge between dates."
    )
    pay_period: PayPeriod = Field(
        PayPeriod.MONTHLY,
        description="Invoiced in advance per calendar month, quarter or year; a change "
        "within a period is prorated.",
    )
    status: LineStatus = Field(
        LineStatus.ACTIVE,
        description="Stopped suspends the line: its ports shut, Wi-Fi disabled, numbers "
        "unavailable, nothing released; remove it to resume.",
    )


class Service(Document):
    KIND = "Service"
    kind: Literal["Service"]
    spec: ServiceSpec


KINDS: dict[str, type[Document]] = {
    cls.KIND: cls for cls in (Site, ServiceDefinition, Occupier, Contract, Service)
}

__all__ = [
    "KINDS",
    "Contract",
    "Decimal",
    "IPv4Address",
    "Occupier",
    "Service",
    "ServiceDefinition",
    "Site",
]
