"""Amazon Multi-Channel Fulfillment: the merchant's Amazon (FBA) inventory ships our orders,
through the Selling Partner API's Fulfillment Outbound 2020-07-01 operations.

A thin client written against Amazon's model (``simulators/contracts/amazon-mcf-
fulfillmentOutbound_2020-07-01.json``, which the simulator holds every request and answer
to), not ``python-amazon-sp-api`` (2.1.35, inspected): that client takes its API host from a
fixed ``Marketplaces`` table and its token host from a class attribute (``api.amazon.com``,
https only), so reaching a simulator means patching it; it caches access tokens in a
process-wide cache shared by every account; and it brings its own HTTP stack (httpx),
``cachetools`` and ``confuse``, outside the timeout and "may have been received" handling
every other house gets from ``adapters.http``.

Login with Amazon: the account keeps the app's client id and secret and the seller's
refresh token (encrypted, like every credential). An access token is fetched from the token
endpoint when first needed, kept in this adapter instance until a minute before it expires,
never stored, and fetched again once when Amazon answers 401 or 403 with a cached one.

Sending: our key is the ``sellerFulfillmentOrderId`` (at most 40 characters; ours are 18)
and the house reference. An order Amazon already holds under the key is the outcome (a
resend after a crash or a timeout finds it, and ``lookup`` does the same). Otherwise
``getFulfillmentPreview`` is asked first: an unknown SKU, short inventory or an address
Amazon will not ship to is refused with its typed reason and Amazon's reason codes, and
nothing is created. The shipping speed is the ship profile's house code when it names one of
Standard, Expedited or Priority, else the account's choice.

Tracking reads ``getFulfillmentOrder``: each shipped package with its tracking number and
carrier; packages carried by Amazon's own carrier (AMZL), which no carrier tracker of ours
follows, carry what ``getPackageTrackingDetails`` says of them (``Package.house_status``,
and the delivery date), so the house moves them to Shipped and Delivered. Amazon's
``Unfulfillable`` and ``Invalid`` statuses are a final ``HouseProblem`` (the reason from a
fresh preview of the order), ``Cancelled`` a cancellation.

Rate limits: Amazon's usage plans are token buckets per operation (2 requests a second,
burst 30, for every operation used here). The adapter keeps the same bucket, at the rate the
last ``x-amzn-RateLimit-Limit`` header announced, and waits (``pace``, up to ``max_pace``)
when it is empty; a 429, which names no time, is waited out one token at a time.
"""
from __future__ import annotations

import logging
import re
import time
from datetime import datetime
from typing import Any, Sequence

import requests

from adapters.base import (
    Accepted,
    AdapterError,
    CarrierStatus,
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
    pattern_validator,
    url_validator,
)
from adapters.http import HouseCallFailed, HouseSession, error_message, parse_time, reason_for

log = logging.getLogger(__name__)

API = "/fba/outbound/2020-07-01"
LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"  # noqa: S105 - a URL, not a secret
ENDPOINTS = {"na": "https://sellingpartnerapi-na.amazon.com",
             "eu": "https://sellingpartnerapi-eu.amazon.com",
             "fe": "https://sellingpartnerapi-fe.amazon.com"}
#: marketplace id -> (label, region)
MARKETPLACES = {
    "ATVPDKIKX0DER": ("United States (amazon.com)", "na"),
    "A2EUQ1WTGCTBG2": ("Canada (amazon.ca)", "na"),
    "A1AM78C64UM0Y8": ("Mexico (amazon.com.mx)", "na"),
    "A2Q3Y263D00KWC": ("Brazil (amazon.com.br)", "na"),
    "A1F83G8C2ARO7P": ("United Kingdom (amazon.co.uk)", "eu"),
    "A1PA6795UKMFR9": ("Germany (amazon.de)", "eu"),
    "A13V1IB3VIYZZH": ("France (amazon.fr)", "eu"),
    "APJ6JRA9NG5V4": ("Italy (amazon.it)", "eu"),
    "A1RKKUPIHCS9HS": ("Spain (amazon.es)", "eu"),
    "A1805IZSGTT6HS": ("Netherlands (amazon.nl)", "eu"),
    "A2NODRKZP88ZB9": ("Sweden (amazon.se)", "eu"),
    "A1C3SOZRARQ6R3": ("Poland (amazon.pl)", "eu"),
    "AMEN7PMS3EDWL": ("Belgium (amazon.com.be)", "eu"),
    "A28R8C7NBKEWEA": ("Ireland (amazon.ie)", "eu"),
    "A21TJRUUN4KGV": ("India (amazon.in)", "eu"),
    "A1VC38T7YXB528": ("Japan (amazon.co.jp)", "fe"),
    "A39IBJ37TRP1C6": ("Australia (amazon.com.au)", "fe"),
    "A19VAU5U5O7RUS": ("Singapore (amazon.sg)", "fe"),
}
SPEEDS = ("Standard", "Expedited", "Priority")
#: Amazon's documented usage plan of every operation used here
RATE, BURST = 2.0, 30
#: 429s waited out in a row before giving up for now
RATE_LIMIT_RETRIES = 3
#: seconds before an access token's expiry when it is no longer used
TOKEN_MARGIN = 60
#: carrier codes of Amazon's own delivery network
AMAZON_CARRIERS = re.compile(r"AMZ|AMAZON", re.IGNORECASE)
#: Amazon's package tracking statuses (``CurrentStatus``) as our carrier statuses; the
#: others (``UNKNOWN``, the ``PICKUP_…`` ones of return pickups) say nothing new
PACKAGE_STATUSES = {
    "IN_TRANSIT": CarrierStatus.IN_TRANSIT, "OUT_FOR_DELIVERY": CarrierStatus.IN_TRANSIT,
    "DELAYED": CarrierStatus.IN_TRANSIT, "DELIVERY_ATTEMPTED": CarrierStatus.IN_TRANSIT,
    "AVAILABLE_FOR_PICKUP": CarrierStatus.IN_TRANSIT, "DELIVERED": CarrierStatus.DELIVERED,
    "RETURNING": CarrierStatus.RETURNED,
    "RETURNED": CarrierStatus.RETURNED, "RETURN_RECEIVED_IN_FC": CarrierStatus.RETURNED,
    "UNDELIVERABLE": CarrierStatus.EXCEPTION, "CUSTOMER_ACTION": CarrierStatus.EXCEPTION,
}
#: the tracking event "Package delivered"
DELIVERED_EVENT = "EVENT_301"
#: what Amazon's preview reason codes mean for support
_REASONS = ((FailureReason.SKU, ("sku", "asin", "listing")),
            (FailureReason.STOCK, ("inventory", "stock", "quantity")),
            (FailureReason.ADDRESS, ("address", "destination", "postal", "sla")))
_ORDER_ID_LIMIT = 40
_ISO_8859_1 = re.compile(r"[\x20-\x7e\xa0-\xff]+")


def _is_not_found(response: requests.Response) -> bool:
    """Amazon's "Requested order not found" (a 400 InvalidInput; 404 where it says so)."""
    return response.status_code == 404 or (response.status_code == 400
                                           and "not found" in error_message(response).lower())


def _preview_reason(codes: Sequence[str]) -> FailureReason:
    for reason, words in _REASONS:
        if any(word in code.lower() for code in codes for word in words):
            return reason
    return FailureReason.OTHER


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class AmazonMCFHouse(HouseAdapter):
    key = "amazon_mcf"
    name = "Amazon MCF"
    description = ("Ships each order from your inventory in Amazon's fulfillment network "
                   "(Multi-Channel Fulfillment), after Amazon confirms it can; reads back "
                   "tracking, and delivery for Amazon's own carrier.")
    website = "https://sell.amazon.com/fulfillment-by-amazon/mcf"
    logo = "amazon_mcf.svg"
    mode = "push"
    batch_size = 1
    default_base_url = ENDPOINTS["na"]
    simulator = "simulators.amazon_mcf"
    #: Amazon posts no webhooks to a seller's own system (its notifications go to SQS or
    #: EventBridge): the tracking check asks it
    webhook = None
    fields = (
        CredentialField("client_id", "LWA client identifier",
                        help="Seller Central → Apps and Services → Develop Apps → your app → "
                             "LWA credentials.",
                        validator=pattern_validator(
                            r"amzn1\.application-oa2-client\.[A-Za-z0-9]{1,64}",
                            "An LWA client identifier starts with "
                            "amzn1.application-oa2-client.")),
        CredentialField("client_secret", "LWA client secret", kind=FieldKind.SECRET,
                        help="Shown beside the client identifier."),
        CredentialField("refresh_token", "Refresh token", kind=FieldKind.SECRET,
                        help="The Atzr|… token Seller Central shows when you authorize the app "
                             "for your selling account.",
                        validator=pattern_validator(r"Atzr\|\S{1,2000}",
                                                    "A refresh token starts with Atzr|.")),
        CredentialField("marketplace_id", "Marketplace", kind=FieldKind.CHOICE,
                        choices=tuple((mid, label) for mid, (label, _) in MARKETPLACES.items()),
                        default="ATVPDKIKX0DER",
                        help="Where your FBA inventory is; it also picks Amazon's regional "
                             "endpoint."),
        CredentialField("shipping_speed", "Shipping speed", kind=FieldKind.CHOICE,
                        choices=tuple((s, s) for s in SPEEDS), default="Standard",
                        help="Used unless a product's ship profile names Standard, Expedited "
                             "or Priority as its house ship code."),
        CredentialField("packing_slip_comment", "Packing slip comment", required=False,
                        default="Thank you for your order.",
                        help="Printed on Amazon's packing slip (at most 750 characters).",
                        validator=lambda v: None if len(v) <= 750 else
                        "Amazon prints at most 750 characters."),
        CredentialField("base_url", "SP-API endpoint", required=False, advanced=True,
                        validator=url_validator,
                        help="Leave empty to use the endpoint of the marketplace's region "
                             f"({ENDPOINTS['na']} for North America). Set it only to reach "
                             "a local simulator."),
        CredentialField("token_url", "Login with Amazon token URL", required=False,
                        advanced=True, validator=url_validator,
                        help=f"Leave empty to use {LWA_TOKEN_URL}."),
    )

    def __init__(self, credentials: dict[str, str], base_url: str | None = None, **kwargs):
        region = MARKETPLACES.get(credentials.get("marketplace_id", ""), ("", "na"))[1]
        super().__init__(credentials, base_url or ENDPOINTS[region], **kwargs)
        self.http = HouseSession(self.name, self.base_url + API, timeout=self.timeout,
                                 retry_after_header="Retry-After")
        self.login = HouseSession("Login with Amazon",
                                  credentials.get("token_url") or LWA_TOKEN_URL,
                                  timeout=self.timeout, retry_after_header="Retry-After")
        self._token: str | None = None
        self._token_until = 0.0
        self._rate: dict[str, float] = {}
        #: operation -> (tokens left, when counted), Amazon's bucket as we reckon it
        self._buckets: dict[str, tuple[float, float]] = {}

    @property
    def marketplace_id(self) -> str:
        return self.credentials.get("marketplace_id") or "ATVPDKIKX0DER"

    # ------------------------------------------------------------ login with amazon

    def _access_token(self) -> str:
        if self._token and time.monotonic() < self._token_until:
            return self._token
        form = {"grant_type": "refresh_token",
                "refresh_token": self.credentials.get("refresh_token", ""),
                "client_id": self.credentials.get("client_id", ""),
                "client_secret": self.credentials.get("client_secret", "")}
        try:
            response = self.login.call("POST", "", data=form)
        except HouseCallFailed as exc:
            if exc.reason is FailureReason.CREDENTIALS:
                raise HouseCallFailed(
                    "Login with Amazon refused the LWA client identifier and secret "
                    f"(HTTP {exc.status}); copy both again from your app's LWA credentials.",
                    transient=False, reason=FailureReason.CREDENTIALS, status=exc.status
                ) from exc
            raise HouseCallFailed(str(exc), transient=exc.transient,
                                  retry_after=exc.retry_after, status=exc.status) from exc
        body = _json(response)
        if response.status_code != 200 or not body.get("access_token"):
            words = f"{body.get('error', '')}: {body.get('error_description', '')}".strip(": ")
            raise HouseCallFailed(
                f"Login with Amazon refused the refresh token ({words or response.status_code})"
                "; authorize the app again in Seller Central and paste the new refresh token.",
                transient=False, reason=FailureReason.CREDENTIALS, status=response.status_code)
        self._token = body["access_token"]
        lifetime = float(body.get("expires_in") or 3600)
        self._token_until = time.monotonic() + max(lifetime - TOKEN_MARGIN, lifetime / 2)
        return self._token

    # ------------------------------------------------------------ calls

    def _call(self, operation: str, method: str, path: str, *, json: Any = None,
              params: dict[str, Any] | None = None) -> requests.Response:
        """One SP-API call: an access token (fetched again once when Amazon refuses a cached
        one), paced by the operation's usage plan, 429s waited out where ``pace`` allows."""
        waited = 0.0
        refreshed = False
        while True:
            cached = self._token is not None and time.monotonic() < self._token_until
            self.http.session.headers["x-amz-access-token"] = self._access_token()
            self._wait_for_token(operation)
            try:
                response = self.http.call(method, path, json=json, params=params)
            except HouseCallFailed as exc:
                if exc.status in (401, 403) and cached and not refreshed:
                    self._token, refreshed = None, True
                    continue
                if exc.status != 429:
                    raise
                self._buckets[operation] = (0.0, time.monotonic())
                wait = 1 / self._rate.get(operation, RATE)
                if self.pace and waited + wait <= self.max_pace \
                        and waited < wait * RATE_LIMIT_RETRIES:
                    self.pace(wait)
                    waited += wait
                    continue
                raise HouseCallFailed(f"Amazon's usage plan for {operation} is used up for now: "
                                      f"{exc}", retry_after=wait, status=429) from exc
            announced = response.headers.get("x-amzn-RateLimit-Limit")
            try:
                self._rate[operation] = max(float(announced), 0.001)
            except (TypeError, ValueError):
                pass
            return response

    def _wait_for_token(self, operation: str) -> None:
        """Take one token of the operation's bucket, first waiting for it when the bucket
        is empty and ``pace`` may wait that long."""
        rate = self._rate.get(operation, RATE)
        now = time.monotonic()
        tokens, then = self._buckets.get(operation, (float(BURST), now))
        tokens = min(float(BURST), tokens + (now - then) * rate)
        if tokens < 1:
            wait = (1 - tokens) / rate
            if self.pace and wait <= self.max_pace:
                self.pace(wait)
                tokens = 1.0
        self._buckets[operation] = (max(tokens - 1, 0.0), time.monotonic())

    def _order(self, key: str) -> dict[str, Any] | None:
        """Amazon's ``getFulfillmentOrder`` payload for ``key``, or None when it has none."""
        response = self._call("getFulfillmentOrder", "GET", f"/fulfillmentOrders/{key}")
        if _is_not_found(response):
            return None
        if response.status_code != 200:
            raise _refusal(response, "read the fulfillment order")
        return _json(response).get("payload") or {}

    # ------------------------------------------------------------ the five calls

    def check_credentials(self) -> str | None:
        try:
            response = self._call("getFeatures", "GET", "/features",
                                  params={"marketplaceId": self.marketplace_id})
        except HouseCallFailed as exc:
            return str(exc) if exc.reason is FailureReason.CREDENTIALS or exc.transient \
                else f"Amazon could not be asked: {exc}"
        if response.status_code == 200:
            return None
        return (f"Amazon refused marketplace {self.marketplace_id}: "
                f"{error_message(response)} Choose the marketplace your FBA inventory is in.")

    def send(self, orders: Sequence[OrderPayload]) -> list[SendOutcome]:
        if len(orders) > self.batch_size:
            raise ValueError(f"at most {self.batch_size} orders per call")
        return [self._send_one(order) for order in orders]

    def _send_one(self, order: OrderPayload) -> SendOutcome:
        if len(order.key) > _ORDER_ID_LIMIT or not _ISO_8859_1.fullmatch(order.key):
            return Rejected(order.key, FailureReason.OTHER,
                            f"Amazon takes order ids of 1 to {_ORDER_ID_LIMIT} Latin-1 "
                            f"characters; {order.key!r} is not one.")
        try:
            if self._order(order.key) is not None:
                return Accepted(order.key, order.key)
            refusal = self._preview(order)
        except HouseCallFailed as exc:
            # nothing was created yet: a retry can only help, never duplicate
            outcome = exc.outcome(order.key)
            return (Transient(order.key, outcome.message, outcome.retry_after,
                              rate_limited=outcome.rate_limited)
                    if isinstance(outcome, Transient) else outcome)
        except AdapterError as exc:
            return Rejected(order.key, exc.reason, str(exc))
        if refusal:
            return refusal
        try:
            response = self._call("createFulfillmentOrder", "POST", "/fulfillmentOrders",
                                  json=self._create_body(order))
            if response.status_code == 200:
                return Accepted(order.key, order.key)
            message = error_message(response)
            if response.status_code == 400 and "already exists" in message:
                found = self.lookup([order.key])
                if order.key in found:
                    return found[order.key]
        except HouseCallFailed as exc:
            return exc.outcome(order.key)
        return Rejected(order.key, reason_for(message),
                        f"Amazon refused the order (HTTP {response.status_code}): {message}")

    def _speed(self, order: OrderPayload) -> str:
        named = {s.lower(): s for s in SPEEDS}.get(order.ship_method.strip().lower())
        return named or self.credentials.get("shipping_speed") or "Standard"

    @staticmethod
    def _address(order: OrderPayload) -> dict[str, str]:
        to = order.ship_to
        address = {"name": to.name, "addressLine1": to.address1, "addressLine2": to.address2,
                   "city": to.city, "stateOrRegion": to.state, "postalCode": to.postal_code,
                   "countryCode": to.country, "phone": to.phone}
        return {k: v for k, v in address.items() if v}

    @staticmethod
    def _items(order: OrderPayload) -> list[dict[str, Any]]:
        return [{"sellerSku": line.sku, "sellerFulfillmentOrderItemId": str(n),
                 "quantity": line.quantity} for n, line in enumerate(order.lines, 1)]

    def _preview(self, order: OrderPayload) -> Rejected | None:
        """Amazon's preview of ``order`` at its speed: a refusal when Amazon cannot fulfil
        it, None when it can."""
        speed = self._speed(order)
        reason, message = self._preview_problem(self._address(order), self._items(order), speed)
        return Rejected(order.key, reason, message) if message else None

    def _preview_problem(self, address: dict[str, str], items: list[dict[str, Any]],
                         speed: str) -> tuple[FailureReason, str]:
        """(reason, Amazon's words) when Amazon would not fulfil these items to this address
        at this speed; (OTHER, "") when it would."""
        body = {"marketplaceId": self.marketplace_id, "address": address, "items": items,
                "shippingSpeedCategories": [speed]}
        response = self._call("getFulfillmentPreview", "POST", "/fulfillmentOrders/preview",
                              json=body)
        if response.status_code != 200:
            message = error_message(response)
            return reason_for(message), f"Amazon refused the preview: {message}"
        previews = (_json(response).get("payload") or {}).get("fulfillmentPreviews") or []
        preview = next((p for p in previews if p.get("shippingSpeedCategory") == speed), None)
        if preview is None:
            return FailureReason.OTHER, f"Amazon offers no {speed} shipping for this order."
        if preview.get("isFulfillable"):
            return FailureReason.OTHER, ""
        words, codes = [], []
        for item in preview.get("unfulfillablePreviewItems") or ():
            reasons = item.get("itemUnfulfillableReasons") or ["unfulfillable"]
            codes += reasons
            words.append(f"{item.get('sellerSku')} × {item.get('quantity')}: "
                         + ", ".join(reasons))
        order_reasons = preview.get("orderUnfulfillableReasons") or ()
        if order_reasons:
            codes += order_reasons
            where = ", ".join(address.get(k, "") for k in ("addressLine1", "city",
                                                            "stateOrRegion", "postalCode",
                                                            "countryCode") if address.get(k))
            words.append(f"{', '.join(order_reasons)} ({where})")
        return (_preview_reason(codes),
                f"Amazon cannot fulfil this order ({speed}): " + "; ".join(words or ["no reason "
                                                                                   "given"]))

    def _create_body(self, order: OrderPayload) -> dict[str, Any]:
        shown = re.sub(r"\s{2,}", " ", order.order_number).strip()[:_ORDER_ID_LIMIT] or order.key
        return {
            "marketplaceId": self.marketplace_id,
            "sellerFulfillmentOrderId": order.key,
            "displayableOrderId": shown,
            "displayableOrderDate": _timestamp(order.order_date),
            "displayableOrderComment": (self.credentials.get("packing_slip_comment")
                                        or "Thank you for your order.")[:750],
            "shippingSpeedCategory": self._speed(order),
            "destinationAddress": self._address(order),
            "fulfillmentAction": "Ship",
            "fulfillmentPolicy": "FillOrKill",
            "items": self._items(order),
        }

    def lookup(self, keys: Sequence[str]) -> dict[str, Accepted]:
        return {key: Accepted(key, key) for key in keys if self._order(key) is not None}

    def fetch_tracking(self, orders: Sequence[SentOrder]) -> list[TrackingInfo]:
        infos = []
        for sent in orders:
            payload = self._order(sent.key)
            if payload is None:
                continue
            info = self._tracking(sent, payload)
            if info.packages or info.cancelled or info.problem:
                infos.append(info)
        return infos

    def _tracking(self, sent: SentOrder, payload: dict[str, Any]) -> TrackingInfo:
        order = payload.get("fulfillmentOrder") or {}
        status = order.get("fulfillmentOrderStatus", "")
        if status == "Cancelled":
            return TrackingInfo(sent.key, sent.house_reference, cancelled=True)
        if status in ("Unfulfillable", "Invalid"):
            return TrackingInfo(sent.key, sent.house_reference,
                                problem=self._problem(status, order, payload))
        speed = order.get("shippingSpeedCategory", "")
        packages = []
        for shipment in payload.get("fulfillmentShipments") or ():
            if shipment.get("fulfillmentShipmentStatus") != "SHIPPED":
                continue
            shipped_at = parse_time(shipment.get("shippingDate"))
            for package in shipment.get("fulfillmentShipmentPackage") or ():
                number = package.get("trackingNumber")
                if not number:
                    continue
                carrier = package.get("carrierCode") or ""
                fields = {"tracking_number": number, "carrier": carrier, "ship_method": speed,
                          "shipped_at": shipped_at}
                packages.append(self._own_carrier(package, **fields)
                                if AMAZON_CARRIERS.match(carrier) else Package(**fields))
        return TrackingInfo(sent.key, sent.house_reference, tuple(packages))

    def _own_carrier(self, package: dict[str, Any], **fields: Any) -> Package:
        """A package of Amazon's own carrier, where Amazon's package tracking puts it."""
        response = self._call("getPackageTrackingDetails", "GET", "/tracking",
                              params={"packageNumber": package["packageNumber"]})
        if response.status_code != 200:
            # no tracking yet: the package waits for its first scan, asked again next time
            return Package(**fields, house_status=CarrierStatus.PRE_TRANSIT,
                           house_status_detail="Amazon has no tracking for it yet.")
        details = _json(response).get("payload") or {}
        current = details.get("currentStatus") or "UNKNOWN"
        status = PACKAGE_STATUSES.get(current, CarrierStatus.UNKNOWN)
        words = details.get("currentStatusDescription") or current.replace("_", " ").lower()
        delivered_at = None
        if status is CarrierStatus.DELIVERED:
            dates = [parse_time(e.get("eventDate")) for e in details.get("trackingEvents") or ()
                     if e.get("eventCode") == DELIVERED_EVENT]
            delivered_at = max((d for d in dates if d), default=None) or self.clock()
        return Package(**fields, delivered_at=delivered_at, house_status=status,
                       house_status_detail=words)

    def _problem(self, status: str, order: dict[str, Any], payload: dict[str, Any]
                 ) -> HouseProblem:
        """Why Amazon will not ship an order it marked ``status``: a fresh preview of the
        same items to the same address names the reason where it still applies."""
        items = [{"sellerSku": i["sellerSku"], "quantity": i["quantity"],
                  "sellerFulfillmentOrderItemId": i["sellerFulfillmentOrderItemId"]}
                 for i in payload.get("fulfillmentOrderItems") or ()]
        reason, words = FailureReason.REJECTED, ""
        if items and order.get("destinationAddress"):
            try:
                reason, words = self._preview_problem(order["destinationAddress"], items,
                                                      order.get("shippingSpeedCategory")
                                                      or "Standard")
            except AdapterError as exc:  # the status alone still says the order is lost
                log.warning("Amazon's preview of %s failed: %s", order.get(
                    "sellerFulfillmentOrderId"), exc)
            reason = reason if words else FailureReason.REJECTED
        meaning = {"Unfulfillable": "no sellable inventory was found for its items",
                   "Invalid": "its address or inventory could not be validated"}[status]
        return HouseProblem(reason, f"Amazon marked the order {status}: {meaning}."
                            + (f" {words}" if words else ""), final=True)

    def cancel(self, order: SentOrder) -> None:
        try:
            response = self._call("cancelFulfillmentOrder", "PUT",
                                  f"/fulfillmentOrders/{order.key}/cancel")
        except HouseCallFailed as exc:
            raise AdapterError(str(exc), transient=exc.transient, retry_after=exc.retry_after,
                               reason=exc.reason) from exc
        if response.status_code == 200:
            return
        if _is_not_found(response):
            raise AdapterError(f"Amazon has no fulfillment order {order.key}.", transient=False)
        raise AdapterError(f"Amazon would not cancel the order: {error_message(response)}",
                           transient=False)


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise HouseCallFailed(f"Amazon answered HTTP {response.status_code} without JSON.",
                              maybe_received=True, status=response.status_code) from exc
    return body if isinstance(body, dict) else {}


def _refusal(response: requests.Response, doing: str) -> AdapterError:
    message = error_message(response)
    return AdapterError(f"Amazon refused to {doing} (HTTP {response.status_code}): {message}",
                        transient=False, reason=reason_for(message))
