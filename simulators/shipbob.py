"""ShipBob's API, simulated in both versions an account can use: ``2026-01`` (current),
checked against ShipBob's own OpenAPI document (``contracts/shipbob-openapi-2026-01.json``),
and the deprecated ``1.0`` (no document is published for it; its requests keep the checks
below and it answers the same order and shipment models).

As documented:

- ``Authorization: Bearer <personal access token>``; the ``shipbob_channel_id`` header is
  required on create and must name a channel of the token with write access
  (``GET /{v}/channel`` lists them with their scopes: a list in 1.0, ``{"items", "next",
  "prev"}`` in 2026-01).
- 150 requests a minute per token, sliding; every authenticated answer carries
  ``x-remaining-calls``; over the limit: 429 with ``x-retry-after`` and
  ``{"statusCode": 429, "message": "Rate limit is exceeded. Try again in N seconds."}``.
- ``POST /{v}/order`` → 201 with the order (``Orders.OrderViewModel``, every property
  present). Required: ``reference_id`` (1–300 characters), ``shipping_method``,
  ``recipient{name, address{address1, city, country}}``, ``products[{reference_id, name,
  quantity}]``, ``type``. A request 2026-01's document rejects is a 400 ``{field:
  [messages]}``; 1.0's validation errors are ASP.NET problem details.
- The same ``reference_id`` on the same channel → 422
  ``{"": ["Cannot insert order with existing ReferenceId"]}`` (another channel may reuse it).
- ``GET /{v}/order?ReferenceIds=&Page=&Limit=`` lists orders (of the channel in
  ``shipbob_channel_id`` when given), pages linked by a ``next-page`` header. Query parameter
  names are case-insensitive (``referenceids``, ``limit`` work too).
- ``GET /{v}/order/{id}/shipment``: the order's shipments (``Orders.ShipmentViewModel``),
  each with ``status`` (``Processing``, ``Completed``, ``Exception``, ``OnHold``,
  ``Cancelled``...), ``status_details`` (200 awaiting pickup, 201 in transit, 202 out for
  delivery, 203 delivered, 204 delivery exception) and ``tracking``.
- Cancel: ``POST /1.0/order/{id}/cancel`` or ``POST /2026-01/order/{id}:cancel`` →
  ``{"order_id", "order", "status", "canceled_shipment_results": [{"action", "is_success",
  "reason", "shipment_id"}]}``.
- A bad order is accepted (an unknown product reference id becomes a new product) and the
  warehouse then raises it: shipment ``Exception`` for a product without inventory or
  short stock, ``OnHold`` for an address it cannot ship to, each with an
  ``order.shipment.exception`` / ``order.shipment.on_hold`` webhook.

Unconfirmed, chosen here as the nearest documented behaviour:

- 401 has an empty body; a missing ``shipbob_channel_id`` is a 400; a channel the token
  cannot write to is 403 ``{"message": ...}``; an unknown order id is 404;
- server errors are ``{"statusCode": 500, "message": "An internal server error occurred."}``;
- the status details of a raised order: ``ProductNotFound`` (a reference id ShipBob did not
  know, created by the order, no inventory), ``OutOfStock`` (short stock) and
  ``InvalidAddress`` (an impossible postal code), each with a ``description`` naming the SKU
  or the address; the warehouse raises it ``process_delay`` seconds after the order arrives
  (0: at the next read) or when told (``POST /_control/process {"key"}``, answering the
  webhook body); stock is not consumed;
- a delivered shipment carries its time in ``delivery_date``; ``next-page`` is a path
  from the server root; headers with "_" in their names only reach the simulator through
  ``common.serve`` (werkzeug's own server drops them).

Webhooks (current versions): ``POST /_control/webhook {"key", "topic", "secret",
"tracking_number"}`` answers ``{"headers", "body"}``, the delivery ShipBob would POST for
``topic`` about the order under ``key``, signed with ``secret`` (``whsec_…``) the
Standard-Webhooks way (``webhook-id``, ``webhook-timestamp``, ``webhook-signature: v1,…``,
and the topic in ``x-webhook-topic``). The body is the resource as the GET endpoints show
it: the order for ``order.shipped``, the shipment (the one carrying ``tracking_number``,
else the first) for ``order.shipment.*``. ``order.shipment.exception`` (after shipping: a
delivery exception) and ``order.shipment.cancelled`` put that shipment in Exception or
Cancelled first. Bodies are checked against the webhook document and the REST models.
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
from werkzeug.datastructures import MultiDict

from simulators.common import (
    UNDERSCORE_HEADERS,
    RateDecision,
    SimulatedHouse,
    install,
    json_error,
    main,
    postal_code_ok,
    utcnow,
)
from simulators.contract import Contract

CONTRACT = Contract("shipbob-openapi-2026-01.json", "shipbob-webhooks-asyncapi.yml")
CURRENT = "2026-01"
VERSIONS = ("1.0", CURRENT)
DUPLICATE = "Cannot insert order with existing ReferenceId"
#: every query parameter name the document gives, by its lower-case spelling
QUERY_NAMES = {p["name"].lower(): p["name"] for item in CONTRACT.document["paths"].values()
               for op in item.values() if isinstance(op, dict)
               for p in op.get("parameters", []) if p.get("in") == "query"}


def _problem(errors: dict[str, list[str]]) -> Response:
    return json_error(400, {"type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
                            "title": "One or more validation errors occurred.", "status": 400,
                            "errors": errors})


def _not_found() -> Response:
    """ASP.NET's 404 problem details (the document says a 404 carries a body)."""
    return json_error(404, {"type": "https://tools.ietf.org/html/rfc7231#section-6.5.4",
                            "title": "Not Found", "status": 404})


def channel_header(req) -> str | None:
    return req.environ.get(UNDERSCORE_HEADERS, {}).get("shipbob_channel_id")


def query(req) -> MultiDict:
    """The query with ShipBob's own spelling of each name: its names are case-insensitive."""
    return MultiDict([(QUERY_NAMES.get(name.lower(), name), value)
                      for name, value in req.args.items(multi=True)])


def _now() -> str:
    return utcnow().isoformat(timespec="seconds")


class ShipBobHouse(SimulatedHouse):
    contract = CONTRACT

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

    def contract_path(self, req) -> str | None:
        """Only 2026-01 has a published document; 1.0 requests are checked by hand."""
        return req.path if req.path.startswith(f"/{CURRENT}/") else None

    def contract_query(self, req):
        return query(req)

    def contract_error(self, problems: list[str]) -> Response:
        """2026-01's 400: ``{field: [messages]}``, the field as a dotted path (``$`` for the
        body as a whole); a route the document does not have is a 404."""
        if CONTRACT.operation(request.method, request.path) is None:
            return _not_found()
        errors: dict[str, list[str]] = {}
        for line in problems:
            text = line.strip()
            if line.startswith("  "):  # one schema error of the line above
                where, _, message = text.partition(": ")
                key = "$" if where == "(root)" else where.replace("/", ".")
            elif " parameter " in text and ": " in text:
                named, _, message = text.partition(": ")
                key = named.rsplit(" ", 1)[-1]
            else:
                key, message = "$", text
            errors.setdefault(key, []).append(message)
        return json_error(400, errors)

    # ------------------------------------------------------------ orders (1.0 checks)

    @staticmethod
    def validation_errors(body: Any) -> dict[str, list[str]]:
        """What 1.0 refuses in a create body (2026-01's document does this for 2026-01)."""
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

    # ------------------------------------------------------------ orders

    def create(self, channel_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """Accept the order (every one: the warehouse raises bad ones later, ``process``)."""
        order = CONTRACT.blank("Orders.OrderViewModel")
        channel = self.channels[channel_id]
        order.update(
            id=self._new_id(), created_date=_now(), purchase_date=body.get("purchase_date"),
            reference_id=body["reference_id"], order_number=body.get("order_number"),
            status="Processing", type=body.get("type", "DTC"),
            channel={"id": channel_id, "name": channel["name"]},
            shipping_method=body["shipping_method"], recipient=self._recipient(body),
            products=[self._product(p) for p in body["products"]], tags=body.get("tags") or [],
            gift_message=body.get("gift_message"))
        order["shipments"] = [self._shipment(order, [
            {"id": line["id"], "reference_id": line["reference_id"], "sku": line["reference_id"],
             "name": given.get("name"), "inventory_items": []}
            for line, given in zip(order["products"], body["products"], strict=True)])]
        self.orders[order["id"]] = order
        self.by_reference[(channel_id, body["reference_id"])] = order["id"]
        self.creations[body["reference_id"]] += 1
        self.schedule(body["reference_id"])
        return order

    @staticmethod
    def _recipient(body: dict[str, Any]) -> dict[str, Any]:
        given = body["recipient"]
        address = CONTRACT.blank("Orders.AddressViewModel")
        address.update({k: v for k, v in (given.get("address") or {}).items() if k in address})
        return {"name": given["name"], "address": address, "email": given.get("email"),
                "phone_number": given.get("phone_number")}

    def _product(self, given: dict[str, Any]) -> dict[str, Any]:
        product = CONTRACT.blank("Orders.ProductInfoViewModel")
        product.update({k: v for k, v in given.items() if k in product}, id=self._new_id(),
                       sku=given.get("reference_id"))
        return product

    def _shipment(self, order: dict[str, Any], products: list[dict[str, Any]]
                  ) -> dict[str, Any]:
        shipment = CONTRACT.blank("Orders.ShipmentViewModel")
        recipient = order["recipient"]
        shipment.update(
            id=self._new_id(), order_id=order["id"], reference_id=order["reference_id"],
            created_date=_now(), last_update_at=_now(), status="Processing", status_details=[],
            location={"id": 10, "name": "Cicero (IL)"}, ship_option=order["shipping_method"],
            recipient={"name": recipient["name"], "full_name": recipient["name"],
                       "address": recipient["address"], "email": recipient["email"],
                       "phone_number": recipient["phone_number"]},
            products=products)
        return shipment

    def find(self, key: str) -> dict[str, Any]:
        for (_, reference), order_id in self.by_reference.items():
            if reference == key:
                return self.orders[order_id]
        raise LookupError(f"No order with reference_id {key}.")

    def process(self, key: str) -> dict[str, Any]:
        """The warehouse looks at the order: an address it cannot ship to puts the shipment
        On Hold, a product without inventory or short stock raises an Exception. Returns
        the shipment, the body of the ``order.shipment.*`` webhook ShipBob sends for it."""
        self.due.pop(key, None)
        order = self.find(key)
        shipment = order["shipments"][0]
        if order["status"] != "Processing" or shipment["status"] != "Processing":
            return shipment
        address = order["recipient"]["address"]
        details = []
        if not postal_code_ok(address.get("country") or "", address.get("zip_code") or ""):
            details.append(("OnHold", "InvalidAddress",
                            f"Invalid address: zip code '{address.get('zip_code')}' does not "
                            f"exist in {address.get('country')}."))
        for product in order["products"]:
            sku, quantity = product["reference_id"], product["quantity"]
            problem = self.stock_problem(sku, quantity)
            if problem == "unknown":
                details.append(("Exception", "ProductNotFound",
                                f"Product '{sku}' was created by this order and has no "
                                "inventory at any fulfillment center."))
            elif problem == "stock":
                details.append(("Exception", "OutOfStock",
                                f"Out of stock: '{sku}' has {self.products[sku]} on hand, "
                                f"{quantity} ordered."))
        if details:
            shipment.update(status=details[0][0], last_update_at=_now(), status_details=[
                {"id": 100 + i, "name": name, "description": text, "inventory_id": None,
                 "exception_fulfillment_center_id": 10,
                 "extra_information": {"validation_messages": [text]}}
                for i, (_, name, text) in enumerate(details)])
            order["status"] = "Exception"
        topic = "on_hold" if shipment["status"] == "OnHold" else "exception"
        self.check_webhook(f"order.shipment.{topic}", shipment)
        return shipment

    @staticmethod
    def check_webhook(topic: str, resource: dict[str, Any]) -> None:
        """A webhook body must fit the webhook document and the REST model it mirrors."""
        CONTRACT.check_webhook(topic, resource)
        CONTRACT.check_schema("Orders.OrderViewModel" if "shipments" in resource
                              else "Orders.ShipmentViewModel", resource)

    # ------------------------------------------------------------ control

    def ship(self, key: str, packages: list[dict[str, Any]]) -> dict[str, Any]:
        order = self.find(key)
        self.process(key)
        if order["status"] == "Cancelled":
            raise ValueError("A cancelled order cannot ship.")
        if order["status"] == "Exception":
            raise ValueError("An order in Exception cannot ship.")
        if not packages:
            raise ValueError("Give at least one package.")
        open_shipments = [s for s in order["shipments"] if s["status"] == "Processing"]
        for package in packages:
            shipment = open_shipments.pop(0) if open_shipments else self._shipment(
                order, order["shipments"][0]["products"])
            if shipment not in order["shipments"]:
                order["shipments"].append(shipment)
            number = package["tracking_number"]
            shipment.update(status="Completed", last_update_at=_now(), status_details=[
                {"id": 201, "name": "InTransit", "description": "In transit"}], tracking={
                "carrier": package.get("carrier", "USPS"), "tracking_number": number,
                "carrier_service": package.get("service", "Ground Advantage"),
                "tracking_url": f"https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
                "shipping_date": _now(), "bol": None, "pro_number": None, "scac": None},
                actual_fulfillment_date=_now(), last_tracking_update_at=_now())
        order["status"] = "Fulfilled"
        return order

    def deliver(self, key: str, tracking_number: str) -> dict[str, Any]:
        for shipment in self.find(key)["shipments"]:
            if (shipment["tracking"] or {}).get("tracking_number") == tracking_number:
                shipment.update(status_details=[
                    {"id": 203, "name": "Delivered", "description": "Delivered"}],
                    delivery_date=_now(), last_tracking_update_at=_now())
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
            self.check_webhook(topic, order)
            return order
        shipment = next((s for s in order["shipments"]
                         if (s["tracking"] or {}).get("tracking_number") == tracking_number),
                        order["shipments"][0])
        if topic == "order.shipment.exception" and shipment["status"] == "Completed":
            shipment.update(status="Exception", status_details=[
                {"id": 204, "name": "DeliveryException",
                 "description": "Delivery exception: address not accessible"}])
        elif topic == "order.shipment.cancelled":
            shipment["status"] = "Cancelled"
        self.check_webhook(topic, shipment)
        return shipment

    def cancel(self, order_id: int) -> dict[str, Any] | None:
        """Cancel every shipment that has not left; None for an unknown order."""
        order = self.orders.get(order_id)
        if order is None:
            return None
        results = []
        for shipment in order["shipments"]:
            ok = shipment["status"] in ("Processing", "Exception", "OnHold", "Cancelled")
            reason = {"Cancelled": "Shipment was already cancelled."}.get(
                shipment["status"], "Shipment cancelled." if ok else
                "Shipment has already left the warehouse.")
            if ok:
                shipment["status"] = "Cancelled"
            results.append({"action": "Cancel", "is_success": ok, "reason": reason,
                            "shipment_id": shipment["id"]})
        if all(s["status"] == "Cancelled" for s in order["shipments"]):
            order["status"] = "Cancelled"
        done = [r["is_success"] for r in results]
        status = "Success" if all(done) else "PartialSuccess" if any(done) else "Failure"
        return {"order_id": order_id, "order": order, "status": status,
                "canceled_shipment_results": results}


#: topics ``/_control/webhook`` can deliver
TOPICS = ("order.shipped", "order.shipment.delivered", "order.shipment.exception",
          "order.shipment.on_hold", "order.shipment.cancelled")


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
               products: dict[str, int] | None = None,
               rate_limit: int = 150, rate_window: float = 60.0, rate_limited: bool = True,
               clock: Callable[[], float] = time.monotonic) -> Flask:
    """A ShipBob account with one personal access token and ``channels`` (id, name,
    scopes), served under ``/1.0`` and ``/2026-01``, its warehouse holding ``products``."""
    house = ShipBobHouse(token=token, channels=channels, products=products,
                         rate_limit=rate_limit, rate_window=rate_window,
                         rate_limited=rate_limited, clock=clock)
    app = Flask(__name__)
    install(app, house)

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

    for version in VERSIONS:
        app.register_blueprint(_api(house, version))
    return app


def _api(house: ShipBobHouse, version: str) -> Blueprint:
    """The order routes of one API version."""
    api = Blueprint(f"shipbob_{version.replace('.', '_').replace('-', '_')}", __name__,
                    url_prefix=f"/{version}")
    current = version == CURRENT

    @api.get("/channel")
    def channels_list():
        items = [{"id": c["id"], "name": c["name"], "application_name": "SMA",
                  "scopes": list(c["scopes"])} for c in house.channels.values()]
        return {"items": items, "next": None, "prev": None} if current else items

    @api.post("/order")
    def create_order():
        raw_channel = channel_header(request)
        if not raw_channel:
            message = ["The shipbob_channel_id header is required."]
            return (json_error(400, {"shipbob_channel_id": message}) if current
                    else _problem({"shipbob_channel_id": message}))
        channel = house.channels.get(int(raw_channel)) if raw_channel.isdigit() else None
        if channel is None or "orders_write" not in channel["scopes"]:
            return json_error(403, {"message": f"Channel {raw_channel} is not accessible with "
                                               "write access for this token."})
        body = request.get_json(silent=True)
        if not current:
            errors = house.validation_errors(body)
            if errors:
                return _problem(errors)
        with house.lock:
            if (channel["id"], body["reference_id"]) in house.by_reference:
                return json_error(422, {"": [DUPLICATE]})
            return house.create(channel["id"], body), 201

    @api.get("/order")
    def list_orders():
        args = query(request)
        wanted = {v for raw in args.getlist("ReferenceIds") for v in raw.split(",") if v}
        raw_channel = channel_header(request)
        page = max(args.get("Page", 1, type=int), 1)
        limit = min(max(args.get("Limit", 50, type=int), 1), 250)
        with house.lock:
            house.process_due()
            rows = [o for o in house.orders.values()
                    if (not wanted or o["reference_id"] in wanted)
                    and (not raw_channel or str(o["channel"]["id"]) == raw_channel)]
        headers = {}
        if page * limit < len(rows):
            following = args.to_dict(flat=False) | {"Page": [str(page + 1)]}
            headers["next-page"] = (f"{api.url_prefix}/order?"
                                    + urllib.parse.urlencode(following, doseq=True))
        headers["total-pages"] = str(max(math.ceil(len(rows) / limit), 1))
        return rows[(page - 1) * limit:page * limit], 200, headers

    @api.get("/order/<int:order_id>")
    def get_order(order_id: int):
        with house.lock:
            house.process_due()
            order = house.orders.get(order_id)
        return order if order else _not_found()

    @api.get("/order/<int:order_id>/shipment")
    def shipments(order_id: int):
        with house.lock:
            house.process_due()
            order = house.orders.get(order_id)
        return order["shipments"] if order else _not_found()

    def cancel(order_id: int):
        with house.lock:
            result = house.cancel(order_id)
        return result if result else _not_found()

    rule = "/order/<int:order_id>:cancel" if current else "/order/<int:order_id>/cancel"
    api.add_url_rule(rule, "cancel", cancel, methods=["POST"])
    return api


if __name__ == "__main__":
    main(create_app, prog="ShipBob", default_port=8102, api_path=f"/{CURRENT}",
         credentials="Bearer sb-personal-access-token, channel 401 (402 is read-only)")
