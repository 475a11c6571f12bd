"""The five kinds of desired-state document (DESIGN §1)."""

# Annotations are objects, not strings (no `from __future__ import annotations`): the types
# pydantic reads for the schemas (`reconciler.model.twin`).
from datetime import date
from decimal import Decimal
from enum import StrEnum
from ipaddress import IPv4Address
from typing import Annotated, Literal

from reconciler.model.base import (
    E164,
    Address,
    Count,
    DeviceText,
    Document,
    Email,
    Flag,
    Host,
    Interned,
    Mac,
    Money,
    Name,
    Network,
    Spec,
    StrictInt,
    Text,
    VlanId,
    as_written,
)
from reconciler.model.marks import BeforeValidator, Field

# A name that many documents repeat (sites, occupiers, definitions, spaces, people's first
# names): interned as it is validated, so that a repo holds one string per value, not one per
# mention (a third of a loaded repo's memory was such copies). metadata.name, unique per
# document, is not: the intern table would only grow.
Shared = Annotated[Name, Interned]
# A floor port (wall socket), named by the site and by every activation of it.
FloorPort = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]+$", max_length=32), Interned]

# ------------------------------------------------------------------------------------ Site

# A driver module name: render, cisco_iosxe, openvswitch, frr, kamailio, freeradius.
Platform = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]


class VlanPool(Spec):
    """The site's VLAN pool (N1)."""

    range: Annotated[str, Field(pattern=r"^[0-9]{1,4}-[0-9]{1,4}$")]
    """First-last VLAN ids the occupiers' VLANs are taken from, e.g. 100-399 (N1)."""
    reserved: tuple[VlanId, ...] = ()
    """VLAN ids inside the range that are never allocated (N1)."""
    parking: VlanId
    """VLAN a released switch port returns to, shut down (N3); outside the range."""
    voice: VlanId | None = None  # shared voice VLAN for handsets on ports with the voice role
    """Shared voice VLAN for handsets on ports with the voice role; outside the range."""

    @property
    def bounds(self) -> tuple[int, int]:
        first, last = self.range.split("-")
        return int(first), int(last)


class PrivateSupernet(Spec):
    """Where each occupier's private prefix comes from (N1)."""

    cidr: Network
    """The supernet, e.g. 10.64.0.0/16; one prefix per occupier is carved from it (N1)."""
    prefix_length: Annotated[StrictInt, Field(ge=8, le=30)]
    """Length of each occupier's prefix, longer than the supernet's (N1)."""


class PublicPool(Spec):
    """A block of public addresses for public-ip services (N2)."""

    name: Shared
    """The pool's name, unique at the site."""
    cidr: Network
    """The public block, e.g. 203.0.113.0/24 (N2)."""
    gateway: Address
    """The upstream gateway address inside the block; never handed out (N2)."""
    exclude: tuple[Address, ...] = ()
    """Addresses of the block that are never handed out (N2)."""


class NumberBlock(Spec):
    """A range of phone numbers the site may hand out (T2)."""

    first: E164
    """First number of the block, E.164 (+ and digits)."""
    last: E164
    """Last number of the block, E.164; not before `first` (T2)."""


class Router(Spec):
    """The site's router: gets each occupier's gateway and public routes (N2)."""

    name: Shared
    """Device name, used for credentials and in plans."""
    platform: Platform
    """Driver that configures it: render, frr, …."""
    host: Host
    """Address or host name the driver connects to."""
    port: Annotated[StrictInt, Field(ge=1, le=65535)] | None = None
    """TCP port of the management session; default: the platform's."""


class SwitchPort(Spec):
    """One switch port wired to a floor port (N3)."""

    interface: Annotated[
        str,
        Field(pattern=r"^[A-Za-z][A-Za-z0-9/._-]*$", max_length=64),
        Interned,
    ]
    """The switch's interface name, e.g. GigabitEthernet1/0/1."""
    floor_port: FloorPort
    """The floor port (wall socket) this interface serves (N3)."""


class Switch(Spec):
    """An access switch of the site (N3)."""

    name: Shared
    """Device name, used for credentials and in plans."""
    platform: Platform
    """Driver that configures it: render, cisco_iosxe, openvswitch, …."""
    host: Host
    """Address or host name the driver connects to."""
    port: Annotated[StrictInt, Field(ge=1, le=65535)] | None = None
    """TCP port of the management session; default: the platform's."""
    ports: tuple[SwitchPort, ...] = ()
    """The interfaces tenantry manages and the floor port behind each (N3)."""


class Space(Spec):
    """A suite, office or desk that contracts lease (N3)."""

    name: Shared
    """The space's name, unique at the site; contracts list it in `spaces`."""
    floor_ports: tuple[FloorPort, ...] = ()
    """Floor ports in the space: the ports its occupier may activate (N3)."""


class Telephony(Spec):
    """A telephony or Wi-Fi (RADIUS) server of the site (T1-T3)."""

    name: Shared
    """Device name, used for credentials and in plans."""
    platform: Platform
    """Driver that configures it: render, kamailio, freeradius, …."""
    host: Host
    """Address or host name the driver connects to."""
    port: Annotated[StrictInt, Field(ge=1, le=65535)] | None = None
    """Port of the management interface; default: the platform's."""


class SiteSpec(Spec):
    """A building: its pools, devices, spaces and admins."""

    display_name: Text
    """The building's name as people know it."""
    admins: Annotated[
        tuple[Annotated[str, Field(min_length=1, max_length=100)], ...], Field(min_length=1)
    ]
    """Users who may approve changes touching this site (P1) and decommissions (D2)."""
    cooling_off_days: Annotated[StrictInt, Field(ge=0, le=3650)] = 90
    """Days a released number waits before it can be reused (T2)."""
    vlans: VlanPool
    """VLAN pool of the occupiers (N1)."""
    private_supernet: PrivateSupernet
    """Private address space the occupiers' prefixes come from (N1)."""
    public_pools: tuple[PublicPool, ...] = ()
    """Public address pools for public-ip services (N2)."""
    number_blocks: tuple[NumberBlock, ...] = ()
    """Phone-number blocks for voice services (T1, T2)."""
    router: Router | None = None
    """The router that gets gateways and public routes (N2); none: not configured."""
    telephony: Telephony | None = None
    """The telephony server that gets active numbers (T1, T2)."""
    wifi: Telephony | None = None
    """The RADIUS server that gets Wi-Fi users and devices (T3)."""
    switches: tuple[Switch, ...] = ()
    """Access switches with the switch port behind each floor port (N3)."""
    spaces: tuple[Space, ...] = ()
    """Spaces that contracts lease, with their floor ports (N3)."""


class Site(Document):
    """A building with its pools, devices and spaces."""

    KIND = "Site"
    kind: Literal["Site"]
    """Always Site."""
    spec: SiteSpec
    """The site's pools, devices, spaces and admins."""


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
    """Fewest units a service line may have (S4)."""
    max: Count = 0
    """Most units a service line may have; 0: no maximum (S4)."""
    default: Count | None = None
    """Units when a service line states no quantity (S4); none: `min`, or 1."""
    included: Count = 0
    """Units included free, counted over an occupier's lines at a site (S3)."""


class AnyOf(Spec):
    """A requirement met by any one of several definitions (S5)."""

    any_of: Annotated[tuple[Shared, ...], Field(min_length=1)]
    """Definitions of which the occupier must have at least one at the site (S5)."""


Requirement = Name | AnyOf  # (plain: interning would rename the union's branch in findings)


class SwitchPorts(Spec):
    """Switch ports a unit of the service needs (S6)."""

    count: Annotated[StrictInt, Field(ge=1, le=48)]
    """Switch ports per unit of the service (S6)."""
    role: PortRole
    """The role of those ports, which decides the port's configuration (N3)."""


class Infrastructure(Spec):
    """Provisioned infrastructure per unit of the service (seed 000: the five device types)."""

    switch_ports: SwitchPorts | None = None
    """Switch ports per unit and their role (S6, N3)."""
    phone_numbers: Count = 0
    """Phone numbers per unit (S6, T1)."""
    public_ips: Annotated[Count, Field(alias="publicIPs")] = 0
    """Public addresses per unit (S6, N2)."""
    public_prefix_length: Annotated[StrictInt, Field(ge=29, le=30)] | None = None
    """Give a /30 or /29 block instead of single addresses (N2)."""
    wifi_devices: Count = 0
    """Wi-Fi devices (MAC addresses) per unit (S6, T3)."""
    wifi_users: Count = 0
    """Wi-Fi Secure user accounts per unit (S6, T3)."""


class ServiceDefinitionSpec(Spec):
    """A catalogue entry."""

    category: Category
    """internet, voice, public-ip, wifi, bandwidth, call-feature or other."""
    description: Text
    """What the service is, as shown to people."""
    cost: Money
    """Cost per unit per month; a price under it is a warning (S3)."""
    rrp: Money
    """Recommended price per unit per month; the default price (S3)."""
    quantity: QuantityRule = QuantityRule()
    """Minimum, maximum, default and included units (S3, S4)."""
    requires: tuple[Requirement, ...] = ()
    """Definitions the occupier must also have at the site (S5)."""
    excludes: tuple[Shared, ...] = ()
    """Definitions the occupier may not have at the same site (S5)."""
    max_per_occupier: Annotated[StrictInt, Field(ge=1)] | None = None
    """Most service lines of this definition per occupier and site (S5)."""
    infrastructure: Infrastructure = Infrastructure()
    """What each unit provisions: ports, numbers, addresses, Wi-Fi (S6)."""
    inactive: Flag = False
    """True: cannot be newly assigned; existing lines stay (S4)."""
    raise_case: Text | None = None
    """What a person must still send the provider in a case when the service is added, e.g.
    the IVR configuration or the conference bridge's number and users (seed 000); shown by
    `tenantry catalogue` and `plan`."""
    charge_while_stopped: Annotated[
        Flag,
        Field(
            description="Whether a line of this definition is still charged while it or its "
            "occupier is Stopped (suspended); default: not charged."
        ),
    ] = False


class ServiceDefinition(Document):
    """A catalogue entry: price, quantities, dependencies, infrastructure."""

    KIND = "ServiceDefinition"
    kind: Literal["ServiceDefinition"]
    """Always ServiceDefinition."""
    spec: ServiceDefinitionSpec
    """The catalogue entry."""


# --------------------------------------------------------------------------------- Occupier


class Handset(StrEnum):
    DIGITAL = "digital"  # logged out remotely by the reconciler
    ANALOG = "analog"  # must be logged out by hand (D2)
    SOFTPHONE = "softphone"


class User(Spec):
    """A person of the occupier."""

    name: Shared
    """The user's name, unique in the occupier (T3)."""
    email: Email
    """The user's e-mail address."""
    wifi: Flag | tuple[Shared, ...] = False  # true: at every site of the occupier; or sites
    """Wi-Fi Secure account: true at every site of the occupier, or a list of sites (T3)."""
    number: E164 | None = None
    """The phone number assigned to the user; must be activated (T2)."""


class WifiDevice(Spec):
    """A shared device allowed on Wi-Fi by its MAC address (T3)."""

    name: Shared
    """The device's name, unique in the occupier."""
    mac: Mac
    """MAC address, unique at the site (T3)."""
    site: Shared
    """The site where the device connects."""


class FloorPortActivation(Spec):
    """A floor port put in use (S7, N3)."""

    site: Shared
    """The site of the floor port."""
    floor_port: FloorPort
    """The floor port, in a space of the occupier's contract (N3)."""
    role: PortRole
    """What the port is for; a service must allocate a port of this role (S7)."""
    device: Annotated[DeviceText, Interned] = ""
    """What is plugged in; the switch port's description."""


class NumberActivation(Spec):
    """A phone number put in use (S7, T2)."""

    site: Shared
    """The site of the number."""
    number: E164
    """The number, E.164, from the site's blocks (T2)."""
    handset: Handset = Handset.DIGITAL
    """digital (logged out remotely), analog (by hand, D2) or softphone."""
    logged_in: Flag = False
    """Whether a handset is logged in; an analog one blocks decommission (D2)."""


class Activations(Spec):
    """What the occupier has put in use: counted as X of X/Y (S6, S7)."""

    floor_ports: tuple[FloorPortActivation, ...] = ()
    """Floor ports in use (S7, N3)."""
    numbers: tuple[NumberActivation, ...] = ()
    """Phone numbers in use (S7, T2)."""


class MainNumber(Spec):
    """The occupier's main number at a site (T1)."""

    site: Shared
    """The site of the number."""
    number: E164
    """An active number of the occupier there (T1)."""


class LineStatus(StrEnum):
    """Splynx's service status that tenantry acts on: Stopped is a temporary disable."""

    ACTIVE = "Active"
    STOPPED = "Stopped"


class Decommission(Spec):
    """A request to decommission the occupier (D1)."""

    confirm: str
    """The occupier's display name, exactly (D1)."""
    irreversible: Flag
    """Must be true: the occupier cannot be restored (D1)."""
    at: date | None = None
    """Date to decommission on (Decommission scheduled); none: at once (D1)."""


class OccupierSpec(Spec):
    """The tenant."""

    display_name: Annotated[str, Field(pattern=r"^[^\x00-\x1f\x7f]+$", max_length=200)]
    """The occupier's name as people know it; `decommission.confirm` repeats it."""
    users: tuple[User, ...] = ()
    """People with Wi-Fi accounts or numbers (T3)."""
    wifi_devices: tuple[WifiDevice, ...] = ()
    """Shared devices allowed on Wi-Fi (T3)."""
    activations: Activations = Activations()
    """Floor ports and numbers in use (S7)."""
    main_numbers: tuple[MainNumber, ...] = ()
    """Main number per site; default: the first number (T1)."""
    decommission: Decommission | None = None
    """Present: the occupier leaves every site (D1-D5)."""
    status: Annotated[
        LineStatus,
        Field(
            description="Stopped suspends every service of the occupier (ports shut, Wi-Fi "
            "disabled, numbers unavailable, nothing released); remove it to resume."
        ),
    ] = LineStatus.ACTIVE


class Occupier(Document):
    """The tenant: users, Wi-Fi devices, activations, decommission request."""

    KIND = "Occupier"
    kind: Literal["Occupier"]
    """Always Occupier."""
    spec: OccupierSpec
    """The tenant."""


# --------------------------------------------------------------------------------- Contract


class AtEnd(StrEnum):
    KEEP = "keep"  # services continue after the contract ends (seed 000)
    DEPROVISION = "deprovision"


class ContractSpec(Spec):
    """An occupier's lease at a site."""

    occupier: Shared
    """The occupier who signed it."""
    site: Shared
    """The site it leases at."""
    start: date
    """First day; services start then (S2)."""
    end: date | None = None
    """Last day; none: open-ended (S9)."""
    spaces: tuple[Shared, ...] = ()
    """Spaces leased; their floor ports may be activated (N3)."""
    at_end: AtEnd = AtEnd.KEEP
    """keep: services continue after the end; deprovision: they stop (S9)."""


class Contract(Document):
    """An occupier's lease at a site: dates and spaces."""

    KIND = "Contract"
    kind: Literal["Contract"]
    """Always Contract."""
    spec: ContractSpec
    """The lease."""


# ---------------------------------------------------------------------------------- Service


class ScheduledChange(Spec):
    """A future change of a service line (S10)."""

    on: date
    """The day it takes effect; not before (S10)."""
    quantity: Count | None = None
    """The new quantity (S4)."""
    definition: Shared | None = None
    """The new definition (a plan change)."""
    price: Money | None = None
    """The new price per unit (S3)."""


class PayPeriod(StrEnum):
    """How often a line is invoiced, in advance (Splynx pay period)."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


class Discount(Spec):
    """Splynx discount: a percentage off the line between two dates (both included)."""

    percent: Annotated[
        Decimal,
        Field(gt=0, le=100, max_digits=5, decimal_places=2),
        BeforeValidator(as_written),
        Field(description="Percentage off the line's charge, 0 < percent <= 100."),
    ]
    start: Annotated[date, Field(description="First day the discount applies.")]
    end: Annotated[
        date | None, Field(description="Last day the discount applies; open if absent.")
    ] = None


class ServiceSpec(Spec):
    """One service line."""

    occupier: Shared
    """The occupier who buys it."""
    site: Shared
    """The site it is delivered at."""
    contract: Shared | None = None
    """The contract it is charged to; optional with one contract at the site (S1)."""
    definition: Shared
    """The catalogue entry (ServiceDefinition) it is an instance of."""
    quantity: Count | None = None
    """Units; default: the definition's default (S4)."""
    price: Money | None = None
    """Price per unit per month; default: the definition's rrp (S3)."""
    start: date | None = None  # only to be refused when it differs from the contract (S2)
    """Only checked: must equal the contract's start (S2)."""
    replaces: Shared | None = None
    """The line this one upgrades; removed once this one is active (S8)."""
    changes: tuple[ScheduledChange, ...] = ()
    """Future quantity, definition or price changes, by date (S10)."""
    end: Annotated[
        date | None,
        Field(
            description="Last day of the line: provisioning and billing stop after it (Splynx "
            "end date)."
        ),
    ] = None
    discounts: Annotated[
        tuple[Discount, ...], Field(description="Percentages off the line's charge between dates.")
    ] = ()
    pay_period: Annotated[
        PayPeriod,
        Field(
            description="Invoiced in advance per calendar month, quarter or year; a change "
            "within a period is prorated."
        ),
    ] = PayPeriod.MONTHLY
    status: Annotated[
        LineStatus,
        Field(
            description="Stopped suspends the line: its ports shut, Wi-Fi disabled, numbers "
            "unavailable, nothing released; remove it to resume."
        ),
    ] = LineStatus.ACTIVE


class Service(Document):
    """One service line of an occupier at a site."""

    KIND = "Service"
    kind: Literal["Service"]
    """Always Service."""
    spec: ServiceSpec
    """The service line."""


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
