"""ShipBob: one order per ``POST /{version}/order`` on the merchant's channel.

An account speaks the API version set on it: ``2026-01``, the current one and the default of
new accounts, or ``1.0`` (deprecated; accounts saved before the version was a setting keep
it). The two differ, for what we use, in the channel list (a list in 1.0, ``{"items"}`` in
2026-01), the cancel route (``/order/{id}/cancel`` against ``/order/{id}:cancel``) and how
several reference ids are asked for (repeated, or comma-separated).

Our key is the order's ``reference_id``; ShipBob refuses a second order with the same
reference on a channel (422 "Cannot insert order with existing ReferenceId"), and the
adapter settles that answer by finding the existing order, so a resend reads as accepted.
The house reference is ShipBob's order id. An order can leave in several shipments: each
one with a tracking number is a package, delivered once its status detail is 203. A shipment
ShipBob raised (``Exception``) or put ``OnHold`` before it left is the house's problem with
the order (``TrackingInfo.problem``), typed from its status details.
Webhooks are signed the Standard-Webhooks way; ``verify_webhook`` checks them against the
account's ``whsec_`` secrets, several at once while one is being rotated.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import re
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

from standardwebhooks import Webhook

from adapters.base import (
    Accepted,
    AdapterError,
    CredentialField,
    FailureReason,
    FieldKind,
    HouseAdapter,
    HouseProblem,
    OrderPayload,
    Package,
    Rejected,
    SendOutcome,
    SentOrder,
    TrackingInfo,
    Transient,
    base_url_field,
    pattern_validator,
)
from adapters.http import (
    HouseCallFailed,
    HouseSession,
    error_message,
    parse_time,
    read_json,
    reason_for,
    refusal_error,
    utc_iso,
)
from adapters.webhooks import WebhookSpec, read_shipbob

DUPLICATE = "Cannot insert order with existing ReferenceId"
SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of a secret, not one
#: seconds a webhook's timestamp may be away from our clock (Standard Webhooks' tolerance)
WEBHOOK_TOLERANCE = 300
DELIVERED = 203
#: reference ids per lookup request
LOOKUP_CHUNK = 50
CURRENT_VERSION = "2026-01"
API_VERSION = CredentialField(
    "api_version", "API version", kind=FieldKind.CHOICE, default=CURRENT_VERSION,
    stored_default="1.0", advanced=True,
    choices=((CURRENT_VERSION, "2026-01 (current)"), ("1.0", "1.0 (deprecated by ShipBob)")),
    help="Which ShipBob API version this account speaks. Keep 1.0 only while moving an "
         "older integration over.")
#: a version at the end of a base URL saved when the version was part of it
_VERSION_SUFFIX = re.compile(r"/(\d+\.\d+|\d{4}-\d{2})$")
#: ShipBob's status details of a shipment it raised or holds, as what support has to fix and
#: whether ShipBob may still ship it by itself (stock arriving) or needs someone to act
PROBLEM_DETAILS = {
    "ProductNotFound": (FailureReason.SKU, True),
    "OutOfStock": (FailureReason.STOCK, False),
    "InvalidAddress": (FailureReason.ADDRESS, True),
}


def webhook_keys(secrets: str) -> list[bytes]:
    """The signing keys in a field of ``whsec_…`` secrets (spaces or newlines between them):
    the base64-decoded part after ``whsec_``. Unreadable ones are left out."""
    keys = []
    for secret in secrets.split():
        try:
            keys.append(base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True))
        except (binascii.Error, ValueError):
            continue
    return [key for key in keys if key]


def _secrets_validator(value: str) -> str | None:
    secrets = value.split()
    if not all(s.startswith(SECRET_PREFIX) for s in secrets) or \
            len(webhook_keys(value)) != len(secrets):
        return ("Each secret starts with whsec_ followed by the base64 text ShipBob shows; "
                "separate several with spaces.")
    return None


class ShipBobHouse(HouseAdapter):
    key = "shipbob"
    name = "ShipBob"
    description = ("Sends each order to ShipBob's warehouses through your ShipBob channel and "
                   "reads back every shipment's tracking and delivery.")
    website = "https://www.shipbob.com"
    logo = "shipbob.svg"
    mode = "push"
    batch_size = 1
    default_base_url = "https://api.shipbob.com"
    official_hosts = ("api.shipbob.com", "sandbox-api.shipbob.com")
    simulator = "simulators.shipbob"
    webhook = WebhookSpec(
        "shipbob", read=read_shipbob, needs=("webhook_secrets",),
        topics=("order.shipped", "order.shipment.delivered", "order.shipment.exception",
                "order.shipment.on_hold", "order.shipment.cancelled"),
        setup="In ShipBob, subscribe this URL to order.shipped, order.shipment.delivered, "
              "order.shipment.exception, order.shipment.on_hold and order.shipment.cancelled, "
              "then copy the subscription's whsec_… secret into this account's Webhook "
              "signing secrets.")
    fields = (
        CredentialField("token", "Personal Access Token", kind=FieldKind.SECRET,
                        help="In ShipBob: Integrations → API Tokens → Generate New Token."),
        CredentialField("channel_id", "Channel ID",
                        help="The channel orders are created on; it needs write access to "
                             "orders (ShipBob lists channels under GET /channel).",
                        validator=pattern_validator(r"\d{1,12}",
                                                    "A ShipBob Channel ID is a number.")),
        CredentialField("webhook_secrets", "Webhook signing secrets", kind=FieldKind.SECRET,
                        required=False, validator=_secrets_validator,
                        help="The whsec_… secret ShipBob shows for your webhook subscription. "
                             "While you rotate it, enter the old and the new one separated by "
                             "a space; webhooks signed with either are accepted."),
        API_VERSION,
        base_url_field(default_base_url),
    )

    def __init__(self, credentials: dict[str, str], base_url: str | None = None, **kwargs):
        super().__init__(credentials, base_url, **kwargs)
        self.base_url = _VERSION_SUFFIX.sub("", self.base_url)
        self.version = API_VERSION.stored(credentials)
        self.http = HouseSession(
            self.name, f"{self.base_url}/{self.version}", timeout=self.timeout,
            retry_after_header="x-retry-after",
            headers={"Authorization": f"Bearer {credentials.get('token', '')}",
                     "shipbob_channel_id": self.channel_id})

    @property
    def channel_id(self) -> str:
        return self.credentials.get("channel_id", "")

    def check_credentials(self) -> str | None:
        try:
            response = self.http.call("GET", "/channel")
            if response.status_code != 200:
                return str(refusal_error(response, self.name, "list the token's channels"))
            channels = read_json(response, self.name)
            if isinstance(channels, dict):  # 2026-01 pages them
                channels = channels.get("items") or []
        except AdapterError as exc:
            if exc.reason is FailureReason.CREDENTIALS:
                return ("ShipBob refused the Personal Access Token: generate a new one under "
                        "Integrations → API Tokens.")
            return f"ShipBob could not be asked: {exc}"
        channel = next((c for c in channels if str(c.get("id")) == self.channel_id), None)
        if channel is None:
            return f"This ShipBob token has no channel with ID {self.channel_id}."
        if "orders_write" not in (channel.get("scopes") or ()):
            return (f"ShipBob channel {self.channel_id} cannot create orders (no orders_write "
                    "access): choose the channel your token created.")
        return None

    @staticmethod
    def _body(order: OrderPayload) -> dict[str, Any]:
        to = order.ship_to
        return {
            "reference_id": order.key,
            "order_number": order.order_number,
            "type": "DTC",
            "purchase_date": utc_iso(order.order_date),
            "shipping_method": order.ship_method or "Standard",
            "recipient": {
                "name": to.name,
                "address": {"address1": to.address1, "address2": to.address2 or None,
                            "company_name": to.company or None, "city": to.city,
                            "state": to.state, "country": to.country,
                            "zip_code": to.postal_code},
                "email": to.email or order.customer_email or None,
                "phone_number": to.phone or None,
            },
            "products": [{"reference_id": line.sku, "name": line.name,
                          "quantity": line.quantity, "unit_price": float(line.unit_price)}
                         for line in order.lines],
        }

    def send(self, orders: Sequence[OrderPayload]) -> list[SendOutcome]:
        if len(orders) > self.batch_size:
            raise ValueError(f"at most {self.batch_size} orders per call")
        return [self._send_one(order) for order in orders]

    def _send_one(self, order: OrderPayload) -> SendOutcome:
        try:
            response = self.http.call("POST", "/order", json=self._body(order))
            if response.status_code in (200, 201):
                return Accepted(order.key, str(read_json(response, self.name)["id"]))
            message = error_message(response)
            if response.status_code == 422 and DUPLICATE in message:
                return self._existing(order.key)
        except HouseCallFailed as exc:
            return exc.outcome(order.key)
        return Rejected(order.key, reason_for(message),
                        f"HTTP {response.status_code}: {message}")

    def _existing(self, key: str) -> SendOutcome:
        """ShipBob holds an order under our key already: that order is the outcome."""
        found = self.lookup([key])
        if key in found:
            return found[key]
        return Transient(key, "ShipBob says an order with this reference exists but does not "
                              "list it yet.", retry_after=60.0, maybe_received=True)

    def lookup(self, keys: Sequence[str]) -> dict[str, Accepted]:
        found = {}
        for start in range(0, len(keys), LOOKUP_CHUNK):
            chunk = list(keys[start:start + LOOKUP_CHUNK])
            if self.version == "1.0":
                params = [("ReferenceIds", key) for key in chunk] + [("Limit", 250)]
            else:
                params = [("ReferenceIds", ",".join(chunk)), ("Limit", 250)]
            for order in read_json(self.http.call("GET", "/order", params=params), self.name):
                if (order.get("reference_id") in chunk
                        and str((order.get("channel") or {}).get("id")) == self.channel_id):
                    found[order["reference_id"]] = Accepted(order["reference_id"],
                                                            str(order["id"]))
        return found

    def fetch_tracking(self, orders: Sequence[SentOrder]) -> list[TrackingInfo]:
        infos = []
        for sent in orders:
            response = self.http.call("GET", f"/order/{sent.house_reference}/shipment")
            if response.status_code == 404:
                continue
            if response.status_code != 200:
                raise refusal_error(response, self.name, "list the order's shipments")
            info = self._tracking(sent.key, sent.house_reference,
                                  read_json(response, self.name))
            if info.packages or info.cancelled or info.problem:
                infos.append(info)
        return infos

    def _tracking(self, key: str, reference: str, shipments: list[dict[str, Any]]
                  ) -> TrackingInfo:
        cancelled = bool(shipments) and all(s.get("status") == "Cancelled" for s in shipments)
        packages = tuple(p for p in map(self._package, shipments) if p)
        problem = None if packages or cancelled else next(
            filter(None, map(_problem, shipments)), None)
        return TrackingInfo(key, reference, packages, cancelled, problem)

    def _package(self, shipment: dict[str, Any]) -> Package | None:
        tracking = shipment.get("tracking") or {}
        number = tracking.get("tracking_number")
        if not number or shipment.get("status") == "Cancelled":
            return None
        delivered_at = None
        if any(d.get("id") == DELIVERED for d in shipment.get("status_details") or ()):
            # the time is ShipBob's where it gives one, else the moment we learn of it
            delivered_at = parse_time(shipment.get("delivery_date")) or self.clock()
        return Package(number, carrier=tracking.get("carrier") or "",
                       ship_method=tracking.get("carrier_service") or "",
                       shipped_at=parse_time(tracking.get("shipping_date")),
                       delivered_at=delivered_at)

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> str | None:
        """Check a webhook delivery the Standard-Webhooks way: ``webhook-signature`` holds
        one or more ``v1,<base64>`` signatures of ``{id}.{timestamp}.{body}``; any of them
        made with any configured secret passes, and ``webhook-timestamp`` must be within
        ``WEBHOOK_TOLERANCE`` seconds of our clock. Returns None when the delivery is
        genuine, else the reason it is refused.

        The ``standardwebhooks`` package makes the expected signatures (``Webhook.sign``).
        Its ``verify`` is not used: it takes one secret where a rotation needs several, and
        it reads the process clock where the adapter has its own (the dashboard's, which
        tests set); the window it would apply, five minutes, is ``WEBHOOK_TOLERANCE``."""
        webhooks = [Webhook(key) for key in
                    webhook_keys(self.credentials.get("webhook_secrets", ""))]
        if not webhooks:
            return "No webhook signing secret is set on this ShipBob account."
        msg_id = headers.get("webhook-id", "")
        stamp = headers.get("webhook-timestamp", "")
        signatures = headers.get("webhook-signature", "")
        if not (msg_id and stamp and signatures):
            return "The webhook-id, webhook-timestamp and webhook-signature headers are required."
        if not (stamp.isascii() and stamp.isdigit()):
            return "webhook-timestamp is not a Unix time."
        skew = int(stamp) - self.clock().replace(tzinfo=timezone.utc).timestamp()
        if abs(skew) > WEBHOOK_TOLERANCE:
            return "webhook-timestamp is more than five minutes away from our clock."
        try:
            text = body.decode()
        except UnicodeDecodeError:
            return "The webhook body is not UTF-8 text."
        sent = datetime.fromtimestamp(int(stamp), timezone.utc)
        expected = [webhook.sign(msg_id, sent, text).encode() for webhook in webhooks]
        offered = [part.encode() for part in signatures.split()]
        # every pair is compared, so the time taken says nothing about which one matched
        matches = [hmac.compare_digest(e, o) for e in expected for o in offered]
        return None if any(matches) else "The webhook signature does not match."

    @staticmethod
    def body_says(topic: str, resource: dict[str, Any]) -> bool:
        """Whether the signed body is the event the unsigned ``x-webhook-topic`` header
        names, so a captured delivery cannot be replayed under another topic: an order
        (with ``shipments``) for ``order.shipped``; for the shipment topics a shipment whose
        own status says it (203 Delivered, Exception or 204, Cancelled). Guessed from the
        GET shapes: ShipBob does not publish per-topic bodies (see the AsyncAPI document)."""
        if topic == "order.shipped":
            return isinstance(resource.get("shipments"), list)
        if "shipments" in resource:
            return False
        details = [d for d in resource.get("status_details") or () if isinstance(d, dict)]
        if topic == "order.shipment.delivered":
            return any(d.get("id") == 203 or d.get("name") == "Delivered" for d in details)
        if topic == "order.shipment.exception":
            return resource.get("status") == "Exception" or any(d.get("id") == 204
                                                                for d in details)
        if topic == "order.shipment.cancelled":
            return resource.get("status") == "Cancelled"
        return True  # topics we do not act on change nothing either way

    def webhook_tracking(self, resource: dict[str, Any]) -> TrackingInfo:
        """What a webhook's body says: an order (``order.shipped``: its shipments) or one
        shipment (``order.shipment.*``), as the GET endpoints show them. Shipments without
        tracking give no package; one ShipBob raised or holds gives its problem."""
        shipments = resource.get("shipments")
        if shipments is None:
            shipments = [resource]
            order_id = resource.get("order_id")
        else:
            order_id = resource.get("id")
        return self._tracking(str(resource.get("reference_id") or ""),
                              "" if order_id is None else str(order_id), shipments)

    def cancel(self, order: SentOrder) -> None:
        route = "/cancel" if self.version == "1.0" else ":cancel"
        response = self.http.call("POST", f"/order/{order.house_reference}{route}")
        if response.status_code == 404:
            raise AdapterError(f"ShipBob has no order {order.house_reference}.", transient=False)
        if response.status_code != 200:
            raise refusal_error(response, self.name, "cancel the order")
        failed = [r for r in read_json(response, self.name).get("canceled_shipment_results", [])
                  if not r.get("is_success")]
        if failed:
            reasons = "; ".join(f"shipment {r.get('shipment_id')}: {r.get('reason')}"
                                for r in failed)
            raise AdapterError(f"ShipBob could not cancel every shipment ({reasons}).",
                               transient=False)


def _problem(shipment: dict[str, Any]) -> HouseProblem | None:
    """A shipment ShipBob raised (``Exception``) or holds (``OnHold``) before it left, in
    ShipBob's words: each status detail's description (else its name)."""
    status = shipment.get("status")
    if status not in ("Exception", "OnHold"):
        return None
    details = [d for d in shipment.get("status_details") or () if isinstance(d, dict)]
    words = "; ".join(str(d.get("description") or d.get("name") or "") for d in details)
    known = [PROBLEM_DETAILS[d.get("name")] for d in details if d.get("name") in PROBLEM_DETAILS]
    reason, final = known[0] if known else (reason_for(words) if words else
                                             FailureReason.HELD, False)
    if reason is FailureReason.OTHER:
        reason = FailureReason.HELD
    state = "raised an exception on" if status == "Exception" else "holds"
    return HouseProblem(reason, f"ShipBob {state} shipment {shipment.get('id', '?')}: "
                                f"{words or 'no reason given'}.", final=final)
