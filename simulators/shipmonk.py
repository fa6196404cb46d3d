"""ShipMonk's public API v1.024, simulated from ShipMonk's own OpenAPI document
(``contracts/shipmonk-openapi-v1.024.json``): every request is checked against it and every
answer and webhook body must conform (``simulators.contract``).

As documented:

- base ``https://api.shipmonk.com`` (served here at the root), header ``Api-Key``;
- ``POST /v1/integrations/order`` (``CreateOrUpdateOrderInput``: integer ``store_id``,
  ``order_key``, ``order_status`` ``unfulfilled|fulfilled|cancelled|onHold``,
  ``requested_shipping_service``, ``ship_to.street1/street2``, ...) creates or updates the
  order under (``store_id``, ``order_key``) and answers 200 ``OrderSyncOutput``
  (``{"message"}``, no order id); ``cancelled`` cancels it; ``fulfilled`` on an order
  ShipMonk shipped changes nothing;
- ``GET /v1/integrations/orders?orderKey=&storeId=`` answers ``{"status", "data": <one
  PublicApiOrderDetailOutput>}``; ``GET /v1/integrations/orders-list`` pages over many
  (``orderKeys``, ``page``, ``pageSize``, ``updatedAtStart``...) as ``{"status", "data":
  {"orders": [...]}}``. Answers carry every property of the model, null or empty where
  ShipMonk has nothing (``Contract.blank``);
- webhooks ``orderShipmentNotification`` (``service``, not ``shipping_service``; ``shipped_at``
  a string or a PHP ``DateTime`` object) and ``orderStatusChange`` (the order as ``GET
  /orders`` shows it, on every ``processing_status`` change);
- a bad order is accepted and then held: an unknown SKU puts it in Action Required (item
  mapping) and ``unable_to_submit``, an address the warehouse cannot ship to in Action
  Required (address), short stock in ``backorder``; each raises an ``orderStatusChange``.

Guessed (ShipMonk documents no error bodies; houses.md gives the rate limit):

- errors are ``{"status": <code>, "message": ...}``, the envelope of its success answers:
  400 for a request its document rejects (the problems listed in ``message``), 401 for a
  wrong key, 404 ``Order not found.`` or ``Store <id> not found.``, 400 for changing an
  order that has shipped or was cancelled, 500 ``Internal server error.``;
- 100,000 requests a minute per key in fixed windows; over it 429 with ``Retry-After`` as an
  HTTP date (rounded up to the whole second);
- the warehouse looks at a new order ``process_delay`` seconds after it arrives (0: at the
  next read) or when told (``POST /_control/process {"key"}`` answers the
  ``orderStatusChange`` body; see ``simulators.common``);
- ``POST /_control/ship`` answers the order and, under ``notification``, the
  ``orderShipmentNotification`` body for the shipment; ``POST /_control/ship-notification``
  does the same with ``shipped_at`` as the legacy date object. ShipMonk reports no
  deliveries.
"""
from __future__ import annotations

import hmac
import math
import time
from typing import Any, Callable

from flask import Flask, Response, request
from werkzeug.http import http_date

from simulators.common import (
    RateDecision,
    SimulatedHouse,
    install,
    json_error,
    main,
    postal_code_ok,
    utcnow,
)
from simulators.contract import Contract

CONTRACT = Contract("shipmonk-openapi-v1.024.json")
ORDER_MODEL = "Fulfillment_IntegrationsBundle_ApiResource_Output_Order_PublicApiOrderDetailOutput"
NOTIFICATION = "ShipMonk_OMS_Notification_ApiResource_ShipmentNotificationOutput"
ITEM_MODEL = "Fulfillment_IntegrationsBundle_ApiResource_Output_Order_PublicApiOrderItemOutput"
ADDRESS_MODEL = ("Fulfillment_IntegrationsBundle_ApiResource_Output_Order_"
                 "PublicApiShippingOrderDetailAddressOutput")
PACKAGE_MODEL = ("Fulfillment_IntegrationsBundle_ApiResource_Output_Order_"
                 "PublicApiOrderPackageDataOutput")
#: order statuses an order can still be changed in
OPEN = ("unfulfilled", "onHold")
#: processing statuses the warehouse has not looked at the order in yet
UNPROCESSED = "queued_to_submit"
WAREHOUSE = {"identifier": "PA1", "id": 11, "name": "Bristol, PA", "warehouse_wms_type": "shipmonk"}


def _now() -> str:
    return utcnow().isoformat(timespec="seconds")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_error(status, {"status": status, "message": message}, headers)


class ShipMonkHouse(SimulatedHouse):
    contract = CONTRACT

    def __init__(self, *, api_key: str, store_ids: tuple[int, ...], **options: Any):
        super().__init__(**options)
        self.api_key = api_key
        self.store_ids = store_ids
        self.reset()

    def reset(self) -> None:
        with self.lock:
            super().reset()
            #: (store_id, order_key) -> the order as GET /orders shows it
            self.orders: dict[tuple[int, str], dict[str, Any]] = {}

    # ------------------------------------------------------------ gate

    def caller(self, req) -> str | None:
        key = req.headers.get("Api-Key", "")
        return key if key and hmac.compare_digest(key, self.api_key) else None

    def unauthorized(self) -> Response:
        return _error(401, "Invalid API key.")

    def too_many_requests(self, decision: RateDecision) -> Response:
        return _error(429, "Too many requests.",
                      {"Retry-After": http_date(math.ceil(time.time() + decision.reset))})

    def server_error(self, status: int) -> Response:
        return _error(status, "Internal server error.")

    def contract_error(self, problems: list[str]) -> Response:
        return _error(400, "Invalid request: " + " ".join(p.strip() for p in problems))

    # ------------------------------------------------------------ orders

    def upsert(self, body: dict[str, Any]) -> tuple[str, int]:
        """Create or update the order; returns ShipMonk's message and the HTTP status."""
        slot = (body["store_id"], body["order_key"])
        order = self.orders.get(slot)
        wanted = body["order_status"]
        if order is not None and order["order_status"] not in OPEN:
            if order["order_status"] == wanted or (
                    order["order_status"] == "fulfilled" and wanted == "unfulfilled"):
                return f"Order {order['order_number']} is {order['order_status']}; nothing " \
                       "changed.", 200
            return f"Order {order['order_number']} is {order['order_status']} and can no " \
                   "longer be changed.", 400
        if wanted == "cancelled":
            if order is None:
                order = self._new(body)
            order.update(order_status="cancelled", processing_status="cancelled",
                         updated_at=_now())
            return "Order was cancelled.", 200
        created = order is None
        order = order or self._new(body)
        order.update(self._fields(body), updated_at=None if created else _now())
        if wanted == "onHold":
            order.update(order_status="onHold", processing_status="on_hold")
        else:
            order.update(order_status=wanted, processing_status=UNPROCESSED)
            self.schedule(body["order_key"])
        return ("Order was created." if created else "Order was updated."), 200

    def _new(self, body: dict[str, Any]) -> dict[str, Any]:
        slot = (body["store_id"], body["order_key"])
        order = CONTRACT.blank(ORDER_MODEL)
        order.update(order_key=body["order_key"], store={"id": body["store_id"],
                                                         "name": f"API store {body['store_id']}"},
                     warehouse=dict(WAREHOUSE), currency_code=body.get("currency_code") or "USD",
                     order_type=body.get("order_type") or "direct_to_consumer",
                     order_size="regular", ship_from=self._address({
                         "name": "ShipMonk", "street1": "201 Green Ln", "city": "Bristol",
                         "state": "PA", "zip": "19007", "country_code": "US"}),
                     order_detail_url="https://app.shipmonk.com/orders/"
                                      f"{len(self.orders) + 88000001}")
        self.orders[slot] = order
        self.creations[body["order_key"]] += 1
        return order

    def _fields(self, body: dict[str, Any]) -> dict[str, Any]:
        items = []
        for line in body["items"]:
            item = CONTRACT.blank(ITEM_MODEL)
            item.update(sku=line["sku"], name=line.get("name"), quantity=line["quantity"],
                        price=line.get("price"), line_key=line.get("line_key"), source="imported")
            items.append(item)
        return {"order_number": body["order_number"], "ordered_at": body["ordered_at"],
                "customer_email": body.get("customer_email"),
                "requested_shipping_service": body["requested_shipping_service"],
                "shipping_paid": body.get("shipping_paid") or 0.0,
                "tax_paid": body.get("taxes_paid") or 0.0,
                "ship_to": self._address(body["ship_to"], email=body.get("customer_email")),
                "items": items}

    @staticmethod
    def _address(given: dict[str, Any], *, email: str | None = None) -> dict[str, Any]:
        address = CONTRACT.blank(ADDRESS_MODEL)
        address.update({k: v for k, v in given.items() if k in address}, email=email,
                       residential=True)
        return address

    def process(self, key: str) -> dict[str, Any]:
        """Submit the order to the warehouse, or hold it the way ShipMonk does: Action
        Required for an unknown SKU or an undeliverable address, back-order for short stock.
        Returns the ``orderStatusChange`` body."""
        self.due.pop(key, None)
        order = self.orders[self.find_slot(key)]
        if order["processing_status"] != UNPROCESSED:
            return order
        ship_to = order["ship_to"] or {}
        actions = order["actions_required"]
        if not (ship_to.get("street1") and postal_code_ok(ship_to.get("country_code") or "",
                                                          ship_to.get("zip") or "")):
            actions["address"] = True
        for item in order["items"]:
            problem = self.stock_problem(item["sku"], item["quantity"])
            if problem == "unknown":
                actions["item_mapping"] = True
                continue
            item["products"] = [{"sku": item["sku"], "quantity": item["quantity"],
                                 "backordered_quantity": max(item["quantity"]
                                                             - self.products[item["sku"]], 0),
                                 "lot": None, "other_potential_lots": []}]
        if actions["address"] or actions["item_mapping"]:
            order["processing_status"] = "unable_to_submit"
        elif any(p["backordered_quantity"] for i in order["items"] for p in i["products"]):
            order["processing_status"] = "backorder"
        else:
            order["processing_status"] = "submitted"
        order["updated_at"] = _now()
        CONTRACT.check_webhook("orderStatusChange", order)
        return order

    def find_slot(self, key: str) -> tuple[int, str]:
        for slot in self.orders:
            if slot[1] == key:
                return slot
        raise LookupError(f"No order with order_key {key}.")

    def ship(self, key: str, packages: list[dict[str, Any]],
             shipped_at_object: bool = False) -> dict[str, Any]:
        self.process(key)
        order = self.orders[self.find_slot(key)]
        if order["order_status"] != "unfulfilled" or order["processing_status"] != "submitted":
            raise ValueError(f"Order {key} is {order['order_status']} / "
                             f"{order['processing_status']}: only a submitted order ships.")
        if not packages:
            raise ValueError("Give at least one package.")
        carrier = packages[0].get("carrier", "UPS")
        service = packages[0].get("service", "Ground")
        shipped = []
        for number, given in enumerate(packages, start=1):
            package = CONTRACT.blank(PACKAGE_MODEL)
            package.update(number=number, tracking_number=given["tracking_number"],
                           tracking_url="https://www.ups.com/track?tracknum="
                                        + given["tracking_number"], box_number=number)
            shipped.append(package)
        shipment = CONTRACT.blank(
            "Fulfillment_IntegrationsBundle_ApiResource_Output_Order_PublicApiShipmentDataOutput")
        shipment.update(carrier=carrier, service=service)
        moment = utcnow()
        order.update(order_status="fulfilled", processing_status="en_route",
                     shipped_at=moment.isoformat(timespec="seconds"), updated_at=_now(),
                     packages=shipped, shipment_data=shipment,
                     master_tracking_number=shipped[0]["tracking_number"],
                     tracking_url=shipped[0]["tracking_url"])
        for item in order["items"]:
            item["fulfilled_quantity"] = item["quantity"]
        return {**order, "notification": self._notification(order, shipped_at_object)}

    def _notification(self, order: dict[str, Any], shipped_at_object: bool) -> dict[str, Any]:
        """The ``orderShipmentNotification`` body for the order's shipment."""
        body = CONTRACT.blank(NOTIFICATION)
        shipped_at: Any = order["shipped_at"]
        if shipped_at_object:
            shipped_at = {"date": shipped_at.replace("T", " ").split("+")[0] + ".000000",
                          "timezone": "UTC", "timezone_type": 3}
        ship_to = body["ship_to"]
        ship_to.update({k: v for k, v in (order["ship_to"] or {}).items() if k in ship_to},
                       residential=True)
        body.update(
            order_key=order["order_key"], order_number=order["order_number"],
            warehouse=order["warehouse"]["identifier"], store_id=str(order["store"]["id"]),
            carrier=order["shipment_data"]["carrier"], service=order["shipment_data"]["service"],
            master_tracking_number=order["master_tracking_number"],
            tracking_link=order["tracking_url"], ordered_at=order["ordered_at"],
            shipped_at=shipped_at, order_size=order["order_size"], ship_to=ship_to,
            order_parts={"main_order": {"order_number": order["order_number"], "parts": []}},
            items=[{"line_key": i["line_key"], "quantity": i["quantity"],
                    "ordered_quantity": i["quantity"], "sku": i["sku"], "name": i["name"],
                    "source": i["source"], "products": [], "fulfilled_quantity": i["quantity"]}
                   for i in order["items"]],
            packages=[{"tracking_number": p["tracking_number"],
                       "tracking_link": p["tracking_url"], "carrier_tracking_url": None,
                       "weight_lb": None, "packed_products": [], "box_number": p["box_number"],
                       "pallet_number": None, "carton_labels": [], "pallet_weight_lb": None,
                       "packing_group": None, "packed_items": []} for p in order["packages"]])
        CONTRACT.check_webhook("orderShipmentNotification", body)
        return body


def create_app(*, api_key: str = "sm-api-key", store_ids: tuple[int, ...] = (7001,),
               products: dict[str, int] | None = None, rate_limit: int = 100_000,
               rate_window: float = 60.0, rate_limited: bool = True,
               clock: Callable[[], float] = time.monotonic) -> Flask:
    """A ShipMonk account: one API key owning the API stores ``store_ids``, and a
    warehouse holding ``products``."""
    house = ShipMonkHouse(api_key=api_key, store_ids=tuple(int(s) for s in store_ids),
                          products=products, rate_limit=rate_limit, rate_window=rate_window,
                          rate_limited=rate_limited, clock=clock)
    app = Flask(__name__)
    install(app, house)

    @app.post("/v1/integrations/order")
    def upsert_order():
        body = request.get_json()
        if body["store_id"] not in house.store_ids:
            return _error(404, f"Store {body['store_id']} not found.")
        with house.lock:
            message, status = house.upsert(body)
        return {"message": message} if status == 200 else _error(status, message)

    @app.get("/v1/integrations/orders")
    def get_order():
        store_id = request.args.get("storeId", type=int)
        if store_id is not None and store_id not in house.store_ids:
            return _error(404, f"Store {store_id} not found.")
        key, number = request.args.get("orderKey"), request.args.get("orderNumber")
        with house.lock:
            house.process_due()
            order = next((o for (store, k), o in house.orders.items()
                          if (store_id is None or store == store_id)
                          and (key is None or k == key)
                          and (number is None or o["order_number"] == number)), None)
            if order is None or not (key or number):
                return _error(404, "Order not found.")
            return {"status": 200, "data": order}

    @app.get("/v1/integrations/orders-list")
    def list_orders():
        keys = set(request.args.getlist("orderKeys"))
        page = request.args.get("page", 1, type=int)
        size = request.args.get("pageSize", 100, type=int)
        with house.lock:
            house.process_due()
            rows = [o for (_, k), o in house.orders.items() if not keys or k in keys]
        if request.args.get("sortOrder") == "DESC":
            rows.reverse()
        return {"status": 200, "data": {"orders": rows[(page - 1) * size:page * size]}}

    @app.post("/_control/ship-notification")
    def ship_with_object_date():
        """``/_control/ship`` with ``shipped_at`` as ShipMonk's legacy date object."""
        body = request.get_json(force=True)
        with house.lock:
            return house.ship(body["key"], list(body.get("packages") or []),
                              shipped_at_object=True)

    return app


if __name__ == "__main__":
    main(create_app, prog="ShipMonk", default_port=8103, api_path="",
         credentials="Api-Key sm-api-key, store 7001")
