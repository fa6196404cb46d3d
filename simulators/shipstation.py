"""ShipStation API v1, simulated (base URL = the server's root, like
``https://ssapi.shipstation.com``).

As documented (``shipstation-v1-openapi.yml`` for shapes, houses.md for time zone, hosts
and statuses):

- HTTP Basic, API key as user and API secret as password; anything else is 401.
- 40 requests a minute per key, in fixed windows. Every authenticated answer carries
  ``X-Rate-Limit-Limit``, ``X-Rate-Limit-Remaining`` and ``X-Rate-Limit-Reset`` (seconds to
  the window's end); over the limit: 429 ``{"message": "Too Many Requests"}``.
- Server errors: 500 ``{"Message": "An error has occurred.", "ExceptionMessage", "ExceptionType"}``.
- ``POST /orders/createorder`` (one order, answers the order) and ``POST /orders/createorders``
  (a list of at most 100, answers ``{"hasErrors", "results": [{"orderId", "orderNumber",
  "orderKey", "success", "errorMessage"}]}``). ``orderKey`` is the upsert key: the same key
  replaces the order while it is ``awaiting_payment``, ``awaiting_shipment`` or
  ``on_hold``; other orders cannot be changed. Without ``orderKey`` ShipStation makes one
  up, so a resend creates a second order.
- Orders are answered as the full Order model (every property, null where empty), never
  an echo of the request; shipments and fulfillments rows likewise.
- Every date-time is Pacific wall time (``America/Los_Angeles``, DST included) without
  an offset, read and written: ``orderDate`` is kept as sent, ``createDate``,
  ``modifyDate``, ``shipDate`` and ``deliveryDate`` are written in Pacific time.
- ``GET /orders?orderNumber=&storeId=&orderStatus=&sortBy=&sortDir=&page=&pageSize=`` →
  ``{orders, total, page, pages}``, ``orderNumber`` a starts-with search;
  ``GET /orders/{orderId}``; ``DELETE /orders/{orderId}``; ``GET /stores``.
- ``GET /shipments?orderNumber=`` (labels made in ShipStation) and
  ``GET /fulfillments?orderNumber=`` (orders marked shipped elsewhere), each row with
  ``trackingNumber``, ``carrierCode``, ``serviceCode``, ``shipDate``, ``voided``.
- ShipStation accepts any SKU and address. The warehouse (3PL) behind the account looks
  at each new order ``review_after`` seconds later (on the simulator's clock; at the next
  request by default, or at once with ``/_control/review``) and then, as houses.md's
  "What real houses do with a bad order" says, puts an order it has too little stock for
  ``on_hold`` and refuses one with an unknown SKU or an address it cannot ship to
  (``rejected_fulfillment``, announced by a ``FULFILLMENT_REJECTED`` webhook).

Unconfirmed, chosen here as the nearest documented behaviour:

- the 401 body is plain text ``401 Unauthorized``; an unknown order id is 404
  ``{"Message": "Order not found."}``;
- a malformed body (a required field of ``orderNumber``, ``orderDate``, ``orderStatus``,
  ``billTo``, ``shipTo`` missing, or an unknown ``orderStatus``) refuses the whole request:
  400 ``{"Message": "The request is invalid.", "ModelState": {"apiOrders[i].field": [...]}}``,
  as ASP.NET model binding does;
- an unknown ``storeId`` comes back as a failed result with an ``errorMessage`` and no
  ``orderId``; a change to an order that can no longer change fails with an
  ``errorMessage`` but names the existing ``orderId``;
- the warehouse writes why it holds or refused an order into the order's
  ``internalNotes`` (ShipStation documents no reason field); stock is not consumed;
- a ``FULFILLMENT_REJECTED`` ``resource_url`` lists the refused orders
  (``/orders?storeId=&orderNumber=&orderStatus=rejected_fulfillment``); only
  fulfillments carry a ``deliveryDate`` (set by ``/_control/deliver``).

``/_control/ship`` takes packages ``{"tracking_number", "carrier", "service",
"via": "shipment"|"fulfillment", "voided": false}`` and answers, under ``webhooks``, the
bodies ShipStation would POST to a ``SHIP_NOTIFY`` (labels) or ``FULFILLMENT_SHIPPED``
(fulfillments) subscriber: only ``{"resource_url", "resource_type"}``, the URL naming the
notification's ``batchId`` on this server (``/shipments?storeID=&batchId=``), as the real
ones do. Reading it needs the account's Basic auth like any other call.
``/_control/review`` runs the warehouse's review of every order not yet reviewed and
answers the ``FULFILLMENT_REJECTED`` bodies; ``/_control/status`` ``{"key", "status",
"note"}`` moves an order as the warehouse would (hand it to the 3PL as
``pending_fulfillment``, release a hold as ``awaiting_shipment``).
"""
from __future__ import annotations

import base64
import hmac
import math
import re
import time
import uuid
from datetime import datetime, timezone
from functools import partial
from typing import Any, Callable
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Flask, Response, request

from simulators.common import (
    RateDecision,
    SimulatedHouse,
    install,
    json_error,
    main,
    postal_code_ok,
)
from simulators.contract import Contract

STATUSES = ("awaiting_payment", "awaiting_shipment", "pending_fulfillment", "shipped",
            "on_hold", "cancelled", "rejected_fulfillment")
#: the statuses in which createorder may still change an order
CHANGEABLE = ("awaiting_payment", "awaiting_shipment", "on_hold")
REQUIRED = ("orderNumber", "orderDate", "orderStatus", "billTo", "shipTo")
MAX_BATCH = 100
PACIFIC = ZoneInfo("America/Los_Angeles")

#: every property of the document's models, null where an order has nothing for it
ADDRESS = ("name", "company", "street1", "street2", "street3", "city", "state", "postalCode",
           "country", "phone", "residential")
ORDER = ("orderId", "orderNumber", "orderKey", "orderDate", "createDate", "modifyDate",
         "paymentDate", "shipByDate", "orderStatus", "customerId", "customerUsername",
         "customerEmail", "billTo", "shipTo", "items", "orderTotal", "amountPaid", "taxAmount",
         "shippingAmount", "customerNotes", "internalNotes", "gift", "giftMessage",
         "paymentMethod", "requestedShippingService", "carrierCode", "serviceCode",
         "packageCode", "confirmation", "shipDate", "holdUntilDate", "weight", "dimensions",
         "insuranceOptions", "internationalOptions", "advancedOptions", "tagIds", "userId",
         "externallyFulfilled", "externallyFulfilledBy")
ITEM = ("lineItemKey", "sku", "name", "imageUrl", "weight", "quantity", "unitPrice",
        "taxAmount", "shippingAmount", "warehouseLocation", "options", "productId",
        "fulfillmentSku", "adjustment", "upc")
SHIPMENT = ("shipmentId", "orderId", "orderKey", "userId", "customerEmail", "orderNumber",
            "createDate", "shipDate", "shipmentCost", "insuranceCost", "trackingNumber",
            "isReturnLabel", "batchNumber", "carrierCode", "serviceCode", "packageCode",
            "confirmation", "warehouseId", "voided", "voidDate", "marketplaceNotified",
            "notifyErrorMessage", "shipTo", "weight", "dimensions", "insuranceOptions",
            "advancedOptions", "shipmentItems", "labelData", "formData")
FULFILLMENT = ("fulfillmentId", "orderId", "orderNumber", "userId", "customerEmail",
               "trackingNumber", "createDate", "shipDate", "void", "deliveryEmail", "shipTo")


def _full(names: tuple[str, ...], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with every other property in ``names`` present as null."""
    return {**dict.fromkeys(names), **{k: v for k, v in values.items() if k in names}}


def _address(value: Any) -> dict[str, Any] | None:
    return _full(ADDRESS, value) if isinstance(value, dict) else None


def _stamp(moment: datetime) -> str:
    """An aware time as ShipStation writes it: Pacific wall time, seven digits, no offset."""
    return moment.astimezone(PACIFIC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


def _total(items: list[dict[str, Any]]) -> float:
    return round(sum((item.get("unitPrice") or 0) * (item.get("quantity") or 0)
                     for item in items), 2)


def houses_md_corrections(document: dict) -> dict:
    """The reconstructed v1 document as houses.md corrects it: every date-time is Pacific
    wall time without an offset (a time with one is refused, as it would be misread), every
    property may be null (ShipStation answers the full model, null where empty, and takes
    null for an empty field), and an order can also be ``rejected_fulfillment``."""
    def correct(node: Any) -> Any:
        if isinstance(node, dict):
            if node.get("format") == "date-time":
                node = {k: v for k, v in node.items() if k != "format"}
                node["pattern"] = PACIFIC_TIME
            if isinstance(node.get("enum"), list) and "on_hold" in node["enum"]:
                node["enum"] = [*node["enum"], "rejected_fulfillment"]
            node = {k: correct(v) for k, v in node.items()}
            for name, schema in (node.get("properties") or {}).items():
                node["properties"][name] = _nullable(schema)
            return node
        if isinstance(node, list):
            return [correct(v) for v in node]
        return node
    return correct(document)


def _nullable(schema: dict) -> dict:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    if isinstance(schema.get("type"), str):
        return {**schema, "type": [schema["type"], "null"],
                **({"enum": [*schema["enum"], None]} if "enum" in schema else {})}
    return schema


#: how ShipStation writes a date-time: Pacific wall time, up to seven fractional digits
PACIFIC_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?$"


class ShipStationHouse(SimulatedHouse):
    contract = Contract("shipstation-v1-openapi.yml", corrections=houses_md_corrections)

    def __init__(self, *, api_key: str, api_secret: str, store_ids: tuple[int, ...],
                 review_after: float = 0.0, **options: Any):
        super().__init__(**options)
        self.api_key = api_key
        self.api_secret = api_secret
        self.store_ids = store_ids
        #: seconds (on ``clock``) after which the warehouse looks at a new order
        self.review_after = review_after
        self.clock = options.get("clock", time.monotonic)
        #: the wall clock ShipStation's dates are written from (tests set it)
        self.wall_clock: Callable[[], datetime] = partial(datetime.now, timezone.utc)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            super().reset()
            self.orders: dict[int, dict[str, Any]] = {}
            self.by_key: dict[str, int] = {}
            self.shipments: list[dict[str, Any]] = []
            self.fulfillments: list[dict[str, Any]] = []
            #: orderId -> when the warehouse looks at it, for orders it has not looked at
            self.unreviewed: dict[int, float] = {}
            self._next_id = 100001

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def now(self) -> str:
        return _stamp(self.wall_clock())

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

    def contract_error(self, problems: list[str]) -> Response:
        """ASP.NET's model-binding answer, each schema error under the field it names
        (``apiOrders[1].shipTo.postalCode``)."""
        root = "apiOrders" if request.path.endswith("/createorders") else "apiOrder"
        state: dict[str, list[str]] = {}
        for line in problems:
            if not line.startswith("  "):
                continue
            where, _, message = line.strip().partition(": ")
            parts = [] if where == "(root)" else where.split("/")
            if root == "apiOrders" and parts and parts[0].isdigit():
                parts[0] = f"apiOrders[{parts[0]}]"
            else:
                parts.insert(0, root)
            required = re.match(r"'(\w+)' is a required property", message)
            if required:
                parts.append(required.group(1))
                message = f"The {required.group(1)} field is required."
            state.setdefault(".".join(parts), []).append(message)
        return json_error(400, {"Message": "The request is invalid.",
                                "ModelState": state or {"request": problems}})

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

    def warehouse_verdict(self, order: dict[str, Any]) -> tuple[str, str] | None:
        """What the warehouse behind the account does with ``order``: (status, its words)
        for one it holds or refuses, None for one it can ship."""
        ship_to = order["shipTo"] or {}
        country, code = ship_to.get("country") or "", ship_to.get("postalCode") or ""
        if not ship_to.get("street1") or not ship_to.get("city"):
            return ("rejected_fulfillment",
                    "Ship-to address is incomplete: street1 and city are required.")
        if not postal_code_ok(country, code):
            return ("rejected_fulfillment",
                    f"Ship-to postal code '{code}' is not valid for country {country}; the "
                    "address cannot be shipped to.")
        for item in order["items"]:
            sku, quantity = item.get("sku") or "", int(item.get("quantity") or 0)
            problem = self.stock_problem(sku, quantity)
            if problem == "unknown":
                return ("rejected_fulfillment", f"Item SKU '{sku}' was not found in the "
                        "fulfillment provider's product catalog.")
            if problem == "stock":
                return ("on_hold", f"Insufficient stock for SKU '{sku}': "
                        f"{self.products[sku]} available, {quantity} requested.")
        return None

    def review(self, due_only: bool = True) -> list[dict[str, Any]]:
        """The warehouse looks at the orders due for it (all of them with ``due_only``
        false); returns the orders it refused."""
        at = self.clock()
        refused = []
        for order_id, due in list(self.unreviewed.items()):
            if due_only and due > at:
                continue
            del self.unreviewed[order_id]
            order = self.orders.get(order_id)
            if order is None or order["orderStatus"] not in CHANGEABLE:
                continue
            verdict = self.warehouse_verdict(order)
            if verdict:
                status, words = verdict
                order.update(orderStatus=status, internalNotes=words, modifyDate=self.now())
                if status == "rejected_fulfillment":
                    refused.append(order)
        return refused

    def upsert(self, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Create or replace one order; the result row and the stored order (None on failure)."""
        key = body.get("orderKey") or uuid.uuid4().hex
        result = {"orderId": None, "orderNumber": body["orderNumber"], "orderKey": key,
                  "success": False, "errorMessage": None}
        existing = self.orders.get(self.by_key.get(key, 0))
        if existing and existing["orderStatus"] not in CHANGEABLE:
            result.update(orderId=existing["orderId"], errorMessage=(
                f"Order {existing['orderNumber']} is {existing['orderStatus']} and can no longer "
                "be updated."))
            return result, None
        store = (body.get("advancedOptions") or {}).get("storeId")
        if store is not None and store not in self.store_ids:
            result["errorMessage"] = f"Invalid storeId {store}: no such store on this account."
            return result, None
        now = self.now()
        items = [_full(ITEM, {**item, "lineItemKey": item.get("lineItemKey") or f"line-{i}"})
                 for i, item in enumerate(body.get("items") or [])]
        options = dict(body.get("advancedOptions") or {})
        options.setdefault("storeId", self.store_ids[0])
        order = _full(ORDER, {
            **body, "orderKey": key, "advancedOptions": options, "modifyDate": now,
            "billTo": _address(body.get("billTo")), "shipTo": _address(body.get("shipTo")),
            "items": items, "orderTotal": _total(items), "tagIds": body.get("tagIds"),
            "externallyFulfilled": False, "gift": bool(body.get("gift"))})
        if existing:
            order.update(orderId=existing["orderId"], createDate=existing["createDate"])
        else:
            order.update(orderId=self._new_id(), createDate=now)
            self.creations[key] += 1
        self.orders[order["orderId"]] = order
        self.by_key[key] = order["orderId"]
        if order["orderStatus"] in CHANGEABLE:
            self.unreviewed[order["orderId"]] = self.clock() + self.review_after
        result.update(orderId=order["orderId"], success=True)
        return result, order

    def find_by_key(self, key: str) -> dict[str, Any]:
        order = self.orders.get(self.by_key.get(key, 0))
        if order is None:
            raise LookupError(f"No order with orderKey {key}.")
        return order

    # ------------------------------------------------------------ control

    def set_status(self, key: str, status: str, note: str | None) -> dict[str, Any]:
        """Move an order as the warehouse would (hand it to the 3PL, hold or release it)."""
        if status not in STATUSES or status in ("shipped", "cancelled"):
            raise ValueError("status is one of awaiting_payment, awaiting_shipment, "
                             "pending_fulfillment, on_hold, rejected_fulfillment")
        order = self.find_by_key(key)
        self.unreviewed.pop(order["orderId"], None)
        order.update(orderStatus=status, internalNotes=note, modifyDate=self.now())
        return order

    def ship(self, key: str, packages: list[dict[str, Any]]) -> dict[str, Any]:
        order = self.find_by_key(key)
        if order["orderStatus"] == "cancelled":
            raise ValueError("A cancelled order cannot ship.")
        if not packages:
            raise ValueError("Give at least one package.")
        today = self.wall_clock().astimezone(PACIFIC).date().isoformat()
        batch = self._new_id()
        vias = set()
        for package in packages:
            via = package.get("via", "shipment")
            if via not in ("shipment", "fulfillment"):
                raise ValueError('via is "shipment" or "fulfillment"')
            voided = bool(package.get("voided", False))
            row = {"orderId": order["orderId"], "orderNumber": order["orderNumber"],
                   "trackingNumber": package["tracking_number"], "shipDate": today,
                   "customerEmail": order["customerEmail"], "shipTo": order["shipTo"],
                   "createDate": self.now(), "carrierCode": package.get("carrier", "ups"),
                   "serviceCode": package.get("service", "ups_ground"), "batchId": batch,
                   "voided": voided}
            vias.add(via)
            if via == "shipment":
                self.shipments.append({**_full(SHIPMENT, {
                    **row, "shipmentId": self._new_id(), "orderKey": key,
                    "isReturnLabel": False, "batchNumber": str(batch),
                    "marketplaceNotified": False}), "batchId": batch})
            else:
                self.fulfillments.append({**_full(FULFILLMENT, {
                    **row, "fulfillmentId": self._new_id(), "void": voided,
                    "deliveryEmail": False}), "carrierCode": row["carrierCode"],
                    "serviceCode": row["serviceCode"], "voided": voided,
                    "deliveryDate": None, "batchId": batch})
        self.unreviewed.pop(order["orderId"], None)
        order.update(orderStatus="shipped", shipDate=today, modifyDate=self.now())
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
                row["deliveryDate"] = self.now()
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
               review_after: float = 0.0, clock: Callable[[], float] = time.monotonic) -> Flask:
    """A ShipStation account with one key pair, ``store_ids`` and a warehouse holding
    ``products`` (SKU -> units; ``common.DEFAULT_PRODUCTS`` when None) that looks at each
    new order ``review_after`` seconds after it arrives."""
    house = ShipStationHouse(api_key=api_key, api_secret=api_secret, store_ids=store_ids,
                             products=products, rate_limit=rate_limit, rate_window=rate_window,
                             rate_limited=rate_limited, review_after=review_after, clock=clock)
    app = Flask(__name__)
    install(app, house)

    @app.before_request
    def _warehouse():
        """The warehouse's review runs on its own time: here, before anyone looks."""
        with house.lock:
            house.review()

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
            rows = [o for o in rows if o["orderNumber"].startswith(args["orderNumber"])]
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

    @app.post("/_control/review")
    def review():
        """Run the warehouse's review of every order not yet reviewed, due or not."""
        with house.lock:
            refused = house.review(due_only=False)
        return {"refused": [o["orderKey"] for o in refused], "webhooks": [
            {"resource_url": f"{request.host_url}orders?" + urlencode({
                "storeId": o["advancedOptions"]["storeId"], "orderNumber": o["orderNumber"],
                "orderStatus": "rejected_fulfillment"}),
             "resource_type": "FULFILLMENT_REJECTED"} for o in refused]}

    @app.post("/_control/status")
    def set_status():
        body = request.get_json(force=True)
        with house.lock:
            return house.set_status(body["key"], body.get("status", ""), body.get("note"))

    return app


if __name__ == "__main__":
    main(create_app, prog="ShipStation", default_port=8101, api_path="",
         credentials="Basic auth ss-api-key / ss-api-secret, store 310001")
