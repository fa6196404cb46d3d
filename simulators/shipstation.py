"""ShipStation API v1, simulated (base URL = the server's root, like
``https://ssapi.shipstation.com``).

As documented:

- HTTP Basic, API key as user and API secret as password; anything else is 401.
- 40 requests a minute per key, in fixed windows. Every authenticated answer carries
  ``X-Rate-Limit-Limit``, ``X-Rate-Limit-Remaining`` and ``X-Rate-Limit-Reset`` (seconds to
  the window's end); over the limit: 429 ``{"message": "Too Many Requests"}``.
- Server errors: 500 ``{"Message": "An error has occurred.", "ExceptionMessage", "ExceptionType"}``.
- ``POST /orders/createorder`` (one order, answers the order) and ``POST /orders/createorders``
  (a list of at most 100, answers ``{"hasErrors", "results": [{"orderId", "orderNumber",
  "orderKey", "success", "errorMessage"}]}``). ``orderKey`` is the upsert key: the same key
  replaces the order while it is open; shipped and cancelled orders cannot be changed.
  Without ``orderKey`` ShipStation makes one up, so a resend creates a second order.
- ``GET /orders?orderNumber=&storeId=&orderStatus=&sortBy=&sortDir=&page=&pageSize=`` →
  ``{orders, total, page, pages}``; ``GET /orders/{orderId}``; ``DELETE /orders/{orderId}``;
  ``GET /stores``.
- ``GET /shipments?orderNumber=`` (labels made in ShipStation) and
  ``GET /fulfillments?orderNumber=`` (orders marked shipped elsewhere), each row with
  ``trackingNumber``, ``carrierCode``, ``serviceCode``, ``shipDate``, ``voided``.

Unconfirmed, chosen here as the nearest documented behaviour:

- the 401 body is plain text ``401 Unauthorized``; an unknown order id is 404
  ``{"Message": "Order not found."}``;
- a malformed body (a required field of ``orderNumber``, ``orderDate``, ``orderStatus``,
  ``billTo``, ``shipTo`` missing, or an unknown ``orderStatus``) refuses the whole request:
  400 ``{"Message": "The request is invalid.", "ModelState": {"apiOrders[i].field": [...]}}``,
  as ASP.NET model binding does;
- ShipStation itself accepts any SKU and address; the refusals a warehouse behind it makes
  (unknown SKU, short stock, an impossible postal code, an unknown ``storeId``) come back
  as a failed result with an ``errorMessage`` and no ``orderId``. Stock is not consumed;
- a resend to a shipped or cancelled order fails with an ``errorMessage`` but names the
  existing ``orderId``;
- ``orderNumber`` filters match exactly; only fulfillments carry a ``deliveryDate``
  (set by ``/_control/deliver``).

``/_control/ship`` takes packages ``{"tracking_number", "carrier", "service",
"via": "shipment"|"fulfillment", "voided": false}`` and answers, under ``webhooks``, the
bodies ShipStation would POST to a ``SHIP_NOTIFY`` (labels) or ``FULFILLMENT_SHIPPED``
(fulfillments) subscriber: only ``{"resource_url", "resource_type"}``, the URL naming the
notification's ``batchId`` on this server (``/shipments?storeID=&batchId=``), as the real
ones do. Reading it needs the account's Basic auth like any other call.
"""
from __future__ import annotations

import base64
import hmac
import math
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Callable

from flask import Flask, Response, request

from simulators.common import (
    RateDecision,
    SimulatedHouse,
    install,
    json_error,
    main,
    postal_code_ok,
)

STATUSES = ("awaiting_payment", "awaiting_shipment", "pending_fulfillment", "shipped",
            "on_hold", "cancelled")
CLOSED = ("shipped", "cancelled")
REQUIRED = ("orderNumber", "orderDate", "orderStatus", "billTo", "shipTo")
MAX_BATCH = 100


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


class ShipStationHouse(SimulatedHouse):
    def __init__(self, *, api_key: str, api_secret: str, store_ids: tuple[int, ...],
                 **options: Any):
        super().__init__(**options)
        self.api_key = api_key
        self.api_secret = api_secret
        self.store_ids = store_ids
        self.reset()

    def reset(self) -> None:
        with self.lock:
            super().reset()
            self.orders: dict[int, dict[str, Any]] = {}
            self.by_key: dict[str, int] = {}
            self.shipments: list[dict[str, Any]] = []
            self.fulfillments: list[dict[str, Any]] = []
            self._next_id = 100001

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    # ------------------------------------------------------------ gate

    def caller(self, req) -> str | None:
        header = req.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None
        ok = (hmac.compare_digest(user, self.api_key)
              & hmac.compare_digest(password, self.api_secret))
        return user if ok else None

    def unauthorized(self) -> Response:
        return Response("401 Unauthorized", 401, {"WWW-Authenticate": 'Basic realm="ShipStation"'},
                        content_type="text/plain")

    def rate_headers(self, decision: RateDecision) -> dict[str, str]:
        return {"X-Rate-Limit-Limit": str(decision.limit),
                "X-Rate-Limit-Remaining": str(decision.remaining),
                "X-Rate-Limit-Reset": str(decision.reset)}

    def too_many_requests(self, decision: RateDecision) -> Response:
        return json_error(429, {"message": "Too Many Requests"}, self.rate_headers(decision))

    def server_error(self, status: int) -> Response:
        return json_error(status, {"Message": "An error has occurred.",
                                   "ExceptionMessage": "The service is temporarily unavailable.",
                                   "ExceptionType": "System.Exception", "StackTrace": None})

    # ------------------------------------------------------------ orders

    @staticmethod
    def model_errors(body: Any, prefix: str) -> dict[str, list[str]]:
        """ASP.NET-style ModelState entries for a body that cannot be an order."""
        if not isinstance(body, dict):
            return {prefix: ["An order object is required."]}
        errors = {f"{prefix}.{name}": [f"The {name[0].upper()}{name[1:]} field is required."]
                  for name in REQUIRED if body.get(name) in (None, "", {})}
        status = body.get("orderStatus")
        if status and status not in STATUSES:
            errors[f"{prefix}.orderStatus"] = [
                f"The value '{status}' is not valid for OrderStatus."]
        for i, item in enumerate(body.get("items") or []):
            if not isinstance(item, dict) or not isinstance(item.get("quantity", 0), int):
                errors[f"{prefix}.items[{i}]"] = ["The item is invalid."]
        return errors

    def _refusal(self, body: dict[str, Any]) -> str | None:
        """What the warehouse behind the account refuses about this order, if anything."""
        store = (body.get("advancedOptions") or {}).get("storeId")
        if store is not None and store not in self.store_ids:
            return f"Invalid storeId {store}: no such store on this account."
        ship_to = body["shipTo"]
        country, code = ship_to.get("country") or "", ship_to.get("postalCode") or ""
        if not ship_to.get("street1") or not ship_to.get("city"):
            return "Ship-to address is incomplete: street1 and city are required."
        if not postal_code_ok(country, code):
            return f"Ship-to postal code '{code}' is not valid for country {country}."
        for item in body.get("items") or []:
            sku, quantity = item.get("sku") or "", int(item.get("quantity") or 0)
            problem = self.stock_problem(sku, quantity)
            if problem == "unknown":
                return (f"Item SKU '{sku}' was not found in the fulfillment provider's "
                        "product catalog.")
            if problem == "stock":
                return (f"Insufficient stock for SKU '{sku}': {self.products[sku]} available, "
                        f"{quantity} requested.")
        return None

    def upsert(self, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Create or replace one order; the result row and the stored order (None on failure)."""
        key = body.get("orderKey") or uuid.uuid4().hex
        result = {"orderId": None, "orderNumber": body["orderNumber"], "orderKey": key,
                  "success": False, "errorMessage": None}
        existing = self.orders.get(self.by_key.get(key, 0))
        if existing and existing["orderStatus"] in CLOSED:
            result.update(orderId=existing["orderId"], errorMessage=(
                f"Order {existing['orderNumber']} is {existing['orderStatus']} and can no longer "
                "be updated."))
            return result, None
        refusal = self._refusal(body)
        if refusal:
            result["errorMessage"] = refusal
            return result, None
        now = _stamp(datetime.now(timezone.utc))
        options = dict(body.get("advancedOptions") or {})
        options.setdefault("storeId", self.store_ids[0])
        order = {**body, "orderKey": key, "advancedOptions": options, "modifyDate": now}
        if existing:
            order.update(orderId=existing["orderId"], createDate=existing["createDate"])
        else:
            order.update(orderId=self._new_id(), createDate=now)
            self.creations[key] += 1
        self.orders[order["orderId"]] = order
        self.by_key[key] = order["orderId"]
        result.update(orderId=order["orderId"], success=True)
        return result, order

    def find_by_key(self, key: str) -> dict[str, Any]:
        order = self.orders.get(self.by_key.get(key, 0))
        if order is None:
            raise LookupError(f"No order with orderKey {key}.")
        return order

    # ------------------------------------------------------------ control

    def ship(self, key: str, packages: list[dict[str, Any]]) -> dict[str, Any]:
        order = self.find_by_key(key)
        if order["orderStatus"] == "cancelled":
            raise ValueError("A cancelled order cannot ship.")
        if not packages:
            raise ValueError("Give at least one package.")
        today = datetime.now(timezone.utc).date().isoformat()
        batch = self._new_id()
        vias = set()
        for package in packages:
            via = package.get("via", "shipment")
            if via not in ("shipment", "fulfillment"):
                raise ValueError('via is "shipment" or "fulfillment"')
            row = {"orderId": order["orderId"], "orderNumber": order["orderNumber"],
                   "trackingNumber": package["tracking_number"],
                   "carrierCode": package.get("carrier", "ups"),
                   "serviceCode": package.get("service", "ups_ground"),
                   "shipDate": today, "voided": bool(package.get("voided", False)),
                   "batchId": batch}
            vias.add(via)
            if via == "shipment":
                row.update(shipmentId=self._new_id(), orderKey=key,
                           createDate=_stamp(datetime.now(timezone.utc)))
                self.shipments.append(row)
            else:
                row.update(fulfillmentId=self._new_id(), deliveryDate=None,
                           createDate=_stamp(datetime.now(timezone.utc)))
                self.fulfillments.append(row)
        order.update(orderStatus="shipped", shipDate=today,
                     modifyDate=_stamp(datetime.now(timezone.utc)))
        store = order["advancedOptions"]["storeId"]
        webhooks = [{"resource_url": f"{request.host_url}{listing}?storeID={store}"
                                     f"&batchId={batch}&includeShipmentItems=False",
                     "resource_type": kind}
                    for via, listing, kind in (("shipment", "shipments", "SHIP_NOTIFY"),
                                               ("fulfillment", "fulfillments",
                                                "FULFILLMENT_SHIPPED"))
                    if via in vias]
        return {"orderId": order["orderId"], "orderStatus": "shipped", "webhooks": webhooks}

    def deliver(self, key: str, tracking_number: str) -> dict[str, Any]:
        order = self.find_by_key(key)
        for row in self.fulfillments:
            if row["orderId"] == order["orderId"] and row["trackingNumber"] == tracking_number:
                row["deliveryDate"] = _stamp(datetime.now(timezone.utc))
                return row
        raise LookupError(f"No fulfillment {tracking_number} on order {key}; only fulfillments "
                          "carry a delivery date.")


def _page(rows: list[dict[str, Any]], name: str, default_size: int = 100) -> dict[str, Any]:
    page = max(request.args.get("page", 1, type=int), 1)
    size = min(max(request.args.get("pageSize", default_size, type=int), 1), 500)
    start = (page - 1) * size
    return {name: rows[start:start + size], "total": len(rows), "page": page,
            "pages": max(math.ceil(len(rows) / size), 1)}


def create_app(*, api_key: str = "ss-api-key",
               api_secret: str = "ss-api-secret",  # noqa: S107 - the simulator's public demo secret
               store_ids: tuple[int, ...] = (310001,), products: dict[str, int] | None = None,
               rate_limit: int = 40, rate_window: float = 60.0, rate_limited: bool = True,
               clock: Callable[[], float] = time.monotonic) -> Flask:
    """A ShipStation account with one key pair, ``store_ids`` and a warehouse holding
    ``products`` (SKU -> units; ``common.DEFAULT_PRODUCTS`` when None)."""
    house = ShipStationHouse(api_key=api_key, api_secret=api_secret, store_ids=store_ids,
                             products=products, rate_limit=rate_limit, rate_window=rate_window,
                             rate_limited=rate_limited, clock=clock)
    app = Flask(__name__)
    install(app, house)

    def invalid(errors: dict[str, list[str]]) -> Response:
        return json_error(400, {"Message": "The request is invalid.", "ModelState": errors})

    @app.post("/orders/createorder")
    def create_order():
        body = request.get_json(silent=True)
        errors = house.model_errors(body, "apiOrder")
        if errors:
            return invalid(errors)
        with house.lock:
            result, order = house.upsert(body)
        if order is None:
            return json_error(400, {"Message": result["errorMessage"]})
        return order

    @app.post("/orders/createorders")
    def create_orders():
        body = request.get_json(silent=True)
        if not isinstance(body, list) or not body:
            return invalid({"apiOrders": ["A list of orders is required."]})
        if len(body) > MAX_BATCH:
            return invalid({"apiOrders": [f"At most {MAX_BATCH} orders can be created at once."]})
        errors = {}
        for i, order in enumerate(body):
            errors.update(house.model_errors(order, f"apiOrders[{i}]"))
        if errors:
            return invalid(errors)
        with house.lock:
            results = [house.upsert(order)[0] for order in body]
        return {"hasErrors": not all(r["success"] for r in results), "results": results}

    @app.get("/orders")
    def list_orders():
        args = request.args
        with house.lock:
            rows = list(house.orders.values())
        if args.get("orderNumber"):
            rows = [o for o in rows if o["orderNumber"] == args["orderNumber"]]
        if args.get("storeId"):
            rows = [o for o in rows if str(o["advancedOptions"]["storeId"]) == args["storeId"]]
        if args.get("orderStatus"):
            rows = [o for o in rows if o["orderStatus"] == args["orderStatus"]]
        sort_field = {"OrderDate": "orderDate", "ModifyDate": "modifyDate",
                      "CreateDate": "createDate"}.get(args.get("sortBy", ""), "orderId")
        rows.sort(key=lambda o: (str(o.get(sort_field)), o["orderId"]),
                  reverse=args.get("sortDir", "ASC").upper() == "DESC")
        return _page(rows, "orders")

    @app.get("/orders/<int:order_id>")
    def get_order(order_id: int):
        with house.lock:
            order = house.orders.get(order_id)
        return order if order else json_error(404, {"Message": "Order not found."})

    @app.delete("/orders/<int:order_id>")
    def delete_order(order_id: int):
        with house.lock:
            order = house.orders.pop(order_id, None)
            if order:
                house.by_key.pop(order["orderKey"], None)
        if order is None:
            return json_error(404, {"Message": "Order not found."})
        return {"success": True, "message": "The requested order has been deleted."}

    @app.get("/stores")
    def stores():
        return [{"storeId": sid, "storeName": f"Store {sid}", "marketplaceId": 0,
                 "marketplaceName": "ShipStation", "active": True} for sid in house.store_ids]

    def shipped_rows(rows: list[dict[str, Any]], name: str):
        with house.lock:
            rows = list(rows)
        for arg in ("orderNumber", "orderId", "trackingNumber", "batchId"):
            if request.args.get(arg):
                rows = [r for r in rows if str(r[arg]) == request.args[arg]]
        return _page(rows, name)

    @app.get("/shipments")
    def shipments():
        return shipped_rows(house.shipments, "shipments")

    @app.get("/fulfillments")
    def fulfillments():
        return shipped_rows(house.fulfillments, "fulfillments")

    return app


if __name__ == "__main__":
    main(create_app, prog="ShipStation", default_port=8101, api_path="",
         credentials="Basic auth ss-api-key / ss-api-secret, store 310001")
