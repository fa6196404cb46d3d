"""ShipMonk, pushed: one order per ``POST /order`` to the merchant's API store.

``POST /order`` is an upsert on (``store_id``, ``order_key``) and our key is the
``order_key``, so a resend updates the order rather than adding one; the house reference is
ShipMonk's ``order_id``. Cancelling is the same upsert with ``status: "cancelled"``, sent
with the order as ShipMonk holds it. ShipMonk reports shipments, not deliveries: delivery
comes from the carrier. Its Shipment Notification webhook is proven by HTTP Basic auth
only (``webhook_auth_ok``). The base URL, the read shape and the notification's body are
unconfirmed in ShipMonk's public material (see ``simulators/shipmonk.py``).
"""
from __future__ import annotations

import hmac
from typing import Any, Sequence

import requests

from adapters.base import (
    Accepted,
    AdapterError,
    CredentialField,
    FailureReason,
    FieldKind,
    HouseAdapter,
    OrderPayload,
    Package,
    Rejected,
    SendOutcome,
    SentOrder,
    TrackingInfo,
    Transient,
)
from adapters.http import (
    HouseCallFailed,
    HouseSession,
    base_url_field,
    error_message,
    parse_time,
    read_json,
    reason_for,
    refusal_error,
)

#: what an upsert carries besides ``status`` (a read shows the same fields)
ORDER_FIELDS = ("store_id", "order_key", "order_number", "ordered_at", "shipping_method",
                "customer_email", "ship_to", "items")


#: the shortest webhook password accepted (it is the notification's only proof)
MIN_WEBHOOK_PASSWORD = 16


def _password_validator(value: str) -> str | None:
    if len(value) < MIN_WEBHOOK_PASSWORD:
        return f"Use at least {MIN_WEBHOOK_PASSWORD} characters."
    return None


class ShipMonkHouse(HouseAdapter):
    key = "shipmonk"
    name = "ShipMonk"
    description = ("Sends each order to your ShipMonk API store and reads back the tracking "
                   "number of every package ShipMonk ships.")
    website = "https://www.shipmonk.com"
    logo = "shipmonk.svg"
    mode = "push"
    batch_size = 1
    default_base_url = "https://api.shipmonk.com/v1/integrations"
    official_hosts = ("api.shipmonk.com",)
    webhook_kind = "shipmonk"
    fields = (
        CredentialField("api_key", "API Key", kind=FieldKind.SECRET,
                        help="In ShipMonk: Integrations → API store → API key."),
        CredentialField("store_id", "Store ID",
                        help="The ID of the ShipMonk API store orders go to."),
        CredentialField("webhook_username", "Webhook user name", required=False,
                        help="Make up a user name and password and enter them with the "
                             "webhook URL in the ShipMonk store's Shipment Notification "
                             "settings; ShipMonk sends them with every notification."),
        CredentialField("webhook_password", "Webhook password", kind=FieldKind.SECRET,
                        required=False, validator=_password_validator,
                        help="At least 16 characters; ShipMonk's notifications carry no "
                             "signature, so this password is what proves them."),
        base_url_field(default_base_url),
    )

    def __init__(self, credentials: dict[str, str], base_url: str | None = None, **kwargs):
        super().__init__(credentials, base_url, **kwargs)
        self.http = HouseSession(self.name, self.base_url, timeout=self.timeout,
                                 retry_after_header="Retry-After",
                                 headers={"Api-Key": credentials.get("api_key", "")})

    @property
    def store_id(self) -> str:
        return self.credentials.get("store_id", "")

    def _orders(self, key: str) -> requests.Response:
        return self.http.call("GET", "/orders", params={"orderKey": key,
                                                         "storeId": self.store_id})

    def check_credentials(self) -> str | None:
        try:
            response = self._orders("crm-credentials-check")
        except AdapterError as exc:
            if exc.reason is FailureReason.CREDENTIALS:
                return "ShipMonk refused the API key: copy it again from your ShipMonk API store."
            return f"ShipMonk could not be asked: {exc}"
        if response.status_code == 404:
            return f"This ShipMonk API key has no store with ID {self.store_id}."
        if response.status_code != 200:
            return (f"ShipMonk refused the check (HTTP {response.status_code}): "
                    f"{error_message(response)}")
        return None

    def _body(self, order: OrderPayload) -> dict[str, Any]:
        to = order.ship_to
        return {
            "store_id": self.store_id,
            "order_key": order.key,
            "order_number": order.order_number,
            "ordered_at": order.order_date.isoformat(),
            "status": "unfulfilled",
            # the ship profile's house code: the service as this ShipMonk store names it
            "shipping_method": order.ship_method or None,
            "customer_email": order.customer_email or to.email or None,
            "ship_to": {"name": to.name, "company": to.company or None,
                        "address1": to.address1, "address2": to.address2 or None,
                        "city": to.city, "state": to.state, "zip": to.postal_code,
                        "country_code": to.country, "phone": to.phone or None,
                        "email": to.email or None},
            "items": [{"sku": line.sku, "name": line.name, "quantity": line.quantity,
                       "price": str(line.unit_price)} for line in order.lines],
        }

    def send(self, orders: Sequence[OrderPayload]) -> list[SendOutcome]:
        if len(orders) > self.batch_size:
            raise ValueError(f"at most {self.batch_size} orders per call")
        return [self._send_one(order) for order in orders]

    def _send_one(self, order: OrderPayload) -> SendOutcome:
        try:
            response = self.http.call("POST", "/order", json=self._body(order))
            if response.status_code in (200, 201):
                return Accepted(order.key, str(read_json(response, self.name)["order_id"]))
            if response.status_code == 409:
                # fulfilled or cancelled since an earlier send: ShipMonk has it
                found = self.lookup([order.key])
                if order.key in found:
                    return found[order.key]
                return Transient(order.key, error_message(response), maybe_received=True)
        except HouseCallFailed as exc:
            return exc.outcome(order.key)
        message = error_message(response)
        return Rejected(order.key, reason_for(message), f"HTTP {response.status_code}: {message}")

    def _find(self, key: str) -> dict[str, Any] | None:
        response = self._orders(key)
        if response.status_code != 200:
            raise refusal_error(response, self.name, "list orders")
        rows = read_json(response, self.name).get("orders") or []
        return next((o for o in rows if o.get("order_key") == key), None)

    def lookup(self, keys: Sequence[str]) -> dict[str, Accepted]:
        found = {}
        for key in keys:
            order = self._find(key)
            if order:
                found[key] = Accepted(key, str(order["order_id"]))
        return found

    def fetch_tracking(self, orders: Sequence[SentOrder]) -> list[TrackingInfo]:
        infos = []
        for sent in orders:
            order = self._find(sent.key)
            if order is None:
                continue
            reference = str(order["order_id"])
            if order.get("order_status") == "cancelled":
                infos.append(TrackingInfo(sent.key, reference, cancelled=True))
                continue
            carrier = (order.get("shipment_data") or {}).get("carrier") or ""
            shipped_at = parse_time(order.get("shipped_at"))
            packages = tuple(Package(p["tracking_number"], carrier=carrier,
                                     ship_method=order.get("shipping_method") or "",
                                     shipped_at=shipped_at)
                             for p in order.get("packages") or () if p.get("tracking_number"))
            if packages:
                infos.append(TrackingInfo(sent.key, reference, packages))
        return infos

    def webhook_auth_ok(self, username: str, password: str) -> bool:
        """Whether a notification's Basic auth is the one set on this account (compared in
        constant time); False when the account has none set."""
        want_user = self.credentials.get("webhook_username", "")
        want_password = self.credentials.get("webhook_password", "")
        if not (want_user and want_password):
            return False
        return (hmac.compare_digest(username.encode(), want_user.encode())
                & hmac.compare_digest(password.encode(), want_password.encode()))

    @staticmethod
    def notification_tracking(body: dict[str, Any]) -> TrackingInfo:
        """A Shipment Notification (one per shipment, one tracking number per package) as
        tracking for the order under its ``order_key``."""
        shipped_at = parse_time(body.get("shipped_at"))
        carrier = body.get("carrier") or ""
        method = body.get("shipping_service") or body.get("shipping_method") or ""
        packages = tuple(Package(p["tracking_number"], carrier=carrier, ship_method=method,
                                 shipped_at=shipped_at)
                         for p in body.get("packages") or ()
                         if isinstance(p, dict) and p.get("tracking_number"))
        order_id = body.get("order_id")
        return TrackingInfo(str(body.get("order_key") or ""),
                            "" if order_id is None else str(order_id), packages)

    def cancel(self, order: SentOrder) -> None:
        current = self._find(order.key)
        if current is None:
            raise AdapterError(f"ShipMonk has no order {order.order_number or order.key}.",
                               transient=False)
        if current.get("order_status") == "cancelled":
            return
        body = {f: current.get(f) for f in ORDER_FIELDS} | {"status": "cancelled"}
        response = self.http.call("POST", "/order", json=body)
        if response.status_code not in (200, 201):
            raise refusal_error(response, self.name, "cancel the order")
