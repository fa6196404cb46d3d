"""ShipMonk's order integration API, simulated at the server's root (the real base is
``https://api.shipmonk.com/v1/integrations``, itself *unconfirmed*).

As documented:

- an ``Api-Key`` header; orders go to an API store (``store_id``) of that key;
- ``POST /order`` is an upsert on (``store_id``, ``order_key``) with ``status``
  ``unfulfilled|cancelled|fulfilled|onHold``; cancelling is the same upsert with
  ``cancelled``;
- ``GET /orders?orderKey=&storeId=`` → orders with ``order_status``, ``shipped_at``,
  ``packages[{tracking_number, tracking_url}]`` and ``shipment_data.carrier``
  (the read shape is *unconfirmed*).

Unconfirmed, chosen here (Laravel-style answers, as the rest of ShipMonk's API looks):

- 401 ``{"message": "Unauthenticated."}``; a store the key does not own is 404
  ``{"message": "Store ... not found."}``; server errors 500 ``{"message": "Server Error"}``;
- 60 requests a minute per key in fixed windows, 429 ``{"message": "Too Many Attempts."}``
  with ``Retry-After`` (seconds) and ``X-RateLimit-Limit``/``X-RateLimit-Remaining``;
- a create answers 201, an update 200, both with the order as ``GET /orders`` shows it;
  every upsert must carry the whole order (``order_number``, ``ordered_at``, ``ship_to``,
  ``items``), so a cancel resends what ``GET /orders`` returned;
- validation: 422 ``{"message": "The given data was invalid.", "errors": {field: [msg]}}``;
  the warehouse's refusals use the same shape (``ship_to.zip``, ``items.N.sku``,
  ``items.N.quantity``). Stock is not consumed;
- an order already ``fulfilled`` or ``cancelled`` cannot be changed: 409
  ``{"message": ..., "order_id": ...}`` (resending ``cancelled`` to a cancelled order is a
  no-op 200);
- ShipMonk reports no deliveries: ``/_control/deliver`` answers 400.

Shipment Notification (documented: per store, HTTP Basic auth only, no signature, one call
per shipment with one tracking number per package; the body's field names are
*unconfirmed*, chosen to match the read shape): ``/_control/ship`` answers the order with,
under ``notification``, the body ShipMonk would POST for that shipment:
``{"order_id", "order_key", "order_number", "store_id", "shipment_id", "shipped_at",
"carrier", "shipping_service", "packages": [{"tracking_number", "tracking_url"}]}``.
"""
from __future__ import annotations

import hmac
import time
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

STATUSES = ("unfulfilled", "cancelled", "fulfilled", "onHold")
OPEN = ("unfulfilled", "onHold")
#: fields an upsert carries; a read shows them too, with ``status`` as ``order_status``
ORDER_FIELDS = ("store_id", "order_key", "order_number", "ordered_at", "shipping_method",
                "customer_email", "ship_to", "items")


def _invalid(errors: dict[str, list[str]]) -> Response:
    return json_error(422, {"message": "The given data was invalid.", "errors": errors})


class ShipMonkHouse(SimulatedHouse):
    def __init__(self, *, api_key: str, store_ids: tuple[str, ...], **options: Any):
        super().__init__(**options)
        self.api_key = api_key
        self.store_ids = store_ids
        self.reset()

    def reset(self) -> None:
        with self.lock:
            super().reset()
            self.orders: dict[tuple[str, str], dict[str, Any]] = {}
            self._next_id = 5500000

    # ------------------------------------------------------------ gate

    def caller(self, req) -> str | None:
        key = req.headers.get("Api-Key", "")
        return key if key and hmac.compare_digest(key, self.api_key) else None

    def unauthorized(self) -> Response:
        return json_error(401, {"message": "Unauthenticated."})

    def rate_headers(self, decision: RateDecision) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(decision.limit),
                "X-RateLimit-Remaining": str(decision.remaining)}

    def too_many_requests(self, decision: RateDecision) -> Response:
        return json_error(429, {"message": "Too Many Attempts."},
                          {"Retry-After": str(decision.reset), **self.rate_headers(decision)})

    def server_error(self, status: int) -> Response:
        return json_error(status, {"message": "Server Error"})

    # ------------------------------------------------------------ orders

    @staticmethod
    def validation_errors(body: Any) -> dict[str, list[str]]:
        if not isinstance(body, dict):
            return {"body": ["The body must be an order object."]}
        errors: dict[str, list[str]] = {}

        def need(value: Any, field: str) -> None:
            if value in (None, "", [], {}):
                errors[field] = [f"The {field} field is required."]

        for field in ("store_id", "order_key", "order_number", "ordered_at", "status",
                      "ship_to", "items"):
            need(body.get(field), field)
        if body.get("status") and body["status"] not in STATUSES:
            errors["status"] = ["The selected status is invalid."]
        ship_to = body.get("ship_to") or {}
        if ship_to:
            for field in ("name", "address1", "city", "zip", "country_code"):
                need(ship_to.get(field), f"ship_to.{field}")
        for i, item in enumerate(body.get("items") or []):
            if not isinstance(item, dict):
                errors[f"items.{i}"] = ["The item must be an object."]
                continue
            need(item.get("sku"), f"items.{i}.sku")
            if not isinstance(item.get("quantity"), int) or item["quantity"] < 1:
                errors[f"items.{i}.quantity"] = [f"The items.{i}.quantity must be at least 1."]
        return errors

    def refusal(self, body: dict[str, Any]) -> dict[str, list[str]] | None:
        ship_to = body["ship_to"]
        if not postal_code_ok(ship_to["country_code"], ship_to["zip"]):
            return {"ship_to.zip": [f"The address could not be verified: zip '{ship_to['zip']}' "
                                    f"is not valid for {ship_to['country_code']}."]}
        for i, item in enumerate(body["items"]):
            problem = self.stock_problem(item["sku"], item["quantity"])
            if problem == "unknown":
                return {f"items.{i}.sku": [f"Product with SKU '{item['sku']}' not found in "
                                           "this store."]}
            if problem == "stock":
                return {f"items.{i}.quantity": [
                    f"Not enough stock for SKU '{item['sku']}': {self.products[item['sku']]} "
                    f"available, {item['quantity']} requested."]}
        return None

    def upsert(self, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Store the order; returns it with 201 (created) or 200 (updated)."""
        slot = (str(body["store_id"]), body["order_key"])
        existing = self.orders.get(slot)
        fields = {f: body.get(f) for f in ORDER_FIELDS} | {"store_id": slot[0]}
        if existing:
            existing.update(fields, order_status=body["status"],
                            updated_at=datetime.now(timezone.utc).isoformat())
            return existing, 200
        self._next_id += 1
        order = fields | {"order_id": self._next_id, "order_status": body["status"],
                          "created_at": datetime.now(timezone.utc).isoformat(), "updated_at": None,
                          "shipped_at": None, "packages": [], "shipment_data": None}
        self.orders[slot] = order
        self.creations[body["order_key"]] += 1
        return order, 201

    def find(self, key: str) -> dict[str, Any]:
        for (_, order_key), order in self.orders.items():
            if order_key == key:
                return order
        raise LookupError(f"No order with order_key {key}.")

    def ship(self, key: str, packages: list[dict[str, Any]]) -> dict[str, Any]:
        order = self.find(key)
        if order["order_status"] == "cancelled":
            raise ValueError("A cancelled order cannot ship.")
        if not packages:
            raise ValueError("Give at least one package.")
        carriers = {p.get("carrier", "UPS") for p in packages}
        shipped = [{"tracking_number": p["tracking_number"],
                    "tracking_url": "https://www.ups.com/track?tracknum=" + p["tracking_number"]}
                   for p in packages]
        order.update(order_status="fulfilled", shipped_at=datetime.now(timezone.utc).isoformat(),
                     shipment_data={"carrier": ", ".join(sorted(carriers))},
                     packages=order["packages"] + shipped)
        self._next_id += 1
        notification = {
            "order_id": order["order_id"], "order_key": order["order_key"],
            "order_number": order["order_number"], "store_id": order["store_id"],
            "shipment_id": self._next_id, "shipped_at": order["shipped_at"],
            "carrier": order["shipment_data"]["carrier"],
            "shipping_service": packages[0].get("service", "Ground"), "packages": shipped}
        return {**order, "notification": notification}


def create_app(*, api_key: str = "sm-api-key", store_ids: tuple[str, ...] = ("7001",),
               products: dict[str, int] | None = None, rate_limit: int = 60,
               rate_window: float = 60.0, rate_limited: bool = True,
               clock: Callable[[], float] = time.monotonic) -> Flask:
    """A ShipMonk account: one API key owning the API stores ``store_ids``, and a
    warehouse holding ``products``."""
    house = ShipMonkHouse(api_key=api_key, store_ids=store_ids, products=products,
                          rate_limit=rate_limit, rate_window=rate_window,
                          rate_limited=rate_limited, clock=clock)
    app = Flask(__name__)
    install(app, house)

    def unknown_store(store_id: str) -> Response:
        return json_error(404, {"message": f"Store {store_id} not found."})

    @app.post("/order")
    def upsert_order():
        body = request.get_json(silent=True)
        errors = house.validation_errors(body)
        if errors:
            return _invalid(errors)
        if str(body["store_id"]) not in house.store_ids:
            return unknown_store(body["store_id"])
        with house.lock:
            existing = house.orders.get((str(body["store_id"]), body["order_key"]))
            if existing and existing["order_status"] not in OPEN:
                if existing["order_status"] == body["status"] == "cancelled":
                    return existing
                return json_error(409, {
                    "message": f"Order {existing['order_number']} is {existing['order_status']} "
                               "and can no longer be updated.",
                    "order_id": existing["order_id"]})
            refusal = house.refusal(body)
            if refusal:
                return _invalid(refusal)
            return house.upsert(body)

    @app.get("/orders")
    def list_orders():
        store_id = request.args.get("storeId", "")
        if not store_id:
            return _invalid({"storeId": ["The store id field is required."]})
        if store_id not in house.store_ids:
            return unknown_store(store_id)
        key = request.args.get("orderKey")
        with house.lock:
            rows = [o for (store, order_key), o in house.orders.items()
                    if store == store_id and (not key or order_key == key)]
        return {"orders": rows}

    return app


if __name__ == "__main__":
    main(create_app, prog="ShipMonk", default_port=8103, api_path="",
         credentials="Api-Key sm-api-key, store 7001")
