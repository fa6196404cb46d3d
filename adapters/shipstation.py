"""ShipStation (API v1): up to 100 orders per ``POST /orders/createorders``.

Our key is sent as ``orderKey``, ShipStation's upsert key, so a resend replaces the open
order instead of creating a second one; the house reference is ShipStation's ``orderId``.
ShipStation reads and writes every date-time as Pacific wall time without an offset, so
times go out converted to ``America/Los_Angeles`` and come back converted to UTC.

Finding an order: by ``orderId`` when we have it, else by ``orderNumber`` (a starts-with
search, read to its last page) and our ``orderKey``; ShipStation cannot filter by key, so
``lookup`` with keys alone only reads the most recently modified orders, while
``lookup_sent`` (given the numbers) finds an order however old it is.

Tracking reads both ``/shipments`` (labels made in ShipStation) and ``/fulfillments``
(orders a 3PL marked shipped from its own system), skipping voided ones. An order the
house holds (``on_hold``) or its 3PL refused (``rejected_fulfillment``) comes back as a
``HouseProblem`` carrying the order's ``internalNotes`` (where the warehouse's reason is
written; *guessed*: ShipStation documents no reason field). Cancelling resends the order
as ShipStation holds it with ``orderStatus: "cancelled"`` under the same key, which
ShipStation only allows while the order is awaiting payment or shipment or on hold.
ShipStation's webhooks carry only a ``resource_url``: ``notified_in`` reads it, on the
account's own API host or one of ShipStation's numbered ``ssapiN`` hosts only.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Sequence
from zoneinfo import ZoneInfo

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
    Transient,
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
)
from adapters.webhooks import WebhookSpec, read_shipstation

#: pages of 500 recent orders ``lookup`` reads at most (ShipStation cannot filter by orderKey)
LOOKUP_PAGES = 4
#: pages of a webhook's resource read at most (a notification batch is rarely one page)
RESOURCE_PAGES = 5
#: ShipStation's own clock
PACIFIC = ZoneInfo("America/Los_Angeles")
#: the hosts ShipStation hands out in webhook ``resource_url``s besides the account's own
API_HOSTS = re.compile(r"ssapi\d*\.shipstation\.com")
#: statuses in which createorder may still change an order (and so cancel it)
CHANGEABLE = ("awaiting_payment", "awaiting_shipment", "on_hold")
#: statuses meaning the order is with the house and moving normally
OPEN = ("awaiting_payment", "awaiting_shipment", "pending_fulfillment")
_OFFSET = re.compile(r"(Z|[+-]\d\d:?\d\d)$")


class ShipStationHouse(HouseAdapter):
    key = "shipstation"
    name = "ShipStation"
    description = ("Sends orders to ShipStation, where you or your 3PL print labels. Tracking "
                   "comes back from labels made in ShipStation and from orders your warehouse "
                   "marks shipped.")
    website = "https://www.shipstation.com"
    logo = "shipstation.svg"
    mode = "push"
    batch_size = 100
    default_base_url = "https://ssapi.shipstation.com"
    official_hosts = ("ssapi.shipstation.com",)
    simulator = "simulators.shipstation"
    webhook = WebhookSpec(
        "shipstation", read=read_shipstation,
        topics=("SHIP_NOTIFY", "FULFILLMENT_SHIPPED", "FULFILLMENT_REJECTED"),
        setup="In ShipStation, subscribe this URL to the “On Items Shipped” (SHIP_NOTIFY) "
              "event, and to FULFILLMENT_SHIPPED and FULFILLMENT_REJECTED if a warehouse "
              "ships from its own system (Settings → Integrations → Webhooks, or "
              "POST /webhooks/subscribe).")
    fields = (
        CredentialField("api_key", "API Key",
                        help="In ShipStation: Settings → Account → API Settings."),
        CredentialField("api_secret", "API Secret", kind=FieldKind.SECRET,
                        help="Shown next to the API Key in ShipStation's API Settings."),
        CredentialField("store_id", "Store ID",
                        help="The number of the store orders go to (Settings → Selling "
                             "Channels → Store Setup; it is in the store's address).",
                        validator=pattern_validator(r"\d{1,12}",
                                                    "A ShipStation Store ID is a number.")),
        base_url_field(default_base_url),
    )

    def __init__(self, credentials: dict[str, str], base_url: str | None = None, **kwargs):
        super().__init__(credentials, base_url, **kwargs)
        self.http = HouseSession(
            self.name, self.base_url, timeout=self.timeout, retry_after_header="X-Rate-Limit-Reset",
            remaining_header="X-Rate-Limit-Remaining", limit_header="X-Rate-Limit-Limit",
            pace=self.pace, max_pace=self.max_pace, allowance=self.allowance,
            auth=(credentials.get("api_key", ""), credentials.get("api_secret", "")))

    @property
    def store_id(self) -> str:
        return self.credentials.get("store_id", "")

    def check_credentials(self) -> str | None:
        try:
            response = self.http.call("GET", "/stores")
            if response.status_code != 200:
                return str(refusal_error(response, self.name, "list the account's stores"))
            stores = read_json(response, self.name)
        except AdapterError as exc:
            if exc.reason is FailureReason.CREDENTIALS:
                return ("ShipStation refused the API Key and Secret: copy both again from "
                        "Settings → Account → API Settings.")
            return f"ShipStation could not be asked: {exc}"
        if not any(str(store.get("storeId")) == self.store_id for store in stores):
            return f"This ShipStation account has no store with ID {self.store_id}."
        return None

    def _body(self, order: OrderPayload) -> dict[str, Any]:
        to = order.ship_to
        return {
            "orderNumber": order.order_number,
            "orderKey": order.key,
            "orderDate": to_pacific(order.order_date),
            "orderStatus": "awaiting_shipment",
            "customerEmail": order.customer_email or to.email or None,
            "billTo": {"name": to.name},
            "shipTo": {"name": to.name, "company": to.company or None, "street1": to.address1,
                       "street2": to.address2 or None, "city": to.city, "state": to.state,
                       "postalCode": to.postal_code, "country": to.country,
                       "phone": to.phone or None},
            "items": [{"sku": line.sku, "name": line.name, "quantity": line.quantity,
                       "unitPrice": float(line.unit_price)} for line in order.lines],
            # the ship profile's house code: the service as this ShipStation account names it
            "requestedShippingService": order.ship_method or None,
            "advancedOptions": {"storeId": int(self.store_id) if self.store_id.isdigit()
                                else self.store_id},
        }

    def send(self, orders: Sequence[OrderPayload]) -> list[SendOutcome]:
        if len(orders) > self.batch_size:
            raise ValueError(f"at most {self.batch_size} orders per call")
        if not orders:
            return []
        try:
            response = self.http.call("POST", "/orders/createorders",
                                      json=[self._body(o) for o in orders])
            if response.status_code != 200:
                return self._refused_batch(orders, response)
            results = {r.get("orderKey"): r for r in read_json(response, self.name)["results"]}
        except HouseCallFailed as exc:
            return [exc.outcome(o.key) for o in orders]
        return [self._outcome(order, results.get(order.key)) for order in orders]

    def _outcome(self, order: OrderPayload, result: dict[str, Any] | None) -> SendOutcome:
        if result is None:
            return Transient(order.key, "ShipStation's answer did not mention this order.",
                             maybe_received=True)
        if result.get("success") or result.get("orderId"):
            # a failed result naming an orderId is an order ShipStation already holds under
            # our key, shipped or cancelled since: it was received
            return Accepted(order.key, str(result["orderId"]))
        message = result.get("errorMessage") or "ShipStation refused the order."
        return Rejected(order.key, reason_for(message), message)

    def _refused_batch(self, orders: Sequence[OrderPayload], response) -> list[SendOutcome]:
        """A 4xx refuses the whole batch; the orders it names are rejected, the others were
        refused only for their company and can go again at once."""
        message = error_message(response)
        try:
            model_state = response.json().get("ModelState") or {}
        except (ValueError, AttributeError):
            model_state = {}
        named = {int(field.split("[", 1)[1].split("]", 1)[0]) for field in model_state
                 if field.startswith("apiOrders[")}
        outcomes: list[SendOutcome] = []
        for i, order in enumerate(orders):
            if named and i not in named:
                outcomes.append(Transient(order.key, "ShipStation refused the batch for another "
                                          "order in it; this one can be sent again.",
                                          retry_after=0.0))
                continue
            mine = " ".join(f"{field}: {'; '.join(msgs)}" for field, msgs in model_state.items()
                            if field.startswith(f"apiOrders[{i}]")) or message
            outcomes.append(Rejected(order.key, reason_for(mine),
                                     f"HTTP {response.status_code}: {mine}"))
        return outcomes

    def lookup(self, keys: Sequence[str]) -> dict[str, Accepted]:
        wanted, found = set(keys), {}
        for page in range(1, LOOKUP_PAGES + 1):
            data = read_json(self.http.call("GET", "/orders", params={
                "storeId": self.store_id, "sortBy": "ModifyDate", "sortDir": "DESC",
                "pageSize": 500, "page": page}), self.name)
            for order in data["orders"]:
                if order.get("orderKey") in wanted:
                    found[order["orderKey"]] = Accepted(order["orderKey"], str(order["orderId"]))
            if len(found) == len(wanted) or page >= data.get("pages", 1):
                break
        return found

    def lookup_sent(self, orders: Sequence[SentOrder]) -> dict[str, Accepted]:
        found = {}
        for sent in orders:
            order = self._numbered(sent) if sent.order_number else None
            if order is not None:
                found[sent.key] = Accepted(sent.key, str(order["orderId"]))
        unnumbered = [sent.key for sent in orders if not sent.order_number]
        return {**found, **(self.lookup(unnumbered) if unnumbered else {})}

    def _numbered(self, sent: SentOrder) -> dict[str, Any] | None:
        """Our order among those whose number starts with ``sent.order_number``: every page
        of the search is read, until our key turns up."""
        page, pages = 1, 1
        while page <= pages:
            data = read_json(self.http.call("GET", "/orders", params={
                "orderNumber": sent.order_number, "pageSize": 500, "page": page}), self.name)
            mine = next((o for o in data["orders"] if o.get("orderKey") == sent.key), None)
            if mine is not None:
                return mine
            pages = int(data.get("pages") or 1)
            page += 1
        return None

    def _order(self, sent: SentOrder) -> dict[str, Any] | None:
        """The order as ShipStation holds it, by orderId, else by number and our key."""
        if sent.house_reference:
            response = self.http.call("GET", f"/orders/{sent.house_reference}")
            if response.status_code == 404:
                return None
            if response.status_code != 200:
                raise refusal_error(response, self.name, "show the order")
            return read_json(response, self.name)
        return self._numbered(sent) if sent.order_number else None

    def fetch_tracking(self, orders: Sequence[SentOrder]) -> list[TrackingInfo]:
        infos = []
        for sent in orders:
            order = self._order(sent)
            if order is not None:
                info = _order_info(order, sent.key)
                if order["orderStatus"] == "shipped":
                    info = TrackingInfo(sent.key, info.house_reference, self._packages(order))
                infos.append(info)
        return infos

    def _packages(self, order: dict[str, Any]) -> tuple[Package, ...]:
        packages: dict[str, Package] = {}
        for path, listing in (("/shipments", "shipments"), ("/fulfillments", "fulfillments")):
            data = read_json(self.http.call("GET", path, params={
                "orderNumber": order["orderNumber"], "pageSize": 500}), self.name)
            for row in data[listing]:
                package = _package(row)
                if package and row.get("orderId") == order["orderId"]:
                    packages.setdefault(package.tracking_number, package)
        return tuple(packages.values())

    def notified_in(self, resource_url: str) -> list[TrackingInfo]:
        """What a webhook's ``resource_url`` lists: shipments or fulfillments (SHIP_NOTIFY,
        FULFILLMENT_SHIPPED) as packages, orders (FULFILLMENT_REJECTED, ORDER_NOTIFY) as
        their state. One ``TrackingInfo`` per order, keyed by ``orderKey`` where the row
        carries it (fulfillments do not) and always naming ShipStation's ``orderId``.

        :raise ForeignURL: the URL is on neither this account's API host nor one of
            ShipStation's; nothing was fetched
        :raise AdapterError: ShipStation refused or could not answer
        """
        orders: dict[tuple[str, str], dict[str, Package]] = {}
        states: list[TrackingInfo] = []
        page, pages = 1, 1
        while page <= min(pages, RESOURCE_PAGES):
            response = self.http.get_own_url(resource_url,
                                             params={"page": page} if page > 1 else None,
                                             house_hosts=API_HOSTS)
            if response.status_code != 200:
                raise refusal_error(response, self.name, "show the webhook's resource")
            data = read_json(response, self.name)
            if not isinstance(data, dict):
                raise AdapterError("ShipStation's webhook resource is not a listing.",
                                   transient=False)
            for row in data.get("shipments") or data.get("fulfillments") or ():
                if not isinstance(row, dict):
                    continue
                package = _package(row)
                if package and row.get("orderId") is not None:
                    slot = (row.get("orderKey") or "", str(row["orderId"]))
                    orders.setdefault(slot, {}).setdefault(package.tracking_number, package)
            states.extend(_order_info(row, row.get("orderKey") or "")
                          for row in data.get("orders") or ()
                          if isinstance(row, dict) and row.get("orderId") is not None)
            pages = int(data.get("pages") or 1)
            page += 1
        return states + [TrackingInfo(key, reference, tuple(packages.values()))
                         for (key, reference), packages in orders.items()]

    def cancel(self, order: SentOrder) -> None:
        current = self._order(order)
        if current is None:
            raise AdapterError(f"ShipStation has no order {order.order_number or order.key}.",
                               transient=False)
        status = current["orderStatus"]
        if status == "cancelled":
            return
        if status not in CHANGEABLE:
            raise AdapterError(
                f"ShipStation order {current['orderNumber']} is {status}: "
                + _UNCHANGEABLE.get(status, "it can no longer be changed.")
                + " It was not cancelled.", transient=False)
        response = self.http.call("POST", "/orders/createorder",
                                  json={**current, "orderStatus": "cancelled"})
        if response.status_code != 200:
            raise refusal_error(response, self.name, "cancel the order")
        answer = read_json(response, self.name)
        if not isinstance(answer, dict) or answer.get("orderStatus") != "cancelled":
            raise AdapterError(f"ShipStation kept order {current['orderNumber']} as "
                               f"{answer.get('orderStatus') if isinstance(answer, dict) else '?'}"
                               "; it was not cancelled.", transient=False)


#: why ShipStation will not change an order in these statuses, in its own terms
_UNCHANGEABLE = {
    "shipped": "it has shipped and cannot be cancelled.",
    "pending_fulfillment": "it has been sent to the fulfillment provider, and ShipStation "
                           "no longer changes it; cancel it with the fulfillment provider.",
    "rejected_fulfillment": "the fulfillment provider refused it, and ShipStation no longer "
                            "changes it.",
}


def to_pacific(moment: datetime) -> str:
    """A naive UTC time as ShipStation reads it: Pacific wall time, no offset."""
    local = moment.replace(tzinfo=timezone.utc).astimezone(PACIFIC)
    return local.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


def from_pacific(value: Any) -> datetime | None:
    """A ShipStation time (Pacific wall time unless it names an offset) as naive UTC; a
    date alone is midnight Pacific. None for anything unreadable."""
    moment = parse_time(value)
    if moment is None or _OFFSET.search(value.strip()):
        return moment
    return moment.replace(tzinfo=PACIFIC).astimezone(timezone.utc).replace(tzinfo=None)


def _order_info(order: dict[str, Any], key: str) -> TrackingInfo:
    """An order's state without its packages: cancelled, held or refused (with the house's
    words), or moving normally."""
    reference, status = str(order["orderId"]), order.get("orderStatus")
    if status == "cancelled":
        return TrackingInfo(key, reference, cancelled=True)
    if status in ("on_hold", "rejected_fulfillment"):
        return TrackingInfo(key, reference, problem=_problem(order))
    return TrackingInfo(key, reference)


def _problem(order: dict[str, Any]) -> HouseProblem:
    """What ShipStation says about a held or refused order: the warehouse's note, typed
    from its words; a hold is only final once the 3PL has refused the order."""
    notes = (order.get("internalNotes") or "").strip()
    number = order.get("orderNumber") or order["orderId"]
    if order["orderStatus"] == "on_hold":
        until = from_pacific(order.get("holdUntilDate"))
        said = notes or (f"on hold until {until:%Y-%m-%d %H:%M} UTC" if until else "on hold")
        return HouseProblem(_typed(reason_for(notes), FailureReason.HELD),
                            f"ShipStation holds order {number}: {said}", final=False)
    said = notes or "the fulfillment provider refused it"
    return HouseProblem(_typed(reason_for(notes), FailureReason.REJECTED),
                        f"ShipStation's fulfillment provider rejected order {number}: {said}")


def _typed(reason: FailureReason, otherwise: FailureReason) -> FailureReason:
    """The reason the house's words name; ``otherwise`` where they name none we type (a
    hold over credentials or a store is still just a hold)."""
    named = (FailureReason.SKU, FailureReason.STOCK, FailureReason.ADDRESS)
    return reason if reason in named else otherwise


def _package(row: dict[str, Any]) -> Package | None:
    """A shipments or fulfillments row as a package; None for a voided or untracked one."""
    number = row.get("trackingNumber")
    if row.get("voided") or row.get("void") or not number:
        return None
    return Package(number, carrier=row.get("carrierCode") or "",
                   ship_method=row.get("serviceCode") or "",
                   shipped_at=from_pacific(row.get("shipDate")),
                   delivered_at=from_pacific(row.get("deliveryDate")))
