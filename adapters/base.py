"""The plain-data contract between the dashboard and every house or carrier client.

Adapters know nothing of Flask or the database: the dashboard hands them dataclasses
and gets dataclasses back. A house deduplicates orders by ``OrderPayload.key``, our
stable fulfillment reference, so sending the same key twice never creates two orders.
"""
from __future__ import annotations

import enum
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable, ClassVar, Mapping, Protocol, Sequence

from adapters.clock import utcnow


class FieldKind(enum.StrEnum):
    TEXT = "text"
    SECRET = "secret"  # noqa: S105 - the name of a field kind, not a password
    CHOICE = "choice"
    CHECKBOX = "checkbox"


@dataclass(frozen=True)
class CredentialField:
    """One input an adapter asks the merchant for on its Activate form."""

    name: str
    label: str
    help: str = ""
    kind: FieldKind = FieldKind.TEXT
    required: bool = True
    #: for ``CHOICE``: (value, label) pairs
    choices: tuple[tuple[str, str], ...] = ()
    #: returns an error message for a bad value, or None when it is acceptable
    validator: Callable[[str], str | None] | None = None
    default: str = ""
    #: shown under "Advanced settings" rather than with the main credentials
    advanced: bool = False
    #: the value of an account saved before the field existed (None: ``default``)
    stored_default: str | None = None

    @property
    def secret(self) -> bool:
        return self.kind is FieldKind.SECRET

    def stored(self, credentials: dict[str, str]) -> str:
        """This field's value in an account's stored credentials."""
        if self.name in credentials:
            return credentials[self.name]
        return self.default if self.stored_default is None else self.stored_default

    def check(self, value: str) -> str | None:
        """Return the message to show next to this field, or None when ``value`` is fine."""
        if self.kind is FieldKind.CHECKBOX:
            return None
        if not value:
            return f"{self.label} is required." if self.required else None
        if self.kind is FieldKind.CHOICE and value not in {v for v, _ in self.choices}:
            return f"Choose one of the listed values for {self.label}."
        return self.validator(value) if self.validator else None


def pattern_validator(regex: str, message: str) -> Callable[[str], str | None]:
    """A validator accepting values that fully match ``regex``."""
    compiled = re.compile(regex)
    return lambda value: None if compiled.fullmatch(value) else message


def url_validator(value: str) -> str | None:
    """Accept http(s) base URLs only; anything else cannot be an API host."""
    if not re.fullmatch(r"https?://[A-Za-z0-9.\-]+(:\d+)?(/[\w\-./]*)?", value):
        return "Enter a full http:// or https:// URL."
    return None


def base_url_field(default_url: str) -> CredentialField:
    """The advanced "API base URL" field every house and carrier offers, to reach a sandbox,
    a proxy or a local simulator instead of ``default_url``."""
    return CredentialField(
        "base_url", "API base URL", required=False, advanced=True, validator=url_validator,
        help=f"Leave empty to use {default_url}. Set it only to reach a sandbox, a proxy or a "
             "local simulator.")


class FailureReason(enum.StrEnum):
    """Why a house refused an order: what support has to fix."""

    ADDRESS = "address"
    SKU = "sku"
    STOCK = "stock"
    CREDENTIALS = "credentials"
    #: the house holds the order (its own hold, an exception it raised) and may release it
    HELD = "held"
    #: the house or its 3PL refused to fulfil the order it had accepted
    REJECTED = "rejected"
    OTHER = "other"


# ---------------------------------------------------------------- orders out


@dataclass(frozen=True)
class Address:
    name: str
    address1: str
    city: str
    state: str
    postal_code: str
    country: str
    address2: str = ""
    phone: str = ""
    email: str = ""
    company: str = ""


@dataclass(frozen=True)
class OrderLine:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal = Decimal("0")


@dataclass(frozen=True)
class OrderPayload:
    """One fulfillment as a house sees it."""

    #: our stable fulfillment reference, the house's dedupe key
    key: str
    order_number: str
    order_date: datetime
    ship_to: Address
    lines: tuple[OrderLine, ...]
    ship_method: str = ""
    carrier: str = ""
    customer_email: str = ""


@dataclass(frozen=True)
class Accepted:
    key: str
    house_reference: str


@dataclass(frozen=True)
class Rejected:
    key: str
    reason: FailureReason
    message: str


@dataclass(frozen=True)
class Transient:
    """The house could not answer now; try again after ``retry_after`` seconds.

    ``maybe_received`` is true when the request may have reached the house (a timeout
    after sending): the outcome is unknown and must be looked up before any resend.
    ``rate_limited`` says the house refused for its rate limit (429): the sender may
    simply wait ``retry_after`` and send again.
    """

    key: str
    message: str
    retry_after: float = 300.0
    maybe_received: bool = False
    rate_limited: bool = False


SendOutcome = Accepted | Rejected | Transient


@dataclass(frozen=True)
class Package:
    """One shipped package: a tracking number and how it travels."""

    tracking_number: str
    carrier: str = ""
    ship_method: str = ""
    shipped_at: datetime | None = None
    #: the house's own delivery information, where it has some
    delivered_at: datetime | None = None
    #: where the house follows the package on its own carrier (Amazon's AMZL), which no
    #: carrier tracker of ours covers: where it is (and the house's words for it); None
    #: leaves the package to its carrier's tracker
    house_status: CarrierStatus | None = None
    house_status_detail: str = ""


@dataclass(frozen=True)
class HouseProblem:
    """What a house says is wrong with an order it accepted: real houses take a bad order
    (unknown SKU, no stock, an address they cannot ship to) and then hold it or raise an
    exception on it, rather than refusing the create call.

    ``final``: the house will not ship the order as it is, so it is Failed with ``reason``;
    otherwise the house may still release it by itself and it is only held at the house.
    ``message`` is the house's own words, for the timeline and the failed review.
    """

    reason: FailureReason
    message: str
    final: bool = True


@dataclass(frozen=True)
class TrackingInfo:
    key: str
    house_reference: str
    packages: tuple[Package, ...] = ()
    cancelled: bool = False
    #: set when the house holds the order or raised an exception on it
    problem: HouseProblem | None = None


@dataclass(frozen=True)
class SentOrder:
    """What a tracking or cancel call needs to find an order at the house."""

    key: str
    house_reference: str
    order_number: str = ""


class AdapterError(Exception):
    """A call that failed as a whole. ``transient`` says whether retrying may help."""

    def __init__(self, message: str, *, transient: bool = True, retry_after: float = 300.0,
                 reason: FailureReason = FailureReason.OTHER):
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after
        self.reason = reason


class SharedAllowance(Protocol):
    """A house account's rate allowance shared with every other client of that account
    (other workers, other hosts). The adapters only call it; the dashboard provides one.
    Times are wall-clock seconds (``time.time()``), comparable across hosts."""

    def take(self) -> float:
        """Take one call from the allowance: 0 to send now, else the seconds until it
        refills (nothing was taken; ask again then)."""

    def observe(self, sent: float, remaining: int, limit: int | None, reset: float) -> None:
        """What the house's headers said about the call sent at ``sent``: calls left in
        its window, the window's size, and seconds until the window ends."""


# ---------------------------------------------------------------- webhooks


class WebhookAction(enum.StrEnum):
    """What a webhook call reports."""

    TRACKING = "tracking"      # packages shipped: record them (Pending Shipment)
    DELIVERED = "delivered"    # the house's own delivery report
    EXCEPTION = "exception"    # a shipment in exception: a note for support
    CANCELLED = "cancelled"    # the house cancelled a shipment
    IGNORED = "ignored"        # a topic not used here: acknowledged, nothing changed


class WebhookRefused(Exception):
    """A webhook call that cannot be proven or read: answered with ``status`` (an HTTP
    status code) and ``message``, and nothing changes."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class WebhookCall:
    """A proven webhook call, as its house's ``WebhookSpec.read`` understood it."""

    #: the call's own id: a repeat with the same id changes nothing
    event_id: str
    action: WebhookAction
    #: the tracking the call is about; may call the house (run after the event is known
    #: to be new, outside any transaction), may raise ``WebhookRefused``
    tracking: Callable[[], list[TrackingInfo]] = list
    #: the outcome for IGNORED, a tracking call without packages, or the sentence for
    #: EXCEPTION and CANCELLED
    note: str = ""
    #: the answer when the call names no order of the account
    not_ours: str = "The event names no order of this account."


@dataclass(frozen=True)
class WebhookSpec:
    """A house's webhook, declared on its class: the dashboard builds the route
    ``/webhooks/<kind>/<account token>`` and the account page's setup help from it."""

    #: the route's name (the house's key, usually)
    kind: str
    #: what the merchant does in the house so it posts to the route
    setup: str
    #: proves and reads one call: ``read(adapter, headers, body) -> WebhookCall``, raising
    #: ``WebhookRefused``
    read: Callable[[Any, Mapping[str, str], bytes], WebhookCall]
    #: the events (topics) acted on; others are acknowledged and ignored
    topics: tuple[str, ...] = ()
    #: credential fields the route needs before it accepts anything
    needs: tuple[str, ...] = ()


# ---------------------------------------------------------------- houses


class House:
    """What every house declares, push or pull: its plugin tile, account form, webhook
    route and simulator are built from these class attributes."""

    key: ClassVar[str]
    name: ClassVar[str]
    description: ClassVar[str]
    website: ClassVar[str]
    #: file name under ``dashboard/static/logos``
    logo: ClassVar[str] = ""
    #: "push": we send orders; "pull": the house calls our API
    mode: ClassVar[str] = "push"
    #: the account form's credential fields
    fields: ClassVar[tuple[CredentialField, ...]] = ()
    #: the largest number of orders one create call takes (0: we send none)
    batch_size: ClassVar[int] = 0
    #: the webhook the house posts to us, if any
    webhook: ClassVar[WebhookSpec | None] = None
    #: the module of its local simulator (``python -m <module>``), if it has one
    simulator: ClassVar[str | None] = None


class HouseAdapter(House, ABC):
    """A push house: we send orders and ask for tracking.

    Subclasses declare their metadata as class attributes and implement the five calls (a
    subclass missing one cannot be built). They are built from an account's decrypted
    credentials and base URL and must not keep state between calls beyond an HTTP session.
    """

    mode: ClassVar[str] = "push"
    batch_size: ClassVar[int] = 1
    default_base_url: ClassVar[str] = ""
    #: the house's own API hosts; an account may point elsewhere only when the operator
    #: allows custom base URLs (``dashboard.services.outbound``)
    official_hosts: ClassVar[tuple[str, ...]] = ()
    #: seconds between tracking checks of a fresh order, for a house that ships far faster
    #: than real ones (the Sandbox); None: the usual cadence
    check_interval: ClassVar[float | None] = None

    def __init__(self, credentials: dict[str, str], base_url: str | None = None,
                 *, timeout: float = 20.0, clock: Callable[[], datetime] | None = None,
                 pace: Callable[[float], None] | None = None, max_pace: float = 0.0,
                 allowance: SharedAllowance | None = None):
        self.credentials = credentials
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.timeout = timeout
        self.clock = clock or utcnow
        #: when the house says its allowance is used up, wait (with ``pace``) up to
        #: ``max_pace`` seconds for it to refill rather than run into a 429; 0: never wait
        self.pace = pace
        self.max_pace = max_pace
        #: the account's allowance shared with other workers; None: this client paces alone
        self.allowance = allowance

    @abstractmethod
    def check_credentials(self) -> str | None:
        """Make one cheap authenticated call. Return None when the account works, else a
        plain sentence saying what is wrong (bad key, wrong store, unreachable)."""

    @abstractmethod
    def send(self, orders: Sequence[OrderPayload]) -> list[SendOutcome]:
        """Create ``orders`` (at most ``batch_size``) at the house; one outcome per order,
        in the same order."""

    @abstractmethod
    def lookup(self, keys: Sequence[str]) -> dict[str, Accepted]:
        """Find orders already at the house by our key: the way an unknown outcome is
        settled before anything is resent. Keys the house does not know are absent."""

    def lookup_sent(self, orders: Sequence[SentOrder]) -> dict[str, Accepted]:
        """``lookup`` for callers that also know each order's number: a house that can
        only search by number (ShipStation) finds an order of any age this way. Keyed by
        ``SentOrder.key``, like ``lookup``."""
        return self.lookup([order.key for order in orders])

    @abstractmethod
    def fetch_tracking(self, orders: Sequence[SentOrder]) -> list[TrackingInfo]:
        """Tracking for orders sent earlier; orders not shipped yet are absent or have no
        packages."""

    @abstractmethod
    def cancel(self, order: SentOrder) -> None:
        """Cancel an order at the house. Raises ``AdapterError`` when the house refuses."""


class PullHouse(House):
    """A pull house: it calls our API, so it declares no client calls of its own."""

    mode: ClassVar[str] = "pull"


# ---------------------------------------------------------------- carriers


class CarrierStatus(enum.StrEnum):
    """What a carrier says about a package, mapped onto what moves our records."""

    PRE_TRANSIT = "pre_transit"      # label made, no scan yet
    IN_TRANSIT = "in_transit"        # picked up, in transit, out for delivery
    DELIVERED = "delivered"
    RETURNED = "returned"            # return to sender
    EXCEPTION = "exception"          # delivery failed, on hold: support looks
    UNKNOWN = "unknown"              # the carrier does not know the number


@dataclass(frozen=True)
class CarrierEvent:
    tracking_number: str
    status: CarrierStatus
    description: str = ""
    occurred_at: datetime | None = None


class CarrierTracker(ABC):
    """A carrier's tracking API, asked for many numbers at once where it allows."""

    key: ClassVar[str]
    name: ClassVar[str]
    fields: ClassVar[tuple[CredentialField, ...]] = ()
    #: numbers per request the carrier accepts
    batch_size: ClassVar[int] = 1
    #: the carrier's own API hosts (production and its test server); others need the
    #: operator's permission (``dashboard.services.outbound``)
    official_hosts: ClassVar[tuple[str, ...]] = ()
    #: seconds between checks of a fresh package, for a carrier far faster than real ones
    #: (the Sandbox); None: the usual cadence
    check_interval: ClassVar[float | None] = None

    def __init__(self, credentials: dict[str, str], base_url: str | None = None,
                 *, clock: Callable[[], datetime] | None = None):
        self.credentials = credentials
        self.base_url = base_url
        self.clock = clock or utcnow

    @abstractmethod
    def track(self, tracking_numbers: Sequence[str]) -> list[CarrierEvent]:
        """The latest status of each number; raises ``AdapterError`` when the carrier is
        down (nothing changes, the check is retried)."""
