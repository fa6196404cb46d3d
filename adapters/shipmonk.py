"""ShipMonk, pushed: one order per ``POST /v1/integrations/order`` to the merchant's API
store, as ShipMonk's OpenAPI document v1.024 describes it.

The create is an upsert on (``store_id``, ``order_key``) and our key is the ``order_key``,
so a resend updates the order rather than adding one. ShipMonk answers a create with only a
message (``OrderSyncOutput``) and shows no order id in its API, so the house reference is
the ``order_key`` itself, which is also how ShipMonk finds the order
(``GET /v1/integrations/orders?orderKey=&storeId=`` → ``{"status", "data": <order>}``).
Cancelling is the same upsert with ``order_status: "cancelled"``, sent with the order as
ShipMonk holds it. ShipMonk reports shipments, not deliveries: delivery comes from the
carrier.

A bad order is accepted and then held: ShipMonk puts it in Action Required (item mapping,
address, shipping mapping, ...) or back-orders it. ``fetch_tracking`` reports that as
``TrackingInfo.problem``; the ``orderStatusChange`` webhook carries the same order body
(``status_change_tracking``). The Shipment Notification webhook (``notification_tracking``)
is proven by HTTP Basic auth (``webhook_auth_ok``).
"""
from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any, Sequence

import requests

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
from adapters.webhooks import WebhookSpec, read_shipmonk

API = "/v1/integrations"
#: the shortest webhook password accepted (it is the notification's only proof)
MIN_WEBHOOK_PASSWORD = 16
#: Action Required flags of a ShipMonk order, as the reason support has to fix and how
#: ShipMonk names the action (its app's words)
ACTIONS = {
    "item_mapping": (FailureReason.SKU, "item mapping (a SKU matches no ShipMonk product)"),
    "address": (FailureReason.ADDRESS, "address (ShipMonk cannot ship to it)"),
    "shipping_mapping": (FailureReason.HELD,
                         "shipping mapping (the requested shipping service matches no "
                         "ShipMonk shipping mapping)"),
    "customs": (FailureReason.HELD, "customs"),
    "hs_code": (FailureReason.HELD, "HS code"),
    "ship_short": (FailureReason.STOCK, "ship short"),
}


def _password_validator(value: str) -> str | None:
    if len(value) < MIN_WEBHOOK_PASSWORD:
        return f"Use at least {MIN_WEBHOOK_PASSWORD} characters."
    return None


def _shipmonk_time(value: Any) -> datetime | None:
    """A ShipMonk time: an ISO 8601 string, or PHP's ``DateTime`` as an object
    ``{"date": "2025-03-04 15:30:00.000000", "timezone": "UTC", "timezone_type": 3}``
    (some stores' notifications). Only UTC objects are read; others give None."""
    if isinstance(value, dict):
        if str(value.get("timezone", "")).upper() not in ("UTC", "Z", "+00:00"):
            return None
        value = str(value.get("date", "")).replace(" ", "T")
    return parse_time(value)


class ShipMonkHouse(HouseAdapter):
    key = "shipmonk"
    name = "ShipMonk"
    description = ("Sends each order to your ShipMonk API store and reads back the tracking "
                   "number of every package ShipMonk ships.")
    website = "https://www.shipmonk.com"
    logo = "shipmonk.svg"
    mode = "push"
    batch_size = 1
    default_base_url = "https://api.shipmonk.com"
    official_hosts = ("api.shipmonk.com",)
    simulator = "simulators.shipmonk"
    webhook = WebhookSpec(
        "shipmonk", read=read_shipmonk, needs=("webhook_username", "webhook_password"),
        setup="In ShipMonk, have this URL subscribed to the store's Shipment Notification and "
              "Order status change webhooks, with the webhook user name and password set on "
              "this account.")
    fields = (
        CredentialField("api_key", "API Key", kind=FieldKind.SECRET,
                        help="In ShipMonk: Integrations → API store → API key."),
        CredentialField("store_id", "Store ID",
                        help="The number of the ShipMonk API store orders go to.",
                        validator=pattern_validator(r"[1-9]\d{0,11}",
                                                    "A ShipMonk Store ID is a number.")),
        CredentialField("webhook_username", "Webhook user name", required=False,
                        help="Make up a user name and password and enter them with the "
                             "webhook URL in the ShipMonk store's webhook settings "
                             "(Shipment Notification and Order status change); ShipMonk "
                             "sends them with every call."),
        CredentialField("webhook_password", "Webhook password", kind=FieldKind.SECRET,
                        required=False, validator=_password_validator,
                        help="At least 16 characters: this password is what proves "
                             "ShipMonk's webhooks."),
        base_url_field(default_base_url),
    )

    def __init__(self, credentials: dict[str, str], base_url: str | None = None, **kwargs):
        super().__init__(credentials, base_url, **kwargs)
        # accounts saved before v1.024 was followed hold the old default, API path included
        self.base_url = self.base_url.removesuffix(API)
        self.http = HouseSession(self.name, self.base_url, timeout=self.timeout,
                                 retry_after_header="Retry-After",
                                 headers={"Api-Key": credentials.get("api_key", "")})

    @property
    def store_id(self) -> int:
        value = self.credentials.get("store_id", "")
        return int(value) if value.isdigit() else 0

    def _get(self, key: str) -> requests.Response:
        return self.http.call("GET", f"{API}/orders", params={"orderKey": key,
                                                               "storeId": self.store_id})

    def check_credentials(self) -> str | None:
        if not self.store_id:
            return "The ShipMonk Store ID must be a number."
        try:
            response = self._get("crm-credentials-check")
        except AdapterError as exc:
            if exc.reason is FailureReason.CREDENTIALS:
                return "ShipMonk refused the API key: copy it again from your ShipMonk API store."
            return f"ShipMonk could not be asked: {exc}"
        message = error_message(response)
        if response.status_code == 404 and "store" in message.lower():
            return f"This ShipMonk API key has no store with ID {self.store_id}."
        if response.status_code not in (200, 404):
            return f"ShipMonk refused the check (HTTP {response.status_code}): {message}"
        return None

    def _body(self, order: OrderPayload) -> dict[str, Any]:
        to = order.ship_to
        return {
            "store_id": self.store_id,
            "order_key": order.key,
            "order_number": order.order_number,
            "ordered_at": utc_iso(order.order_date),
            "order_status": "unfulfilled",
            # the ship profile's house code: the service as this store's shipping mapping names it
            "requested_shipping_service": order.ship_method or "Standard",
            "customer_email": order.customer_email or to.email or None,
            "ship_to": {"name": to.name, "company": to.company or None,
                        "street1": to.address1, "street2": to.address2 or None,
                        "city": to.city, "state": to.state, "zip": to.postal_code,
                        "country_code": to.country, "phone": to.phone or None},
            "items": [{"sku": line.sku, "name": line.name, "quantity": line.quantity,
                       "price": float(line.unit_price)} for line in order.lines],
        }

    def send(self, orders: Sequence[OrderPayload]) -> list[SendOutcome]:
        if len(orders) > self.batch_size:
            raise ValueError(f"at most {self.batch_size} orders per call")
        return [self._send_one(order) for order in orders]

    def _send_one(self, order: OrderPayload) -> SendOutcome:
        try:
            response = self.http.call("POST", f"{API}/order", json=self._body(order))
            if response.status_code == 200:
                read_json(response, self.name)
                return Accepted(order.key, order.key)
        except HouseCallFailed as exc:
            return exc.outcome(order.key)
        message = error_message(response)
        if response.status_code == 400 and "no longer be changed" in message:
            # shipped or cancelled since an earlier send: ShipMonk has it
            return Accepted(order.key, order.key)
        return Rejected(order.key, reason_for(message), f"HTTP {response.status_code}: {message}")

    def _find(self, key: str) -> dict[str, Any] | None:
        response = self._get(key)
        if response.status_code == 404 and "store" not in error_message(response).lower():
            return None
        if response.status_code != 200:
            raise refusal_error(response, self.name, "read the order")
        order = read_json(response, self.name).get("data")
        return order if isinstance(order, dict) and order.get("order_key") == key else None

    def lookup(self, keys: Sequence[str]) -> dict[str, Accepted]:
        found = {}
        for start in range(0, len(keys), 100):
            chunk = list(keys[start:start + 100])
            params = [("orderKeys", key) for key in chunk] + [("pageSize", 100)]
            response = self.http.call("GET", f"{API}/orders-list", params=params)
            if response.status_code != 200:
                raise refusal_error(response, self.name, "list orders")
            for order in (read_json(response, self.name).get("data") or {}).get("orders") or ():
                if order.get("order_key") in chunk and \
                        (order.get("store") or {}).get("id") == self.store_id:
                    found[order["order_key"]] = Accepted(order["order_key"], order["order_key"])
        return found

    def fetch_tracking(self, orders: Sequence[SentOrder]) -> list[TrackingInfo]:
        infos = []
        for sent in orders:
            order = self._find(sent.key)
            if order is not None:
                info = self.order_tracking(order)
                if info.packages or info.cancelled or info.problem:
                    infos.append(info)
        return infos

    def order_tracking(self, order: dict[str, Any]) -> TrackingInfo:
        """What one order as ShipMonk shows it (``GET /orders``, or an ``orderStatusChange``
        webhook's body) says: its packages, its cancellation or the problem holding it."""
        key = str(order.get("order_key") or "")
        if order.get("order_status") == "cancelled":
            return TrackingInfo(key, key, cancelled=True)
        shipment = order.get("shipment_data") or {}
        shipped_at = _shipmonk_time(order.get("shipped_at"))
        packages = tuple(Package(p["tracking_number"], carrier=shipment.get("carrier") or "",
                                 ship_method=shipment.get("service")
                                 or order.get("requested_shipping_service") or "",
                                 shipped_at=shipped_at)
                         for p in order.get("packages") or ()
                         if isinstance(p, dict) and p.get("tracking_number"))
        return TrackingInfo(key, key, packages, problem=None if packages else _problem(order))

    def webhook_auth_ok(self, username: str, password: str) -> bool:
        """Whether a webhook's Basic auth is the one set on this account (compared in
        constant time); False when the account has none set."""
        want_user = self.credentials.get("webhook_username", "")
        want_password = self.credentials.get("webhook_password", "")
        if not (want_user and want_password):
            return False
        return (hmac.compare_digest(username.encode(), want_user.encode())
                & hmac.compare_digest(password.encode(), want_password.encode()))

    @staticmethod
    def notification_tracking(body: dict[str, Any]) -> TrackingInfo:
        """An ``orderShipmentNotification`` (one per shipment, one tracking number per
        package) as tracking for the order under its ``order_key``."""
        shipped_at = _shipmonk_time(body.get("shipped_at"))
        carrier = body.get("carrier") or ""
        method = body.get("service") or ""
        packages = tuple(Package(p["tracking_number"], carrier=carrier, ship_method=method,
                                 shipped_at=shipped_at)
                         for p in body.get("packages") or ()
                         if isinstance(p, dict) and p.get("tracking_number"))
        key = str(body.get("order_key") or "")
        return TrackingInfo(key, key, packages)

    def status_change_tracking(self, body: dict[str, Any]) -> TrackingInfo:
        """An ``orderStatusChange`` webhook: the order as ``GET /orders`` shows it."""
        return self.order_tracking(body)

    def cancel(self, order: SentOrder) -> None:
        current = self._find(order.key)
        if current is None:
            raise AdapterError(f"ShipMonk has no order {order.order_number or order.key}.",
                               transient=False)
        if current.get("order_status") == "cancelled":
            return
        to = current.get("ship_to") or {}
        body = {"store_id": self.store_id, "order_key": order.key,
                "order_number": current.get("order_number") or order.order_number,
                "ordered_at": current.get("ordered_at"), "order_status": "cancelled",
                "requested_shipping_service": current.get("requested_shipping_service")
                or "Standard",
                "ship_to": {k: to.get(k) for k in ("name", "company", "street1", "street2",
                                                   "city", "state", "zip", "country_code",
                                                   "phone")},
                "items": [{"sku": i["sku"], "quantity": i["quantity"], "name": i.get("name"),
                           "price": i.get("price")} for i in current.get("items") or ()]}
        response = self.http.call("POST", f"{API}/order", json=body)
        if response.status_code != 200:
            raise refusal_error(response, self.name, "cancel the order")


def _problem(order: dict[str, Any]) -> HouseProblem | None:
    """The hold ShipMonk put the order in, in ShipMonk's words: Action Required (final until
    someone fixes it in ShipMonk and we resend), back-order or on hold (ShipMonk releases
    those itself)."""
    number = order.get("order_number") or order.get("order_key")
    actions = [name for name, flag in (order.get("actions_required") or {}).items() if flag]
    if actions:
        reason = next((ACTIONS[a][0] for a in actions if a in ACTIONS), FailureReason.HELD)
        words = ", ".join(ACTIONS[a][1] if a in ACTIONS else a.replace("_", " ")
                          for a in actions)
        detail = _detail(order, actions)
        return HouseProblem(reason, f"ShipMonk: order {number} needs action: {words}"
                                    f"{detail} (processing status "
                                    f"{order.get('processing_status')}).")
    status = order.get("processing_status")
    if status == "backorder":
        short = [f"{p.get('sku')} ({p.get('backordered_quantity')} back-ordered)"
                 for i in order.get("items") or () for p in i.get("products") or ()
                 if p.get("backordered_quantity")]
        return HouseProblem(FailureReason.STOCK, f"ShipMonk back-ordered order {number}: "
                            f"{', '.join(short) or 'not enough stock'}.", final=False)
    if status in ("on_hold", "unable_to_submit") or order.get("order_status") == "onHold":
        return HouseProblem(FailureReason.HELD, f"ShipMonk holds order {number} "
                            f"(processing status {status}).", final=False)
    return None


def _detail(order: dict[str, Any], actions: list[str]) -> str:
    """The SKUs or the address an Action Required is about, as ShipMonk shows them."""
    parts = []
    if "item_mapping" in actions:
        unmapped = [i.get("sku") for i in order.get("items") or () if not i.get("products")]
        if unmapped:
            parts.append("SKU " + ", ".join(map(str, unmapped)))
    if "address" in actions:
        to = order.get("ship_to") or {}
        parts.append("address " + ", ".join(str(to[k]) for k in ("street1", "city", "state",
                                                                  "zip", "country_code")
                                             if to.get(k)))
    return f" — {'; '.join(parts)}" if parts else ""
