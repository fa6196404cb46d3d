"""Amazon Multi-Channel Fulfillment (SP-API Fulfillment Outbound 2020-07-01), simulated at
the server's root as ``https://sellingpartnerapi-na.amazon.com``, with Login with Amazon's
token endpoint (``https://api.amazon.com/auth/o2/token``) at ``/auth/o2/token`` beside it.

Held to Amazon's own model (``contracts/amazon-mcf-fulfillmentOutbound_2020-07-01.json``):
every request is checked against its operation's parameters, and a request the model
rejects gets Amazon's ``400 {"errors": [{"code": "InvalidInput", ...}]}``; every answer is
checked against the schema documented for its status, and an answer the model rejects is
recorded in ``house.violations`` and replaced by a 500, so it fails the test that caused it.
Answers leave out properties without a value (Swagger 2.0 has no null), as Amazon does.

As documented:

- Login with Amazon: ``POST /auth/o2/token`` (form) with ``grant_type=refresh_token``,
  ``refresh_token``, ``client_id``, ``client_secret`` → ``{"access_token", "token_type":
  "bearer", "expires_in": 3600, "refresh_token"}``; a wrong client is 401
  ``{"error": "invalid_client", ...}``, a wrong refresh token 400 ``invalid_grant``. API calls
  carry the access token in ``x-amz-access-token``; an expired or unknown one is 403
  ``Unauthorized`` (the model's 403: "Expired Authorization Token").
- Usage plans per operation, a token bucket each: rate 2 requests/s, burst 30 for the
  operations here (read from the model's own tables). Answers carry
  ``x-amzn-RateLimit-Limit`` (the rate) and ``x-amzn-RequestId``; over the plan: 429
  ``QuotaExceeded`` without the rate header (the model documents none on 429).
- ``createFulfillmentOrder`` answers 200 with an empty body; the order is ``Received`` when
  the address is valid and the inventory covers it, else ``Invalid`` (the model's words:
  "an invalid destination address or ... not enough sellable inventory"). Received orders
  reserve their units. Statuses move Received → Planning → Processing → Complete; the
  seller can cancel while Received or Planning, not from Processing on.
- ``getFulfillmentPreview`` answers one preview per shipping speed asked for (all three
  when none is), with ``isFulfillable``, ``orderUnfulfillableReasons`` (the model's
  example ``InvalidDestinationAddress``) and ``unfulfillablePreviewItems`` with
  ``itemUnfulfillableReasons``.

Guessed, as the nearest documented behaviour:

- item reasons ``InvalidSKU`` (the seller has no such SKU) and ``InventoryUnavailable``
  (fewer sellable units than ordered); an address is refused for an impossible postal code
  (see ``common.postal_code_ok``) or a country the marketplace does not ship to;
- an unknown SKU on create is 400 ``InvalidInput`` "the SellerSKU for Item Id: X is invalid."
  (as sellers report it); a ``sellerFulfillmentOrderId`` used before is 400 ``InvalidInput``
  and creates nothing; an unknown order is 400 ``InvalidInput`` "Requested order not found";
  cancelling a cancelled order is a harmless 200; a marketplace the seller does not sell in
  is 400 ``InvalidInput`` naming it;
- package numbers count from 1 per simulator; packages of Amazon's own carrier (``AMZL``)
  get ``TBA…`` tracking numbers; a shipped package is ``IN_TRANSIT`` until delivered.

Control hooks, besides those of ``common``: ``POST /_control/advance {"key"}`` moves an
order one status on (Complete ships it in one ``AMZL`` package), ``POST /_control/status
{"key", "status"}`` sets ``Unfulfillable``, ``Invalid`` or another status outright,
``POST /_control/expire-tokens`` expires every access token issued, ``GET
/_control/violations`` lists the traffic the model rejected and ``GET /_control/calls``
the calls made per operation and the access tokens granted.
"""
from __future__ import annotations

import hmac
import re
import secrets
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

from flask import Blueprint, Flask, Response, g, jsonify, request
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from simulators.common import (
    RateDecision,
    RateLimiter,
    SimulatedHouse,
    control_blueprint,
    install,
    json_error,
    main,
    postal_code_ok,
    utcnow,
)
from simulators.swagger import SwaggerModel

MODEL = SwaggerModel(Path(__file__).resolve().parent / "contracts"
                     / "amazon-mcf-fulfillmentOutbound_2020-07-01.json")
API = "/fba/outbound/2020-07-01"
US, CA = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"
#: where each marketplace ships (guessed: domestic only)
SHIPS_TO = {US: {"US", "PR"}, CA: {"CA"}}
TOKEN_LIFETIME = 3600
SPEEDS = ("Standard", "Expedited", "Priority")
#: days from order to arrival, per speed
TRANSIT_DAYS = {"Standard": 5, "Expedited": 3, "Priority": 2, "ScheduledDelivery": 2}
#: statuses moved through by ``/_control/advance``
PROGRESSION = ("Received", "Planning", "Processing", "Complete")
CANCELLABLE = ("New", "Received", "Planning")
#: statuses in which an order holds its units
RESERVED = ("Received", "Planning", "Processing")


def usage_plans() -> dict[str, tuple[float, int]]:
    """operationId -> (rate per second, burst), from the tables in the model's operation
    descriptions ("| Rate (requests per second) | Burst |")."""
    plans = {}
    for operation_id, (_method, _path, operation) in MODEL.operations.items():
        found = re.findall(r"\|\s*([\d.]+)\s*\|\s*(\d+)\s*\|", operation.get("description", ""))
        if found:
            rate, burst = found[-1]
            plans[operation_id] = (float(rate), int(burst))
    return plans


def errors_body(code: str, message: str, details: str = "") -> dict[str, Any]:
    return {"errors": [{"code": code, "message": message, "details": details}]}


def invalid_input(message: str, details: str = "") -> Response:
    return json_error(400, errors_body("InvalidInput", message, details))


def stamp(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- usage plans


@dataclass(frozen=True)
class PlanDecision(RateDecision):
    #: the operation's rate (requests per second), as ``x-amzn-RateLimit-Limit`` says it
    rate: float = 0.0


class UsagePlans(RateLimiter):
    """Amazon's usage plans: one token bucket per (caller, operation), ``burst`` tokens deep,
    refilled at ``rate`` a second. The caller names the operation after a ``|``. The
    ``/_control/rate-limit`` hook's ``limit`` per ``window`` becomes a bucket of ``limit``
    tokens refilled at ``limit / window`` a second, for every operation."""

    def __init__(self, plans: dict[str, tuple[float, int]], *, enabled: bool,
                 clock: Callable[[], float]):
        # the documented default plan (2 requests/s, burst 30) in the base class's terms
        super().__init__(30, 15.0, enabled=enabled, clock=clock)
        self.plans = dict(plans)
        #: caller -> (tokens left, when counted)
        self._buckets: dict[str, tuple[float, float]] = {}

    def configure(self, *, enabled: bool | None = None, limit: int | None = None,
                  window: float | None = None) -> None:
        super().configure(enabled=enabled, limit=limit, window=window)
        with self._lock:
            if limit is not None and window is not None:
                self.plans = {name: (limit / window, int(limit)) for name in self.plans}
            self._buckets.clear()

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self._buckets.clear()

    def hit(self, caller: str) -> PlanDecision:
        operation = caller.rpartition("|")[2]
        rate, burst = self.plans.get(operation, (2.0, 30))
        with self._lock:
            now = self.clock()
            tokens, then = self._buckets.get(caller, (float(burst), now))
            tokens = min(float(burst), tokens + (now - then) * rate)
            allowed = not self.enabled or tokens >= 1
            if allowed:
                tokens -= 1 if self.enabled else 0
                self.allowed += 1
            else:
                self.refused += 1
            self._buckets[caller] = (tokens, now)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / rate
            return PlanDecision(allowed, burst, int(tokens), int(wait + 0.999), rate=rate)


# ---------------------------------------------------------------- the house


class AmazonMCFHouse(SimulatedHouse):
    def __init__(self, *, client_id: str, client_secret: str, refresh_token: str,
                 marketplaces: tuple[str, ...], rate_limited: bool,
                 clock: Callable[[], float], **options: Any):
        super().__init__(rate_limit=30, rate_window=15, rate_limited=rate_limited, clock=clock,
                         **options)
        self.limiter = UsagePlans(usage_plans(), enabled=rate_limited, clock=clock)
        self.clock = clock
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.marketplaces = marketplaces
        self.reset()

    def reset(self) -> None:
        with self.lock:
            super().reset()
            self.orders: dict[str, dict[str, Any]] = {}
            #: package number -> {"key": the order's, "package": as the order shows it,
            #: "shipDate", "status": its CurrentStatus, "deliveredDate"}
            self.packages: dict[int, dict[str, Any]] = {}
            #: access token -> when it expires (on ``clock``)
            self.tokens: dict[str, float] = {}
            self.grants = 0
            self.violations: list[str] = []
            self.calls: Counter[str] = Counter()

    # ------------------------------------------------------------ gate

    def caller(self, req) -> str | None:
        token = req.headers.get("x-amz-access-token", "")
        expires = self.tokens.get(token)
        if expires is None:
            g.auth_problem = ("Access token is missing in the request header." if not token
                              else "The access token you provided is revoked, malformed or "
                                   "invalid.")
            return None
        if expires <= self.clock():
            g.auth_problem = "The access token you provided has expired."
            return None
        operation = req.url_rule.endpoint.rpartition(".")[2] if req.url_rule else "unknown"
        self.calls[operation] += 1
        return f"{self.refresh_token}|{operation}"

    def unauthorized(self) -> Response:
        return json_error(403, errors_body("Unauthorized", "Access to requested resource is "
                                           "denied.", g.get("auth_problem", "")))

    def rate_headers(self, decision: RateDecision) -> dict[str, str]:
        if not decision.allowed or not isinstance(decision, PlanDecision):
            return {}
        return {"x-amzn-RateLimit-Limit": f"{decision.rate:.6g}"}

    def too_many_requests(self, decision: RateDecision) -> Response:
        return json_error(429, errors_body("QuotaExceeded", "You exceeded your quota for the "
                                           "requested resource."))

    def server_error(self, status: int) -> Response:
        return json_error(status, errors_body(
            "InternalFailure" if status == 500 else "ServiceUnavailable",
            "We encountered an internal error. Please try again."))

    # ------------------------------------------------------------ login with amazon

    def grant(self, form) -> tuple[dict[str, Any], int]:
        """Login with Amazon's answer to a token request."""
        if form.get("grant_type") != "refresh_token":
            return {"error": "unsupported_grant_type",
                    "error_description": "The authorization grant type is not supported by "
                                         "the authorization server"}, 400
        if not (form.get("client_id") and form.get("client_secret")
                and form.get("refresh_token")):
            return {"error": "invalid_request",
                    "error_description": "The request is missing a required parameter : "
                                         "client_id, client_secret or refresh_token"}, 400
        if not (hmac.compare_digest(form["client_id"], self.client_id)
                and hmac.compare_digest(form["client_secret"], self.client_secret)):
            return {"error": "invalid_client",
                    "error_description": "Client authentication failed"}, 401
        if not hmac.compare_digest(form["refresh_token"], self.refresh_token):
            return {"error": "invalid_grant",
                    "error_description": "The request has an invalid grant parameter : "
                                         "refresh_token"}, 400
        token = "Atza|" + secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = self.clock() + TOKEN_LIFETIME
            self.grants += 1
        return {"access_token": token, "refresh_token": self.refresh_token,
                "token_type": "bearer", "expires_in": TOKEN_LIFETIME}, 200

    def expire_tokens(self) -> int:
        with self.lock:
            for token in self.tokens:
                self.tokens[token] = self.clock() - 1
            return len(self.tokens)

    # ------------------------------------------------------------ checks

    def address_problem(self, marketplace: str, address: dict[str, Any]) -> str | None:
        country = address.get("countryCode", "")
        if country not in SHIPS_TO.get(marketplace, ()):
            return "InvalidDestinationAddress"
        if not postal_code_ok(country, address.get("postalCode", "")):
            return "InvalidDestinationAddress"
        return None

    def item_reasons(self, sku: str, quantity: int) -> list[str]:
        problem = self.stock_problem(sku, quantity)
        return {"unknown": ["InvalidSKU"], "stock": ["InventoryUnavailable"]}.get(problem, [])

    def marketplace(self, named) -> str | None:
        """The marketplace a request's body or query names (the seller's first when it names
        none), or None when the seller does not sell there."""
        wanted = named.get("marketplaceId") or self.marketplaces[0]
        return wanted if wanted in self.marketplaces else None

    # ------------------------------------------------------------ operations

    def preview(self, marketplace: str, body: dict[str, Any]) -> dict[str, Any]:
        address_reason = self.address_problem(marketplace, body["address"])
        previews = []
        now = utcnow()
        for speed in body.get("shippingSpeedCategories") or SPEEDS:
            unfulfillable, fulfillable = [], []
            for item in body["items"]:
                reasons = self.item_reasons(item["sellerSku"], item["quantity"])
                row = {"sellerSku": item["sellerSku"], "quantity": item["quantity"],
                       "sellerFulfillmentOrderItemId": item["sellerFulfillmentOrderItemId"]}
                if reasons:
                    unfulfillable.append({**row, "itemUnfulfillableReasons": reasons})
                else:
                    fulfillable.append({**row, "shippingWeightCalculationMethod": "Package",
                                        "estimatedShippingWeight": {"unit": "POUNDS",
                                                                    "value": "1.2"}})
            preview: dict[str, Any] = {
                "shippingSpeedCategory": speed, "isFulfillable": False, "isCODCapable": False,
                "marketplaceId": marketplace}
            if address_reason:
                preview["orderUnfulfillableReasons"] = [address_reason]
            if unfulfillable:
                preview["unfulfillablePreviewItems"] = unfulfillable
            if not address_reason and not unfulfillable:
                units = sum(i["quantity"] for i in body["items"])
                arrival = now + timedelta(days=TRANSIT_DAYS[speed])
                preview.update(
                    isFulfillable=True,
                    estimatedShippingWeight={"unit": "POUNDS", "value": f"{1.2 * units:.1f}"},
                    estimatedFees=[
                        {"name": "FBAPerUnitFulfillmentFee",
                         "amount": {"currencyCode": "USD", "value": f"{3.5 * units:.2f}"}},
                        {"name": "FBAPerOrderFulfillmentFee",
                         "amount": {"currencyCode": "USD", "value": "0.00"}}],
                    fulfillmentPreviewShipments=[{
                        "earliestShipDate": stamp(now + timedelta(days=1)),
                        "latestShipDate": stamp(now + timedelta(days=2)),
                        "earliestArrivalDate": stamp(arrival),
                        "latestArrivalDate": stamp(arrival + timedelta(days=2)),
                        "fulfillmentPreviewItems": fulfillable}])
            previews.append(preview)
        return {"payload": {"fulfillmentPreviews": previews}}

    def create(self, marketplace: str, body: dict[str, Any]) -> Response | None:
        """Create the order, or Amazon's refusal (None: created)."""
        key = body["sellerFulfillmentOrderId"]
        if key in self.orders:
            return invalid_input(f"A fulfillment order with sellerFulfillmentOrderId {key} "
                                 "already exists.")
        for item in body["items"]:
            if item["sellerSku"] not in self.products:
                return invalid_input(f"the SellerSKU for Item Id: "
                                     f"{item['sellerFulfillmentOrderItemId']} is invalid.")
        valid = (self.address_problem(marketplace, body["destinationAddress"]) is None
                 and not any(self.item_reasons(i["sellerSku"], i["quantity"])
                             for i in body["items"]))
        if valid:
            for item in body["items"]:
                self.products[item["sellerSku"]] -= item["quantity"]
        now = utcnow()
        order = {k: body[k] for k in (
            "sellerFulfillmentOrderId", "displayableOrderId", "displayableOrderDate",
            "displayableOrderComment", "shippingSpeedCategory", "destinationAddress")}
        order.update(marketplaceId=marketplace,
                     fulfillmentAction=body.get("fulfillmentAction", "Ship"),
                     fulfillmentPolicy=body.get("fulfillmentPolicy", "FillOrKill"),
                     receivedDate=stamp(now), statusUpdatedDate=stamp(now),
                     fulfillmentOrderStatus="Received" if valid else "Invalid")
        if body.get("notificationEmails"):
            order["notificationEmails"] = body["notificationEmails"]
        arrival = now + timedelta(days=TRANSIT_DAYS[body["shippingSpeedCategory"]])
        items = [{"sellerSku": i["sellerSku"],
                  "sellerFulfillmentOrderItemId": i["sellerFulfillmentOrderItemId"],
                  "quantity": i["quantity"], "cancelledQuantity": 0,
                  "unfulfillableQuantity": 0 if valid else i["quantity"],
                  "fulfillmentNetworkSku": "X00" + uuid.uuid5(uuid.NAMESPACE_OID,
                                                              i["sellerSku"]).hex[:7].upper(),
                  "orderItemDisposition": "Sellable",
                  "estimatedShipDate": stamp(now + timedelta(days=1)),
                  "estimatedArrivalDate": stamp(arrival)} for i in body["items"]]
        self.orders[key] = {"order": order, "items": items, "shipments": []}
        self.creations[key] += 1
        return None

    def find(self, key: str) -> dict[str, Any]:
        try:
            return self.orders[key]
        except KeyError:
            raise LookupError(f"No fulfillment order {key}.") from None

    def set_status(self, key: str, status: str) -> dict[str, Any]:
        record = self.find(key)
        if status not in MODEL.definitions["FulfillmentOrderStatus"]["enum"]:
            raise ValueError(f"{status} is not a FulfillmentOrderStatus.")
        order = record["order"]
        if order["fulfillmentOrderStatus"] in RESERVED and status not in RESERVED + (
                "Complete", "CompletePartialled"):
            self._release(record)
        if status in ("Unfulfillable", "Invalid"):
            for item in record["items"]:
                item["unfulfillableQuantity"] = item["quantity"]
        order.update(fulfillmentOrderStatus=status, statusUpdatedDate=stamp(utcnow()))
        return self.answer(record)

    def _release(self, record: dict[str, Any]) -> None:
        for item in record["items"]:
            if item["sellerSku"] in self.products:
                self.products[item["sellerSku"]] += item["quantity"]

    def advance(self, key: str) -> dict[str, Any]:
        record = self.find(key)
        status = record["order"]["fulfillmentOrderStatus"]
        if status not in PROGRESSION[:-1]:
            raise ValueError(f"An order in {status} does not move on by itself.")
        following = PROGRESSION[PROGRESSION.index(status) + 1]
        if following == "Complete":
            return self.ship(key, [{"tracking_number": self._amzl_number(), "carrier": "AMZL"}])
        return self.set_status(key, following)

    def cancel(self, key: str) -> Response | None:
        record = self.find(key)
        status = record["order"]["fulfillmentOrderStatus"]
        if status == "Cancelled":
            return None
        if status not in CANCELLABLE:
            return invalid_input(f"Fulfillment order {key} cannot be cancelled: its status is "
                                 f"{status}.")
        self._release(record)
        for item in record["items"]:
            item["cancelledQuantity"] = item["quantity"]
        record["order"].update(fulfillmentOrderStatus="Cancelled",
                               statusUpdatedDate=stamp(utcnow()))
        return None

    def answer(self, record: dict[str, Any]) -> dict[str, Any]:
        payload = {"fulfillmentOrder": record["order"], "fulfillmentOrderItems": record["items"],
                   "returnItems": [], "returnAuthorizations": []}
        if record["shipments"]:
            payload["fulfillmentShipments"] = record["shipments"]
        return {"payload": payload}

    # ------------------------------------------------------------ control

    def _amzl_number(self) -> str:
        return "TBA" + f"{secrets.randbelow(10 ** 12):012d}"

    def ship(self, key: str, packages: list[dict[str, Any]]) -> dict[str, Any]:
        record = self.find(key)
        order = record["order"]
        if order["fulfillmentOrderStatus"] in ("Cancelled", "Invalid", "Unfulfillable"):
            raise ValueError(f"A {order['fulfillmentOrderStatus']} order cannot ship.")
        if not packages:
            raise ValueError("Give at least one package.")
        now = utcnow()
        arrival = now + timedelta(days=TRANSIT_DAYS[order["shippingSpeedCategory"]])
        rows = []
        for package in packages:
            number = len(self.packages) + 1
            carrier = package.get("carrier") or "AMZL"
            tracking = package.get("tracking_number") or self._amzl_number()
            row = {"packageNumber": number, "carrierCode": carrier, "trackingNumber": tracking,
                   "estimatedArrivalDate": stamp(arrival)}
            rows.append(row)
            self.packages[number] = {"key": key, "package": row, "shipDate": stamp(now),
                                     "status": "IN_TRANSIT", "deliveredDate": None}
        first = rows[0]["packageNumber"]
        record["shipments"].append({
            "amazonShipmentId": "D" + secrets.token_hex(4), "fulfillmentCenterId": "RNO1",
            "fulfillmentShipmentStatus": "SHIPPED", "shippingDate": stamp(now),
            "estimatedArrivalDate": stamp(arrival),
            "fulfillmentShipmentItem": [
                {"sellerSku": i["sellerSku"],
                 "sellerFulfillmentOrderItemId": i["sellerFulfillmentOrderItemId"],
                 "quantity": i["quantity"], "packageNumber": first} for i in record["items"]],
            "fulfillmentShipmentPackage": rows})
        order.update(fulfillmentOrderStatus="Complete", statusUpdatedDate=stamp(now))
        return self.answer(record)

    def deliver(self, key: str, tracking_number: str) -> dict[str, Any]:
        for state in self.packages.values():
            if state["key"] == key and state["package"]["trackingNumber"] == tracking_number:
                state.update(status="DELIVERED", deliveredDate=stamp(utcnow()))
                return self.tracking(state["package"]["packageNumber"])
        raise LookupError(f"No package {tracking_number} on order {key}.")

    def tracking(self, number: int) -> dict[str, Any]:
        state = self.packages[number]
        package = state["package"]
        address = self.orders[state["key"]]["order"]["destinationAddress"]
        where = {"city": address.get("city", ""), "state": address.get("stateOrRegion", ""),
                 "country": address["countryCode"]}
        events = [{"eventDate": state["shipDate"], "eventAddress": where,
                   "eventCode": "EVENT_101", "eventDescription": "Carrier notified to pick up "
                                                                 "package."}]
        details = {"packageNumber": number, "trackingNumber": package["trackingNumber"],
                   "carrierCode": package["carrierCode"], "shipDate": state["shipDate"],
                   "estimatedArrivalDate": package["estimatedArrivalDate"],
                   "shipToAddress": where, "currentStatus": state["status"]}
        if state["status"] == "DELIVERED":
            events.append({"eventDate": state["deliveredDate"], "eventAddress": where,
                           "eventCode": "EVENT_301", "eventDescription": "Delivered."})
            details.update(currentStatusDescription="Delivered.", signedForBy="FRONT_DOOR",
                           additionalLocationInfo="FRONT_DOOR")
        else:
            details["currentStatusDescription"] = "In transit."
        details["trackingEvents"] = list(reversed(events))
        return {"payload": details}


# ---------------------------------------------------------------- the app


def _check_traffic(house: AmazonMCFHouse, api: Blueprint) -> None:
    """Hold every request and answer of ``api`` to the model."""

    @api.before_request
    def _request():
        operation = request.url_rule.endpoint.rpartition(".")[2]
        body = request.get_json(silent=True) if request.method in ("POST", "PUT") else None
        if request.method in ("POST", "PUT") and body is None and request.get_data():
            return invalid_input("The request body is not valid JSON.")
        problems = MODEL.request_errors(operation, body=body, query=request.args,
                                        path=request.view_args or {})
        if problems:
            return invalid_input("; ".join(problems[:5]))
        return None

    @api.after_request
    def _answer(response: Response) -> Response:
        response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
        operation = request.url_rule.endpoint.rpartition(".")[2]
        problems = MODEL.response_errors(operation, response.status_code,
                                         response.get_json(silent=True))
        if not problems:
            return response
        with house.lock:
            house.violations.append(f"{operation} {response.status_code}: "
                                    + "; ".join(problems))
        return Response("The simulator's answer breaks Amazon's model: "
                        + "; ".join(problems), 500, mimetype="text/plain")


def _login_with_amazon(house: AmazonMCFHouse) -> Flask:
    lwa = Flask(__name__ + ".lwa")

    @lwa.post("/token")
    def token():
        body, status = house.grant(request.form)
        response = jsonify(body)
        response.status_code = status
        response.headers["Cache-Control"] = "no-store"
        return response

    return lwa


def create_app(*, client_id: str = "amzn1.application-oa2-client.crm",
               client_secret: str = "lwa-client-secret",  # noqa: S107 - public demo secret
               refresh_token: str = "Atzr|crm-refresh-token",  # noqa: S107 - demo token
               marketplaces: tuple[str, ...] = (US, CA), products: dict[str, int] | None = None,
               rate_limited: bool = True, clock: Callable[[], float] = time.monotonic
               ) -> Flask:
    """A seller selling in ``marketplaces`` whose app holds one LWA client and refresh
    token, with ``products`` in Amazon's fulfillment network."""
    house = AmazonMCFHouse(client_id=client_id, client_secret=client_secret,
                           refresh_token=refresh_token, marketplaces=marketplaces,
                           products=products, rate_limited=rate_limited, clock=clock)
    app = Flask(__name__)
    install(app, house)
    api = Blueprint("fulfillment_outbound", __name__, url_prefix=API)
    _check_traffic(house, api)

    control = control_blueprint("amazon_control")

    @control.post("/advance")
    def advance():
        with house.lock:
            return house.advance(request.get_json(force=True)["key"])

    @control.post("/status")
    def status():
        body = request.get_json(force=True)
        with house.lock:
            return house.set_status(body["key"], body["status"])

    @control.post("/expire-tokens")
    def expire_tokens():
        return {"expired": house.expire_tokens()}

    @control.get("/violations")
    def violations():
        with house.lock:
            return {"violations": list(house.violations)}

    @control.get("/calls")
    def calls():
        with house.lock:
            return {"operations": dict(house.calls), "tokens_granted": house.grants}

    @api.before_request
    def _sellers_marketplace():
        """The marketplace a request names (in its body or query) must be the seller's."""
        named = request.get_json(silent=True) if request.method in ("POST", "PUT") \
            else request.args
        g.marketplace = house.marketplace(named or {})
        if g.marketplace is None:
            return invalid_input(f"The seller is not registered in marketplace "
                                 f"{named['marketplaceId']}.")
        return None

    @api.get("/features")
    def getFeatures():  # noqa: N802 - the endpoint is the model's operationId
        return {"payload": {"features": [
            {"featureName": "BLANK_BOX", "featureDescription": "Ship in non-Amazon branded "
                                                               "packaging.",
             "sellerEligible": True},
            {"featureName": "BLOCK_AMZL", "featureDescription": "Block Amazon Logistics as "
                                                                "the carrier.",
             "sellerEligible": True}]}}

    @api.post("/fulfillmentOrders/preview")
    def getFulfillmentPreview():  # noqa: N802
        with house.lock:
            return house.preview(g.marketplace, request.get_json())

    @api.post("/fulfillmentOrders")
    def createFulfillmentOrder():  # noqa: N802
        with house.lock:
            refusal = house.create(g.marketplace, request.get_json())
        return refusal or {}

    @api.get("/fulfillmentOrders/<sellerFulfillmentOrderId>")
    def getFulfillmentOrder(sellerFulfillmentOrderId: str):  # noqa: N802, N803
        with house.lock:
            record = house.orders.get(sellerFulfillmentOrderId)
            return house.answer(record) if record else invalid_input(
                "Requested order not found")

    @api.put("/fulfillmentOrders/<sellerFulfillmentOrderId>/cancel")
    def cancelFulfillmentOrder(sellerFulfillmentOrderId: str):  # noqa: N802, N803
        with house.lock:
            if sellerFulfillmentOrderId not in house.orders:
                return invalid_input("Requested order not found")
            return house.cancel(sellerFulfillmentOrderId) or {}

    @api.get("/tracking")
    def getPackageTrackingDetails():  # noqa: N802
        number = int(request.args["packageNumber"])
        with house.lock:
            if number not in house.packages:
                return invalid_input(f"Package {number} not found.")
            return house.tracking(number)

    app.register_blueprint(api)
    app.register_blueprint(control)
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/auth/o2": _login_with_amazon(house)})
    return app


if __name__ == "__main__":
    main(create_app, prog="Amazon MCF", default_port=8104, api_path=API,
         credentials="LWA client amzn1.application-oa2-client.crm / lwa-client-secret, "
                     "refresh token Atzr|crm-refresh-token, token endpoint /auth/o2/token")
