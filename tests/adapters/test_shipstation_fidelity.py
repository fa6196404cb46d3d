"""ShipStation as it really is (houses.md's corrections): Pacific time both ways, numbered
API hosts in webhooks, a starts-with number search read to its end, a lookup that finds an
order of any age, a 3PL's order that cannot be cancelled, the full Order model, and the
document catching a wrong field."""
from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timezone
from urllib.parse import urlsplit

import pytest
import requests
from requests.adapters import HTTPAdapter

import adapters.shipstation as shipstation_adapter
from adapters.base import AdapterError, SentOrder
from adapters.http import ForeignURL
from adapters.shipstation import ShipStationHouse
from simulators import shipstation
from simulators.contract import ContractViolation, load_document

CREDENTIALS = {"api_key": "ss-api-key", "api_secret": "ss-api-secret", "store_id": "310001"}


@pytest.fixture
def ss(serve_app, clock):
    app = shipstation.create_app(clock=clock, rate_limited=False)
    return serve_app(app), app.extensions["house"]


def _adapter(root: str) -> ShipStationHouse:
    return ShipStationHouse(CREDENTIALS, root, timeout=5)


def _utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


# ---------------------------------------------------------------- Pacific time


@pytest.mark.parametrize("sent, pacific", [
    (datetime(2026, 1, 15, 20, 0), "2026-01-15T12:00:00"),   # PST, UTC-8
    (datetime(2026, 7, 15, 20, 0), "2026-07-15T13:00:00"),   # PDT, UTC-7
    (datetime(2026, 3, 8, 9, 30), "2026-03-08T01:30:00"),    # just before the spring change
    (datetime(2026, 3, 8, 10, 30), "2026-03-08T03:30:00"),   # just after it
    (datetime(2026, 1, 1, 5, 0), "2025-12-31T21:00:00"),     # a day (and year) earlier there
], ids=["january", "july", "before-dst", "after-dst", "new-year"])
def test_is_the_order_date_sent_in_pacific_time(ss, make_order, sent, pacific):
    root, house = ss
    order = dataclasses.replace(make_order(), order_date=sent)
    _adapter(root).send([order])
    assert house.find_by_key(order.key)["orderDate"].startswith(pacific + ".")


@pytest.mark.parametrize("moment", [
    _utc(2026, 1, 15, 20, 0, 5), _utc(2026, 7, 15, 20, 0, 5),
    _utc(2026, 3, 8, 9, 59, 59), _utc(2026, 3, 8, 10, 0, 0),
], ids=["january", "july", "last-pst-second", "first-pdt-second"])
def test_are_shipstation_times_read_as_pacific(ss, make_order, moment):
    root, house = ss
    order = make_order()
    [accepted] = _adapter(root).send([order])
    house.wall_clock = lambda: moment
    requests.post(f"{root}/_control/ship", json={"key": order.key, "packages": [
        {"tracking_number": "1ZPACIFIC001", "via": "fulfillment"}]}, timeout=5)
    requests.post(f"{root}/_control/deliver", json={"key": order.key,
                                                   "tracking_number": "1ZPACIFIC001"}, timeout=5)
    [info] = _adapter(root).fetch_tracking([SentOrder(order.key, accepted.house_reference)])
    [package] = info.packages
    assert package.delivered_at == moment.replace(tzinfo=None, microsecond=0)
    # shipDate is a Pacific date: its midnight there, in UTC
    local_day = moment.astimezone(shipstation_adapter.PACIFIC).date()
    midnight = datetime.combine(local_day, datetime.min.time(),
                                tzinfo=shipstation_adapter.PACIFIC)
    assert package.shipped_at == midnight.astimezone(timezone.utc).replace(tzinfo=None)


def test_is_a_time_with_an_offset_refused_as_shipstation_would_misread_it(ss):
    root, house = ss
    body = [{"orderNumber": "#1", "orderKey": "F-1", "orderDate": "2026-01-15T20:00:00+00:00",
             "orderStatus": "awaiting_shipment", "billTo": {"name": "A"},
             "shipTo": {"name": "A", "street1": "1 Main St", "city": "Chicago", "state": "IL",
                        "postalCode": "60607", "country": "US"}}]
    response = requests.post(f"{root}/orders/createorders", json=body,
                             auth=("ss-api-key", "ss-api-secret"), timeout=5)
    assert response.status_code == 400
    assert "apiOrders[0].orderDate" in response.json()["ModelState"]
    assert house.orders == {}


# ---------------------------------------------------------------- webhook hosts


class ToSimulator(HTTPAdapter):
    """Stands in for DNS and TLS only: a request for a ShipStation host is sent, over real
    HTTP, to the simulator; every URL it was asked for is kept."""

    def __init__(self, root: str):
        super().__init__()
        self.root = root
        self.asked: list[str] = []

    def send(self, request, **kwargs):
        self.asked.append(request.url)
        parts = urlsplit(request.url)
        request.url = self.root + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().send(request, **kwargs)


def test_is_a_resource_on_a_numbered_api_host_followed(ss, make_order):
    root, _house = ss
    adapter = _adapter(root)
    order = make_order()
    [accepted] = adapter.send([order])
    [hook] = requests.post(f"{root}/_control/ship", json={"key": order.key, "packages": [
        {"tracking_number": "1Z999AA10000000044"}]}, timeout=5).json()["webhooks"]
    real = "https://ssapi4.shipstation.com" + hook["resource_url"][len(root):]
    transport = ToSimulator(root)
    adapter.http.session.mount("https://", transport)
    [info] = adapter.notified_in(real)
    assert transport.asked and transport.asked[0].startswith("https://ssapi4.shipstation.com/")
    assert info.key == order.key and info.house_reference == accepted.house_reference
    assert [p.tracking_number for p in info.packages] == ["1Z999AA10000000044"]


@pytest.mark.parametrize("url", [
    "https://ssapi4.shipstation.com.example.net/shipments?batchId=1",
    "https://evil-ssapi4.shipstation.com/shipments?batchId=1",
    "http://ssapi4.shipstation.com/shipments?batchId=1",
    "https://ssapi4.shipstation.com:8443/shipments?batchId=1",
    "https://user@ssapi4.shipstation.com/shipments?batchId=1",
    "https://ssapix.shipstation.com/shipments?batchId=1",
    "https://api.shipstation.com/shipments?batchId=1",
], ids=["suffix", "prefix", "http", "port", "user-info", "not-a-number", "other-host"])
def test_is_a_resource_on_any_other_host_never_fetched(ss, url):
    root, _house = ss
    adapter = _adapter(root)
    transport = ToSimulator(root)
    adapter.http.session.mount("https://", transport)
    adapter.http.session.mount("http://", transport)
    with pytest.raises(ForeignURL):
        adapter.notified_in(url)
    assert transport.asked == []


# ---------------------------------------------------------------- finding orders


def _create(root: str, orders: list[dict]) -> None:
    for start in range(0, len(orders), 100):
        response = requests.post(f"{root}/orders/createorders", json=orders[start:start + 100],
                                 auth=("ss-api-key", "ss-api-secret"), timeout=30)
        assert response.status_code == 200 and not response.json()["hasErrors"]


def _raw(number: str, key: str) -> dict:
    return {"orderNumber": number, "orderKey": key, "orderDate": "2026-01-15T12:00:00.0000000",
            "orderStatus": "awaiting_shipment", "billTo": {"name": "A"},
            "shipTo": {"name": "A", "street1": "1 Main St", "city": "Chicago", "state": "IL",
                       "postalCode": "60607", "country": "US"},
            "items": [{"sku": "WIDGET-1", "name": "Widget", "quantity": 1}]}


def test_is_an_old_order_found_past_the_first_page_of_its_number(ss, make_order, monkeypatch):
    """500 orders whose numbers start with ours come first in the search, and all of them
    were modified after ours: the recent-orders scan misses it, the number search finds it
    on its second page."""
    root, _house = ss
    others = [_raw(f"#77{i:03d}", f"F-OTHER-{i}") for i in range(500)]
    _create(root, others)
    order = dataclasses.replace(make_order(), order_number="#77")
    [accepted] = _adapter(root).send([order])
    _create(root, others)  # modified since: ours is now the oldest change
    monkeypatch.setattr(shipstation_adapter, "LOOKUP_PAGES", 1)
    adapter = _adapter(root)
    assert adapter.lookup([order.key]) == {}
    assert adapter.lookup_sent([SentOrder(order.key, "", "#77")]) == {order.key: accepted}
    [info] = adapter.fetch_tracking([SentOrder(order.key, "", "#77")])
    assert info.house_reference == accepted.house_reference and info.problem is None
    assert adapter.lookup_sent([SentOrder("F-never-sent", "", "#77")]) == {}


# ---------------------------------------------------------------- cancel


def test_is_an_order_handed_to_a_3pl_not_cancelled(ss, make_order):
    root, house = ss
    adapter = _adapter(root)
    order = make_order()
    [accepted] = adapter.send([order])
    requests.post(f"{root}/_control/status", json={"key": order.key,
                                                   "status": "pending_fulfillment"}, timeout=5)
    with pytest.raises(AdapterError) as refused:
        adapter.cancel(SentOrder(order.key, accepted.house_reference, order.order_number))
    assert not refused.value.transient
    assert "pending_fulfillment" in str(refused.value) and "not cancelled" in str(refused.value)
    assert house.find_by_key(order.key)["orderStatus"] == "pending_fulfillment"


def test_does_the_house_refuse_to_change_a_3pl_order_through_createorder(ss, make_order):
    root, house = ss
    order = make_order()
    _adapter(root).send([order])
    requests.post(f"{root}/_control/status", json={"key": order.key,
                                                   "status": "pending_fulfillment"}, timeout=5)
    stored = house.find_by_key(order.key)
    response = requests.post(f"{root}/orders/createorder",
                             json={**_raw(stored["orderNumber"], order.key),
                                   "orderStatus": "cancelled"},
                             auth=("ss-api-key", "ss-api-secret"), timeout=5)
    assert response.status_code == 400 and "pending_fulfillment" in response.json()["Message"]
    assert house.find_by_key(order.key)["orderStatus"] == "pending_fulfillment"


# ---------------------------------------------------------------- the document


def test_does_an_answer_carry_every_property_of_the_order_model(ss, make_order):
    root, _house = ss
    order = make_order()
    [accepted] = _adapter(root).send([order])
    answer = requests.get(f"{root}/orders/{accepted.house_reference}",
                          auth=("ss-api-key", "ss-api-secret"), timeout=5).json()
    schemas = load_document("shipstation-v1-openapi.yml")["components"]["schemas"]
    assert set(schemas["Order"]["properties"]) <= set(answer)
    assert set(schemas["Address"]["properties"]) <= set(answer["shipTo"])
    assert set(schemas["OrderItem"]["properties"]) <= set(answer["items"][0])
    assert answer["internalNotes"] is None and answer["createDate"]


@pytest.mark.parametrize("change, named", [
    ({"orderStatus": "sent"}, "orderStatus"),
    ({"orderDate": "2026-01-15T20:00:00Z"}, "orderDate"),
    ({"orderId": "100002"}, "orderId"),
], ids=["status", "utc-time", "id-as-text"])
def test_is_a_wrong_field_in_an_answer_caught(change, named):
    good = {"orderId": 100002, "orderNumber": "#1", "orderStatus": "rejected_fulfillment",
            "orderDate": "2026-01-15T12:00:00.0000000", "internalNotes": None}
    contract = shipstation.ShipStationHouse.contract
    contract.check_response("get", "/orders/100002", 200, json.dumps(good).encode())
    with pytest.raises(ContractViolation, match=named):
        contract.check_response("get", "/orders/100002", 200,
                                json.dumps({**good, **change}).encode())
