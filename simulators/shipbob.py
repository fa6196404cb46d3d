"""ShipBob's API, simulated under ``/{version}`` (default ``1.0``, as in
``https://api.shipbob.com/1.0``).

As documented:

- ``Authorization: Bearer <personal access token>``; the ``shipbob_channel_id`` header is
  required on create and must name a channel of the token with write access
  (``GET /channel`` lists them with their scopes).
- 150 requests a minute per token, sliding; every authenticated answer carries
  ``x-remaining-calls``; over the limit: 429 with ``x-retry-after`` and
  ``{"statusCode": 429, "message": "Rate limit is exceeded. Try again in N seconds."}``.
- ``POST /order`` → 201 with the order. Required: ``reference_id`` (1–300 characters),
  ``shipping_method``, ``recipient{name, address{address1, city, country, zip_code}}``,
  ``products[{reference_id, name, quantity}]``, ``type`` (``DTC``). Validation errors are
  ASP.NET problem details ``{"type", "title", "status", "errors": {field: [msg]}}``.
- The same ``reference_id`` on the same channel → 422
  ``{"": ["Cannot insert order with existing ReferenceId"]}`` (another channel may reuse it).
- ``GET /order?ReferenceIds=&Page=&Limit=`` lists orders (of the channel in
  ``shipbob_channel_id`` when given), pages linked by a ``next-page`` header.
- ``GET /order/{id}/shipment``: one shipment per package, each with ``status``
  (``Processing``, ``Completed``, ``Cancelled``...), ``status_details`` (200 awaiting pickup,
  201 in transit, 202 out for delivery, 203 delivered, 204 delivery exception) and
  ``tracking{carrier, tracking_number, carrier_service, tracking_url, shipping_date}``.
- ``POST /order/{id}/cancel`` → ``{"order_id", "order", "canceled_shipment_results":
  [{"action", "is_success", "reason", "shipment_id"}]}``.

Unconfirmed, chosen here as the nearest documented behaviour:

- 401 has an empty body; a missing ``shipbob_channel_id`` is a 400 problem detail; a channel
  the token cannot write to is 403 ``{"message": ...}``; an unknown order id is 404;
- server errors are ``{"statusCode": 500, "message": "An internal server error occurred."}``;
- the refusals a warehouse makes answer 422 in the duplicate's shape, keyed by field:
  ``Products[i].ReferenceId`` for an unknown SKU, ``Products[i].Quantity`` for short
  stock (the real ShipBob accepts such an order and puts it in Exception), and
  ``Recipient.Address.ZipCode`` for an impossible postal code. Stock is not consumed;
- a delivered shipment carries its time in ``delivery_date``; ``next-page`` is a path
  from the server root; headers with "_" in their names only reach the simulator through
  ``common.serve`` (werkzeug's own server drops them).

Webhooks (current versions): ``POST /_control/webhook {"key", "topic", "secret",
"tracking_number"}`` answers ``{"headers", "body"}``, the delivery ShipBob would POST for
``topic`` about the order under ``key``, signed with ``secret`` (``whsec_…``) the
Standard-Webhooks way (``webhook-id``, ``webhook-timestamp``, ``webhook-signature: v1,…``,
and the topic in ``x-webhook-topic``). The body is the resource as the GET endpoints show
it: the order for ``order.shipped``, the shipment (the one carrying ``tracking_number``,
else the first) for ``order.shipment.*``. ``order.shipment.exception`` and
``order.shipment.cancelled`` put that shipment in Exception or Cancelled first.
"""
from __future__ import annotations

import hmac
import json
import math
import time
import urllib.parse
import uuid
from datetime import datetime, timezone
from typing import Any, Callable

from flask import Blueprint, Flask, Response, request
from standardwebhooks import Webhook
from standardwebhooks.webhooks import EmptyWebhookSecretError

from simulators.common import (
    UNDERSCORE_HEADERS,
    RateDecision,
    SimulatedHouse,
    install,
    json_error,
    main,
    postal_code_ok,
)

DUPLICATE = "Cannot insert order with existing ReferenceId"


def _problem(errors: dict[str, list[str]]) -> Response:
    return json_error(400, {"type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
                            "title": "One or more validation errors occurred.", "status": 400,
                            "errors": errors})


def channel_header(req) -> str | None:
    return req.environ.get(UNDERSCORE_HEADERS, {}).get("shipbob_channel_id")


class ShipBobHouse(SimulatedHouse):
    def __init__(self, *, token: str, channels: tuple[dict[str, Any], ...], **options: Any):
        super().__init__(sliding_window=True, **options)
        self.token = token
        self.channels = {c["id"]: c for c in channels}
        self.reset()

    def reset(self) -> None:
        with self.lock:
            super().reset()
            self.orders: dict[int, dict[str, Any]] = {}
            self.by_reference: dict[tuple[int, str], int] = {}
            self._next_id = 700000

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    # ------------------------------------------------------------ gate

    def caller(self, req) -> str | None:
        header = req.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        return token if token and hmac.compare_digest(token, self.token) else None

    def unauthorized(self) -> Response:
        return Response(b"", 401, {"WWW-Authenticate": "Bearer"})

    def rate_headers(self, decision: RateDecision) -> dict[str, str]:
        return {"x-remaining-calls": str(decision.remaining)}

    def too_many_requests(self, decision: RateDecision) -> Response:
        return json_error(429, {"statusCode": 429, "message": "Rate limit is exceeded. Try again "
                                                              f"in {decision.reset} seconds."},
                          {"x-retry-after": str(decision.reset), **self.rate_headers(decision)})

    def server_error(self, status: int) -> Response:
        return json_error(status, {"statusCode": status,
                                   "message": "An internal server error occurred."})

    # ------------------------------------------------------------ orders

    @staticmethod
    def validation_errors(body: Any) -> dict[str, list[str]]:
        if not isinstance(body, dict):
            return {"$": ["The request body must be an order object."]}
        errors: dict[str, list[str]] = {}

        def need(value: Any, field: str) -> None:
            if value in (None, "", [], {}):
                errors[field] = [f"The {field.rsplit('.', 1)[-1]} field is required."]

        reference = body.get("reference_id")
        need(reference, "ReferenceId")
        if isinstance(reference, str) and len(reference) > 300:
            errors["ReferenceId"] = ["ReferenceId must be at most 300 characters."]
        need(body.get("shipping_method"), "ShippingMethod")
        if body.get("type", "DTC") not in ("DTC", "B2B", "DropShip"):
            errors["Type"] = [f"'{body['type']}' is not a valid order type."]
        recipient = body.get("recipient") or {}
        need(recipient, "Recipient")
        if recipient:
            need(recipient.get("name"), "Recipient.Name")
            address = recipient.get("address") or {}
            for field, name in (("address1", "Address1"), ("city", "City"),
                                ("country", "Country"), ("zip_code", "ZipCode")):
                need(address.get(field), f"Recipient.Address.{name}")
        products = body.get("products")
        need(products, "Products")
        for i, product in enumerate(products or []):
            if not isinstance(product, dict):
                errors[f"Products[{i}]"] = ["The product is invalid."]
                continue
            need(product.get("reference_id"), f"Products[{i}].ReferenceId")
            quantity = product.get("quantity")
            if not isinstance(quantity, int) or quantity < 1:
                errors[f"Products[{i}].Quantity"] = ["Quantity must be a whole number above 0."]
        return errors

    def refusal(self, body: dict[str, Any]) -> dict[str, list[str]] | None:
        address = body["recipient"]["address"]
        if not postal_code_ok(address["country"], address["zip_code"]):
            return {"Recipient.Address.ZipCode": [
                f"Invalid address: zip code '{address['zip_code']}' does not exist in "
                f"{address['country']}."]}
        for i, product in enumerate(body["products"]):
            sku, quantity = product["reference_id"], product["quantity"]
            problem = self.stock_problem(sku, quantity)
            if problem == "unknown":
                return {f"Products[{i}].ReferenceId": [
                    f"Product with reference id '{sku}' does not exist."]}
            if problem == "stock":
                return {f"Products[{i}].Quantity": [
                    f"Insufficient inventory for product '{sku}': {self.products[sku]} on hand, "
                    f"{quantity} ordered."]}
        return None

    def create(self, channel_id: int, body: dict[str, Any]) -> dict[str, Any]:
        order_id, now = self._new_id(), datetime.now(timezone.utc).isoformat()
        channel = self.channels[channel_id]
        order = {
            "id": order_id, "created_date": now, "purchase_date": body.get("purchase_date"),
            "reference_id": body["reference_id"], "order_number": body.get("order_number"),
            "status": "Processing", "type": body.get("type", "DTC"),
            "channel": {"id": channel_id, "name": channel["name"]},
            "shipping_method": body["shipping_method"], "recipient": body["recipient"],
            "products": [{"id": self._new_id(), **p} for p in body["products"]],
            "tags": body.get("tags") or [],
        }
        order["shipments"] = [self._shipment(order)]
        self.orders[order_id] = order
        self.by_reference[(channel_id, body["reference_id"])] = order_id
        self.creations[body["reference_id"]] += 1
        return order

    def _shipment(self, order: dict[str, Any]) -> dict[str, Any]:
        return {"id": self._new_id(), "order_id": order["id"],
                "reference_id": order["reference_id"], "recipient": order["recipient"],
                "created_date": datetime.now(timezone.utc).isoformat(), "status": "Processing",
                "status_details": [], "tracking": None, "delivery_date": None}

    def find(self, key: str) -> dict[str, Any]:
        for (_, reference), order_id in self.by_reference.items():
            if reference == key:
                return self.orders[order_id]
        raise LookupError(f"No order with reference_id {key}.")

    # ------------------------------------------------------------ control

    def ship(self, key: str, packages: list[dict[str, Any]]) -> dict[str, Any]:
        order = self.find(key)
        if order["status"] == "Cancelled":
            raise ValueError("A cancelled order cannot ship.")
        if not packages:
            raise ValueError("Give at least one package.")
        open_shipments = [s for s in order["shipments"] if s["status"] == "Processing"]
        for package in packages:
            shipment = open_shipments.pop(0) if open_shipments else self._shipment(order)
            if shipment not in order["shipments"]:
                order["shipments"].append(shipment)
            number = package["tracking_number"]
            shipment.update(status="Completed", status_details=[
                {"id": 201, "name": "InTransit", "description": "In transit"}], tracking={
                "carrier": package.get("carrier", "USPS"), "tracking_number": number,
                "carrier_service": package.get("service", "Ground Advantage"),
                "tracking_url": f"https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
                "shipping_date": datetime.now(timezone.utc).isoformat()})
        order["status"] = "Fulfilled"
        return order

    def deliver(self, key: str, tracking_number: str) -> dict[str, Any]:
        for shipment in self.find(key)["shipments"]:
            if (shipment["tracking"] or {}).get("tracking_number") == tracking_number:
                shipment.update(status_details=[
                    {"id": 203, "name": "Delivered", "description": "Delivered"}],
                    delivery_date=datetime.now(timezone.utc).isoformat())
                return shipment
        raise LookupError(f"No shipment {tracking_number} on order {key}.")

    def webhook_resource(self, key: str, topic: str, tracking_number: str | None = None
                         ) -> dict[str, Any]:
        """The body of a ``topic`` webhook about the order under ``key`` (see the module
        docstring); raises LookupError or ValueError."""
        if topic not in TOPICS:
            raise ValueError(f"topic must be one of {', '.join(TOPICS)}")
        order = self.find(key)
        if topic == "order.shipped":
            return order
        shipment = next((s for s in order["shipments"]
                         if (s["tracking"] or {}).get("tracking_number") == tracking_number),
                        order["shipments"][0])
        if topic == "order.shipment.exception":
            shipment.update(status="Exception", status_details=[
                {"id": 204, "name": "DeliveryException",
                 "description": "Delivery exception: address not accessible"}])
        elif topic == "order.shipment.cancelled":
            shipment["status"] = "Cancelled"
        return shipment


#: topics ``/_control/webhook`` can deliver
TOPICS = ("order.shipped", "order.shipment.delivered", "order.shipment.exception",
          "order.shipment.cancelled")


def signed_delivery(topic: str, resource: dict[str, Any], secret: str, *,
                    msg_id: str | None = None, timestamp: int | None = None
                    ) -> tuple[dict[str, str], bytes]:
    """The headers and raw body of a webhook delivery signed with ``secret`` (``whsec_…``)
    by the ``standardwebhooks`` package, as ShipBob signs them."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    body = json.dumps(resource, separators=(",", ":")).encode()
    signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(timestamp, timezone.utc),
                                     body.decode())
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": signature, "x-webhook-topic": topic,
            "content-type": "application/json"}, body


def create_app(*, token: str = "sb-personal-access-token",  # noqa: S107 - public demo token
               channels: tuple[dict[str, Any], ...] = (
                   {"id": 401, "name": "CRM Orders", "scopes": ("orders_read", "orders_write")},
                   {"id": 402, "name": "Reporting", "scopes": ("orders_read",)}),
               version: str = "1.0", products: dict[str, int] | None = None,
               rate_limit: int = 150, rate_window: float = 60.0, rate_limited: bool = True,
               clock: Callable[[], float] = time.monotonic) -> Flask:
    """A ShipBob account with one personal access token and ``channels`` (id, name,
    scopes), served under ``/{version}``, its warehouse holding ``products``."""
    house = ShipBobHouse(token=token, channels=channels, products=products,
                         rate_limit=rate_limit, rate_window=rate_window,
                         rate_limited=rate_limited, clock=clock)
    app = Flask(__name__)
    install(app, house)
    api = Blueprint("shipbob", __name__, url_prefix=f"/{version}")

    @app.post("/_control/webhook")
    def webhook():
        body = request.get_json(force=True)
        with house.lock:
            try:
                resource = house.webhook_resource(body["key"], body["topic"],
                                                  body.get("tracking_number"))
            except LookupError as exc:
                return json_error(404, {"error": str(exc).strip("'\"")})
            except ValueError as exc:
                return json_error(400, {"error": str(exc)})
            try:
                headers, raw = signed_delivery(body["topic"], resource, body["secret"])
            except (ValueError, EmptyWebhookSecretError):
                return json_error(400, {"error": "secret is not a whsec_… signing secret"})
        return {"headers": headers, "body": raw.decode()}

    @api.get("/channel")
    def channels_list():
        return [{"id": c["id"], "name": c["name"], "application_name": "SMA",
                 "scopes": list(c["scopes"])} for c in house.channels.values()]

    @api.post("/order")
    def create_order():
        raw_channel = channel_header(request)
        if not raw_channel:
            return _problem({"shipbob_channel_id": ["The shipbob_channel_id header is required."]})
        channel = house.channels.get(int(raw_channel)) if raw_channel.isdigit() else None
        if channel is None or "orders_write" not in channel["scopes"]:
            return json_error(403, {"message": f"Channel {raw_channel} is not accessible with "
                                               "write access for this token."})
        body = request.get_json(silent=True)
        errors = house.validation_errors(body)
        if errors:
            return _problem(errors)
        with house.lock:
            if (channel["id"], body["reference_id"]) in house.by_reference:
                return json_error(422, {"": [DUPLICATE]})
            refusal = house.refusal(body)
            if refusal:
                return json_error(422, refusal)
            return house.create(channel["id"], body), 201

    @api.get("/order")
    def list_orders():
        wanted = {v for raw in request.args.getlist("ReferenceIds") for v in raw.split(",") if v}
        raw_channel = channel_header(request)
        page = max(request.args.get("Page", 1, type=int), 1)
        limit = min(max(request.args.get("Limit", 50, type=int), 1), 250)
        with house.lock:
            rows = [o for o in house.orders.values()
                    if (not wanted or o["reference_id"] in wanted)
                    and (not raw_channel or str(o["channel"]["id"]) == raw_channel)]
        headers = {}
        if page * limit < len(rows):
            query = request.args.to_dict(flat=False) | {"Page": [str(page + 1)]}
            headers["next-page"] = (f"{api.url_prefix}/order?"
                                    + urllib.parse.urlencode(query, doseq=True))
        headers["total-pages"] = str(max(math.ceil(len(rows) / limit), 1))
        return rows[(page - 1) * limit:page * limit], 200, headers

    @api.get("/order/<int:order_id>")
    def get_order(order_id: int):
        with house.lock:
            order = house.orders.get(order_id)
        return order if order else Response(b"", 404)

    @api.get("/order/<int:order_id>/shipment")
    def shipments(order_id: int):
        with house.lock:
            order = house.orders.get(order_id)
        return order["shipments"] if order else Response(b"", 404)

    @api.post("/order/<int:order_id>/cancel")
    def cancel(order_id: int):
        with house.lock:
            order = house.orders.get(order_id)
            if order is None:
                return Response(b"", 404)
            results = []
            for shipment in order["shipments"]:
                ok = shipment["status"] in ("Processing", "Cancelled")
                reason = {"Processing": "Shipment cancelled.",
                          "Cancelled": "Shipment was already cancelled."}.get(
                    shipment["status"], "Shipment has already left the warehouse.")
                if shipment["status"] == "Processing":
                    shipment["status"] = "Cancelled"
                results.append({"action": "Cancel", "is_success": ok, "reason": reason,
                                "shipment_id": shipment["id"]})
            if all(s["status"] == "Cancelled" for s in order["shipments"]):
                order["status"] = "Cancelled"
            return {"order_id": order_id, "order": order, "canceled_shipment_results": results}

    app.register_blueprint(api)
    return app


if __name__ == "__main__":
    main(create_app, prog="ShipBob", default_port=8102, api_path="/1.0",
         credentials="Bearer sb-personal-access-token, channel 401 (402 is read-only)")
