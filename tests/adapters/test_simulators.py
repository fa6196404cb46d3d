"""Do the simulators refuse what the real houses refuse? Raw HTTP against each one, so a
lenient simulator cannot make a lenient adapter look right."""
from __future__ import annotations

import base64
import time
from email.utils import parsedate_to_datetime

import pytest
import requests

from simulators import shipbob, shipmonk, shipstation
from simulators.common import RateLimiter

SS_AUTH = ("ss-api-key", "ss-api-secret")
SB_HEADERS = {"Authorization": "Bearer sb-personal-access-token", "shipbob_channel_id": "401"}
SM_HEADERS = {"Api-Key": "sm-api-key"}


def ss_order(key: str | None = "F-1", **changes) -> dict:
    order = {"orderNumber": "#1001", "orderKey": key, "orderDate": "2025-03-04T15:30:00",
             "orderStatus": "awaiting_shipment", "billTo": {"name": "Ada Lovelace"},
             "shipTo": {"name": "Ada Lovelace", "street1": "100 N Racine Ave",
                        "city": "Chicago", "state": "IL", "postalCode": "60607",
                        "country": "US"},
             "items": [{"sku": "WIDGET-1", "name": "Widget", "quantity": 1}],
             "advancedOptions": {"storeId": 310001}}
    if key is None:
        del order["orderKey"]
    order.update(changes)
    return order


def sb_order(reference: str = "F-1", **changes) -> dict:
    order = {"reference_id": reference, "order_number": "#1001", "type": "DTC",
             "shipping_method": "Standard",
             "recipient": {"name": "Ada Lovelace",
                           "address": {"address1": "100 N Racine Ave", "city": "Chicago",
                                       "state": "IL", "country": "US", "zip_code": "60607"}},
             "products": [{"reference_id": "WIDGET-1", "name": "Widget", "quantity": 1}]}
    order.update(changes)
    return order


def sm_order(key: str = "F-1", **changes) -> dict:
    order = {"store_id": 7001, "order_key": key, "order_number": "#1001",
             "ordered_at": "2025-03-04T15:30:00+00:00", "order_status": "unfulfilled",
             "requested_shipping_service": "Ground",
             "ship_to": {"name": "Ada Lovelace", "street1": "100 N Racine Ave",
                         "city": "Chicago", "state": "IL", "zip": "60607",
                         "country_code": "US"},
             "items": [{"sku": "WIDGET-1", "name": "Widget", "quantity": 1}]}
    order.update(changes)
    return order


@pytest.fixture
def ss(serve_app, clock):
    app = shipstation.create_app(clock=clock)
    return serve_app(app), app.extensions["house"]


@pytest.fixture
def sb(serve_app, clock):
    app = shipbob.create_app(clock=clock)
    return serve_app(app) + "/1.0", app.extensions["house"]


@pytest.fixture
def sm(serve_app, clock):
    app = shipmonk.create_app(clock=clock)
    return serve_app(app), app.extensions["house"]


# ---------------------------------------------------------------- shared machinery


def test_does_a_fixed_window_start_over_when_it_ends(clock):
    limiter = RateLimiter(2, 60, clock=clock)
    assert limiter.hit("k").allowed
    clock.advance(30)
    assert limiter.hit("k").allowed
    refused = limiter.hit("k")
    assert (refused.allowed, refused.remaining, refused.reset) == (False, 0, 30)
    assert limiter.hit("other").allowed  # callers are counted apart
    clock.advance(30)
    assert limiter.hit("k").remaining == 1


def test_does_a_sliding_window_free_one_slot_at_a_time(clock):
    limiter = RateLimiter(2, 60, sliding=True, clock=clock)
    limiter.hit("k")
    clock.advance(30)
    limiter.hit("k")
    assert limiter.hit("k").reset == 30
    clock.advance(31)
    decision = limiter.hit("k")
    assert decision.allowed and decision.remaining == 0
    assert not limiter.hit("k").allowed


def test_can_the_rate_limit_be_switched_off(ss):
    root, _ = ss
    requests.post(f"{root}/_control/rate-limit", json={"limit": 1}, timeout=5)
    assert requests.get(f"{root}/stores", auth=SS_AUTH, timeout=5).status_code == 200
    assert requests.get(f"{root}/stores", auth=SS_AUTH, timeout=5).status_code == 429
    requests.post(f"{root}/_control/rate-limit", json={"enabled": False}, timeout=5)
    assert all(requests.get(f"{root}/stores", auth=SS_AUTH, timeout=5).status_code == 200
               for _ in range(3))


def test_does_reset_forget_orders_counters_and_faults(ss):
    root, house = ss
    requests.post(f"{root}/orders/createorders", json=[ss_order()], auth=SS_AUTH, timeout=5)
    requests.post(f"{root}/_control/fail", json={"mode": "error", "count": 5}, timeout=5)
    assert requests.post(f"{root}/_control/reset", timeout=5).status_code == 200
    assert house.orders == {} and requests.get(f"{root}/_control/creations", timeout=5).json() == {}
    assert requests.get(f"{root}/stores", auth=SS_AUTH, timeout=5).status_code == 200


def test_does_a_fault_last_exactly_its_count(sm):
    root, _ = sm
    requests.post(f"{root}/_control/fail", json={"mode": "error", "count": 2}, timeout=5)
    statuses = [requests.get(f"{root}/v1/integrations/orders-list", headers=SM_HEADERS,
                             timeout=5).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]


def test_is_an_unknown_fault_mode_refused(sm):
    root, _ = sm
    response = requests.post(f"{root}/_control/fail", json={"mode": "explode"}, timeout=5)
    assert response.status_code == 400 and "mode" in response.json()["error"]


# ---------------------------------------------------------------- ShipStation


@pytest.mark.parametrize("auth", [None, ("ss-api-key", "wrong"), ("someone", "ss-api-secret")])
def test_shipstation_refuses_requests_without_its_key_and_secret(ss, auth):
    root, _ = ss
    response = requests.get(f"{root}/stores", auth=auth, timeout=5)
    assert response.status_code == 401


def test_shipstation_answers_with_rate_headers_and_a_429_body(ss, clock):
    root, _ = ss
    requests.post(f"{root}/_control/rate-limit", json={"limit": 2, "window": 60}, timeout=5)
    first = requests.get(f"{root}/stores", auth=SS_AUTH, timeout=5)
    assert (first.headers["X-Rate-Limit-Limit"], first.headers["X-Rate-Limit-Remaining"],
            first.headers["X-Rate-Limit-Reset"]) == ("2", "1", "60")
    clock.advance(20)
    requests.get(f"{root}/stores", auth=SS_AUTH, timeout=5)
    limited = requests.get(f"{root}/stores", auth=SS_AUTH, timeout=5)
    assert limited.status_code == 429 and limited.json() == {"message": "Too Many Requests"}
    assert limited.headers["X-Rate-Limit-Remaining"] == "0"
    assert limited.headers["X-Rate-Limit-Reset"] == "40"


def test_shipstation_server_errors_have_its_exception_body(ss):
    root, _ = ss
    requests.post(f"{root}/_control/fail", json={"mode": "error"}, timeout=5)
    response = requests.get(f"{root}/stores", auth=SS_AUTH, timeout=5)
    assert response.status_code == 500
    assert {"Message", "ExceptionMessage", "ExceptionType"} <= set(response.json())


@pytest.mark.parametrize("missing", ["orderNumber", "orderDate", "orderStatus", "billTo",
                                     "shipTo"])
def test_shipstation_refuses_an_order_without_a_required_field(ss, missing):
    root, house = ss
    order = ss_order()
    del order[missing]
    response = requests.post(f"{root}/orders/createorders", json=[ss_order("F-0"), order],
                             auth=SS_AUTH, timeout=5)
    assert response.status_code == 400
    assert list(response.json()["ModelState"]) == [f"apiOrders[1].{missing}"]
    assert house.orders == {}


def test_shipstation_refuses_an_unknown_status_and_more_than_100_orders(ss):
    root, _ = ss
    bad = requests.post(f"{root}/orders/createorder", json=ss_order(orderStatus="sent"),
                        auth=SS_AUTH, timeout=5)
    assert bad.status_code == 400 and "apiOrder.orderStatus" in bad.json()["ModelState"]
    many = [ss_order(f"F-{i}") for i in range(101)]
    response = requests.post(f"{root}/orders/createorders", json=many, auth=SS_AUTH, timeout=5)
    assert response.status_code == 400 and "100" in str(response.json()["ModelState"])


def test_shipstation_upserts_by_order_key_and_duplicates_without_one(ss):
    root, house = ss
    post = lambda orders: requests.post(f"{root}/orders/createorders", json=orders,  # noqa: E731
                                        auth=SS_AUTH, timeout=5).json()["results"]
    [first] = post([ss_order("F-1")])
    [second] = post([ss_order("F-1", customerEmail="new@example.com")])
    assert first["success"] and second["success"]
    assert first["orderId"] == second["orderId"]
    listed = requests.get(f"{root}/orders", params={"orderNumber": "#1001"}, auth=SS_AUTH,
                          timeout=5).json()
    assert listed["total"] == 1 and listed["orders"][0]["customerEmail"] == "new@example.com"
    keyless = post([ss_order(None), ss_order(None)])
    assert keyless[0]["orderKey"] != keyless[1]["orderKey"]
    assert len(house.orders) == 3


def test_shipstation_keeps_shipped_and_cancelled_orders_unchanged(ss):
    root, house = ss
    post = lambda order: requests.post(f"{root}/orders/createorders", json=[order],  # noqa: E731
                                       auth=SS_AUTH, timeout=5).json()["results"][0]
    created = post(ss_order("F-1"))
    requests.post(f"{root}/_control/ship", json={"key": "F-1", "packages": [
        {"tracking_number": "1Z1"}]}, timeout=5)
    resent = post(ss_order("F-1", orderStatus="cancelled"))
    assert not resent["success"] and "shipped" in resent["errorMessage"]
    assert resent["orderId"] == created["orderId"]
    assert house.orders[created["orderId"]]["orderStatus"] == "shipped"
    assert house.creations["F-1"] == 1


@pytest.mark.parametrize("change, status, words", [
    ({"items": [{"sku": "NOPE", "name": "x", "quantity": 1}]}, "rejected_fulfillment",
     "SKU 'NOPE'"),
    ({"items": [{"sku": "SOLDOUT-1", "name": "x", "quantity": 1}]}, "on_hold",
     "Insufficient stock"),
    ({"shipTo": {"name": "A", "street1": "1 Main St", "city": "Chicago", "state": "IL",
                 "postalCode": "ABCDE", "country": "US"}}, "rejected_fulfillment",
     "postal code 'ABCDE'"),
])
def test_shipstation_takes_a_bad_order_and_its_warehouse_holds_or_refuses_it(
        serve_app, clock, change, status, words):
    app = shipstation.create_app(clock=clock, review_after=60)
    root = serve_app(app)
    response = requests.post(f"{root}/orders/createorders", json=[ss_order(**change)],
                             auth=SS_AUTH, timeout=5).json()
    [result] = response["results"]
    assert not response["hasErrors"] and result["success"] and result["orderId"]
    read = lambda: requests.get(f"{root}/orders/{result['orderId']}",  # noqa: E731
                                auth=SS_AUTH, timeout=5).json()
    assert read()["orderStatus"] == "awaiting_shipment"
    clock.advance(61)  # the warehouse's turn comes on its own
    order = read()
    assert order["orderStatus"] == status and words in order["internalNotes"]


def test_shipstation_review_hook_announces_refusals_as_fulfillment_rejected(ss):
    root, house = ss
    house.review_after = 3600
    bad = ss_order("F-1", items=[{"sku": "NOPE", "name": "x", "quantity": 1}])
    requests.post(f"{root}/orders/createorders", json=[bad, ss_order("F-2")], auth=SS_AUTH,
                  timeout=5)
    reviewed = requests.post(f"{root}/_control/review", timeout=5).json()
    assert reviewed["refused"] == ["F-1"]
    [hook] = reviewed["webhooks"]
    assert hook["resource_type"] == "FULFILLMENT_REJECTED"
    listed = requests.get(hook["resource_url"], auth=SS_AUTH, timeout=5).json()
    assert [o["orderKey"] for o in listed["orders"]] == ["F-1"]
    assert house.find_by_key("F-2")["orderStatus"] == "awaiting_shipment"


def test_shipstation_refuses_an_unknown_store_at_once(ss):
    root, house = ss
    response = requests.post(f"{root}/orders/createorders",
                             json=[ss_order(advancedOptions={"storeId": 42})], auth=SS_AUTH,
                             timeout=5).json()
    [result] = response["results"]
    assert response["hasErrors"] and not result["success"] and result["orderId"] is None
    assert "storeId 42" in result["errorMessage"]
    assert house.orders == {}


def test_shipstation_lists_shipments_and_fulfillments_apart(ss):
    root, _ = ss
    requests.post(f"{root}/orders/createorders", json=[ss_order("F-1")], auth=SS_AUTH,
                  timeout=5)
    requests.post(f"{root}/_control/ship", json={"key": "F-1", "packages": [
        {"tracking_number": "A", "via": "shipment"},
        {"tracking_number": "B", "via": "fulfillment"}]}, timeout=5)
    params = {"orderNumber": "#1001"}
    shipments = requests.get(f"{root}/shipments", params=params, auth=SS_AUTH, timeout=5).json()
    fulfillments = requests.get(f"{root}/fulfillments", params=params, auth=SS_AUTH,
                                timeout=5).json()
    assert [s["trackingNumber"] for s in shipments["shipments"]] == ["A"]
    assert [f["trackingNumber"] for f in fulfillments["fulfillments"]] == ["B"]
    assert {"carrierCode", "serviceCode", "shipDate", "voided"} <= set(shipments["shipments"][0])


# ---------------------------------------------------------------- ShipBob


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"},
                                     {"Authorization": "sb-personal-access-token"}])
def test_shipbob_refuses_requests_without_its_token(sb, headers):
    root, _ = sb
    assert requests.get(f"{root}/channel", headers=headers, timeout=5).status_code == 401


def test_shipbob_wants_a_writable_channel_header_spelled_with_underscores(sb):
    root, house = sb
    token = {"Authorization": SB_HEADERS["Authorization"]}
    missing = requests.post(f"{root}/order", json=sb_order(), headers=token, timeout=5)
    assert missing.status_code == 400 and "shipbob_channel_id" in missing.json()["errors"]
    dashed = requests.post(f"{root}/order", json=sb_order(),
                           headers={**token, "shipbob-channel-id": "401"}, timeout=5)
    assert dashed.status_code == 400
    read_only = requests.post(f"{root}/order", json=sb_order(),
                              headers={**token, "shipbob_channel_id": "402"}, timeout=5)
    assert read_only.status_code == 403
    assert house.orders == {}


@pytest.mark.parametrize("change, field", [
    ({"reference_id": ""}, "ReferenceId"),
    ({"reference_id": "x" * 301}, "ReferenceId"),
    ({"shipping_method": None}, "ShippingMethod"),
    ({"recipient": None}, "Recipient"),
    ({"products": []}, "Products"),
    ({"products": [{"reference_id": "WIDGET-1", "quantity": 0}]}, "Products[0].Quantity"),
])
def test_shipbob_answers_invalid_orders_with_problem_details(sb, change, field):
    root, _ = sb
    response = requests.post(f"{root}/order", json=sb_order(**change), headers=SB_HEADERS,
                             timeout=5)
    body = response.json()
    assert response.status_code == 400
    assert body["status"] == 400 and body["title"] and field in body["errors"]


def test_shipbob_refuses_a_repeated_reference_on_the_same_channel_only(sb, serve_app):
    root, house = sb
    assert requests.post(f"{root}/order", json=sb_order(), headers=SB_HEADERS,
                         timeout=5).status_code == 201
    again = requests.post(f"{root}/order", json=sb_order(), headers=SB_HEADERS, timeout=5)
    assert again.status_code == 422
    assert again.json() == {"": ["Cannot insert order with existing ReferenceId"]}
    assert house.creations["F-1"] == 1
    app = shipbob.create_app(channels=(
        {"id": 401, "name": "A", "scopes": ("orders_write",)},
        {"id": 403, "name": "B", "scopes": ("orders_write",)}))
    other_root = serve_app(app) + "/1.0"
    for channel in ("401", "403"):
        response = requests.post(f"{other_root}/order", json=sb_order(),
                                 headers={**SB_HEADERS, "shipbob_channel_id": channel}, timeout=5)
        assert response.status_code == 201


@pytest.mark.parametrize("version", ["1.0", "2026-01"])
@pytest.mark.parametrize("change, status, detail, named", [
    ({"products": [{"reference_id": "NOPE", "name": "x", "quantity": 1}]},
     "Exception", "ProductNotFound", "NOPE"),
    ({"products": [{"reference_id": "GADGET-2", "name": "x", "quantity": 201}]},
     "Exception", "OutOfStock", "GADGET-2"),
    ({"recipient": {"name": "A", "address": {"address1": "1 Main", "city": "Chicago",
                                             "country": "US", "zip_code": "00000"}}},
     "OnHold", "InvalidAddress", "00000"),
], ids=["unknown-product", "short-stock", "bad-zip"])
def test_shipbob_accepts_what_its_warehouse_cannot_fill_and_then_raises_it(
        sb, version, change, status, detail, named):
    root, house = sb
    root = root.removesuffix("/1.0")
    requests.post(f"{root}/_control/processing", json={"delay": 60}, timeout=5)
    created = requests.post(f"{root}/{version}/order", json=sb_order(**change),
                            headers=SB_HEADERS, timeout=5)
    assert created.status_code == 201 and created.json()["status"] == "Processing"
    order_id = created.json()["id"]
    raised = requests.post(f"{root}/_control/process", json={"key": "F-1"}, timeout=5).json()
    assert raised["status"] == status and raised["status_details"][0]["name"] == detail
    assert named in raised["status_details"][0]["description"]
    [shipment] = requests.get(f"{root}/{version}/order/{order_id}/shipment",
                              headers=SB_HEADERS, timeout=5).json()
    assert shipment == raised


def test_shipbob_2026_01_answers_a_request_its_document_refuses_with_a_field_map(sb):
    root, house = sb
    root = root.removesuffix("/1.0") + "/2026-01"
    response = requests.post(f"{root}/order", json=sb_order(purchase_date="yesterday"),
                             headers=SB_HEADERS, timeout=5)
    assert response.status_code == 400 and "purchase_date" in response.json()
    assert house.orders == {}
    listed = requests.get(f"{root}/order", params={"Limit": "many"}, headers=SB_HEADERS,
                          timeout=5)
    assert listed.status_code == 400 and "Limit" in listed.json()


def test_shipbob_2026_01_reads_query_names_in_any_case(sb):
    root, _ = sb
    root = root.removesuffix("/1.0") + "/2026-01"
    for reference in ("F-1", "F-2", "F-3"):
        requests.post(f"{root}/order", json=sb_order(reference), headers=SB_HEADERS, timeout=5)
    for name, limit in (("ReferenceIds", "Limit"), ("referenceids", "limit"),
                        ("REFERENCEIDS", "LIMIT")):
        listed = requests.get(f"{root}/order", params={name: "F-1,F-3", limit: "1"},
                              headers=SB_HEADERS, timeout=5)
        assert [o["reference_id"] for o in listed.json()] == ["F-1"]
        assert "Page=2" in listed.headers["next-page"]


def test_shipbob_2026_01_answers_full_models_and_cancels_with_a_colon(sb):
    root, _ = sb
    root = root.removesuffix("/1.0") + "/2026-01"
    order = requests.post(f"{root}/order", json=sb_order(), headers=SB_HEADERS,
                          timeout=5).json()
    schemas = shipbob.CONTRACT.document["components"]["schemas"]
    assert set(order) == set(schemas["Orders.OrderViewModel"]["properties"])
    assert set(order["shipments"][0]) == set(schemas["Orders.ShipmentViewModel"]["properties"])
    channels = requests.get(f"{root}/channel", headers=SB_HEADERS, timeout=5).json()
    assert [c["id"] for c in channels["items"]] == [401, 402]
    cancelled = requests.post(f"{root}/order/{order['id']}:cancel", headers=SB_HEADERS,
                              timeout=5).json()
    assert cancelled["status"] == "Success" and cancelled["order"]["status"] == "Cancelled"
    assert requests.post(f"{root}/order/{order['id']}/cancel", headers=SB_HEADERS,
                         timeout=5).status_code == 404


def test_shipbob_rate_limit_slides_and_says_when_to_retry(sb, clock):
    root, _ = sb
    requests.post(f"{root.removesuffix('/1.0')}/_control/rate-limit",
                  json={"limit": 2, "window": 60}, timeout=5)
    first = requests.get(f"{root}/channel", headers=SB_HEADERS, timeout=5)
    assert first.headers["x-remaining-calls"] == "1"
    clock.advance(25)
    requests.get(f"{root}/channel", headers=SB_HEADERS, timeout=5)
    limited = requests.get(f"{root}/channel", headers=SB_HEADERS, timeout=5)
    assert limited.status_code == 429
    assert limited.headers["x-retry-after"] == "35"
    assert limited.json() == {"statusCode": 429,
                              "message": "Rate limit is exceeded. Try again in 35 seconds."}
    clock.advance(35)
    assert requests.get(f"{root}/channel", headers=SB_HEADERS, timeout=5).status_code == 200


def test_shipbob_lists_by_reference_with_a_next_page_link(sb):
    root, _ = sb
    for i in range(3):
        requests.post(f"{root}/order", json=sb_order(f"F-{i}"), headers=SB_HEADERS, timeout=5)
    first = requests.get(f"{root}/order", params={"Limit": 2}, headers=SB_HEADERS, timeout=5)
    assert len(first.json()) == 2
    server = root.removesuffix("/1.0")
    rest = requests.get(server + first.headers["next-page"], headers=SB_HEADERS, timeout=5)
    assert len(rest.json()) == 1 and "next-page" not in rest.headers
    chosen = requests.get(f"{root}/order", params=[("ReferenceIds", "F-0"),
                                                   ("ReferenceIds", "F-2")],
                          headers=SB_HEADERS, timeout=5).json()
    assert sorted(o["reference_id"] for o in chosen) == ["F-0", "F-2"]


def test_shipbob_cancel_reports_shipments_that_already_left(sb):
    root, _ = sb
    order = requests.post(f"{root}/order", json=sb_order(), headers=SB_HEADERS,
                          timeout=5).json()
    requests.post(f"{root.removesuffix('/1.0')}/_control/ship", json={
        "key": "F-1", "packages": [{"tracking_number": "9400"}]}, timeout=5)
    response = requests.post(f"{root}/order/{order['id']}/cancel", headers=SB_HEADERS,
                             timeout=5).json()
    [result] = response["canceled_shipment_results"]
    assert result["is_success"] is False and result["shipment_id"]
    assert requests.post(f"{root}/order/999/cancel", headers=SB_HEADERS,
                         timeout=5).status_code == 404


# ---------------------------------------------------------------- ShipMonk

SM = "/v1/integrations"


def sm_get(root: str, key: str, **params) -> requests.Response:
    return requests.get(f"{root}{SM}/orders", params={"orderKey": key, **params},
                        headers=SM_HEADERS, timeout=5)


@pytest.mark.parametrize("headers", [{}, {"Api-Key": "nope"},
                                     {"Authorization": "Basic " + base64.b64encode(
                                         b"sm-api-key:").decode()}])
def test_shipmonk_refuses_requests_without_its_api_key(sm, headers):
    root, _ = sm
    response = requests.post(f"{root}{SM}/order", json=sm_order(), headers=headers, timeout=5)
    assert response.status_code == 401 and response.json()["status"] == 401


def test_shipmonk_upserts_on_store_and_order_key_and_answers_order_sync_output(sm, serve_app):
    root, house = sm
    created = requests.post(f"{root}{SM}/order", json=sm_order(), headers=SM_HEADERS, timeout=5)
    updated = requests.post(f"{root}{SM}/order", json=sm_order(order_number="#1001-B"),
                            headers=SM_HEADERS, timeout=5)
    assert (created.status_code, updated.status_code) == (200, 200)
    assert set(created.json()) == {"message"}  # OrderSyncOutput: no order id
    assert house.creations["F-1"] == 1
    read = sm_get(root, "F-1", storeId=7001).json()
    assert read["status"] == 200 and read["data"]["order_number"] == "#1001-B"
    assert read["data"]["ship_to"]["street1"] == "100 N Racine Ave"
    two_stores = serve_app(shipmonk.create_app(store_ids=(7001, 7002)))
    for store in (7001, 7002):
        response = requests.post(f"{two_stores}{SM}/order", json=sm_order(store_id=store),
                                 headers=SM_HEADERS, timeout=5)
        assert response.status_code == 200
    assert sorted(two_stores_house_keys(two_stores)) == ["F-1", "F-1"]


def two_stores_house_keys(root: str) -> list[str]:
    listed = requests.get(f"{root}{SM}/orders-list", headers=SM_HEADERS, timeout=5).json()
    return [o["order_key"] for o in listed["data"]["orders"]]


def test_shipmonk_answers_carry_every_property_of_the_order_model(sm):
    root, _ = sm
    requests.post(f"{root}{SM}/order", json=sm_order(), headers=SM_HEADERS, timeout=5)
    order = sm_get(root, "F-1").json()["data"]
    model = shipmonk.CONTRACT.document["components"]["schemas"][shipmonk.ORDER_MODEL]
    assert set(order) == set(model["properties"])
    assert order["shipped_at"] is None and order["packages"] == []


def test_shipmonk_lists_orders_by_key(sm):
    root, _ = sm
    for key in ("F-1", "F-2", "F-3"):
        requests.post(f"{root}{SM}/order", json=sm_order(key), headers=SM_HEADERS, timeout=5)
    listed = requests.get(f"{root}{SM}/orders-list", params=[("orderKeys", "F-1"),
                                                              ("orderKeys", "F-3")],
                          headers=SM_HEADERS, timeout=5).json()
    assert [o["order_key"] for o in listed["data"]["orders"]] == ["F-1", "F-3"]


def test_shipmonk_refuses_changes_to_a_fulfilled_order(sm):
    root, house = sm
    requests.post(f"{root}{SM}/order", json=sm_order(), headers=SM_HEADERS, timeout=5)
    requests.post(f"{root}/_control/ship", json={"key": "F-1", "packages": [
        {"tracking_number": "1Z1"}]}, timeout=5)
    response = requests.post(f"{root}{SM}/order", json=sm_order(order_status="cancelled"),
                             headers=SM_HEADERS, timeout=5)
    assert response.status_code == 400 and "fulfilled" in response.json()["message"]
    assert sm_get(root, "F-1").json()["data"]["order_status"] == "fulfilled"


@pytest.mark.parametrize("change, field", [
    ({"order_key": None}, "order_key"),
    ({"order_status": "shipped"}, "order_status"),
    ({"store_id": "7001"}, "store_id"),
    ({"status": "unfulfilled", "order_status": None}, "order_status"),
    ({"ship_to": "100 N Racine Ave, Chicago"}, "ship_to"),
    ({"items": [{"sku": "WIDGET-1", "quantity": "one"}]}, "quantity"),
    ({"ordered_at": "2025-03-04 15:30:00"}, "ordered_at"),
])
def test_shipmonk_refuses_what_its_document_refuses(sm, change, field):
    root, house = sm
    response = requests.post(f"{root}{SM}/order", json=sm_order(**change), headers=SM_HEADERS,
                             timeout=5)
    assert response.status_code == 400 and field in response.json()["message"]
    assert house.orders == {}


@pytest.mark.parametrize("change, flag, status", [
    ({"items": [{"sku": "NOPE", "quantity": 1}]}, "item_mapping", "unable_to_submit"),
    ({"items": [{"sku": "SOLDOUT-1", "quantity": 1}]}, None, "backorder"),
    ({"ship_to": {"name": "A", "street1": "1 Main", "city": "Chicago", "zip": "6060",
                  "country_code": "US"}}, "address", "unable_to_submit"),
], ids=["unknown-sku", "no-stock", "bad-zip"])
def test_shipmonk_accepts_a_bad_order_and_then_holds_it(sm, change, flag, status):
    root, house = sm
    requests.post(f"{root}/_control/processing", json={"delay": 60}, timeout=5)
    response = requests.post(f"{root}{SM}/order", json=sm_order(**change), headers=SM_HEADERS,
                             timeout=5)
    assert response.status_code == 200
    assert sm_get(root, "F-1").json()["data"]["processing_status"] == "queued_to_submit"
    changed = requests.post(f"{root}/_control/process", json={"key": "F-1"}, timeout=5).json()
    assert changed["processing_status"] == status
    assert flag is None or changed["actions_required"][flag]
    shipmonk.CONTRACT.check_webhook("orderStatusChange", changed)
    assert sm_get(root, "F-1").json()["data"]["processing_status"] == status


def test_shipmonk_processes_a_new_order_when_its_time_comes(sm, clock):
    root, _ = sm
    requests.post(f"{root}/_control/processing", json={"delay": 30}, timeout=5)
    requests.post(f"{root}{SM}/order", json=sm_order(), headers=SM_HEADERS, timeout=5)
    assert sm_get(root, "F-1").json()["data"]["processing_status"] == "queued_to_submit"
    clock.advance(30)
    assert sm_get(root, "F-1").json()["data"]["processing_status"] == "submitted"


def test_shipmonk_notifications_follow_its_document(sm):
    root, _ = sm
    requests.post(f"{root}{SM}/order", json=sm_order(), headers=SM_HEADERS, timeout=5)
    shipped = requests.post(f"{root}/_control/ship-notification", json={
        "key": "F-1", "packages": [{"tracking_number": "1Z1", "service": "Ground"}]},
        timeout=5).json()
    notification = shipped["notification"]
    shipmonk.CONTRACT.check_webhook("orderShipmentNotification", notification)
    assert notification["service"] == "Ground" and "shipping_service" not in notification
    assert notification["shipped_at"]["timezone"] == "UTC"


def test_shipmonk_refuses_a_store_the_key_does_not_own(sm):
    root, _ = sm
    response = requests.post(f"{root}{SM}/order", json=sm_order(store_id=7002),
                             headers=SM_HEADERS, timeout=5)
    assert response.status_code == 404 and "7002" in response.json()["message"]


def test_shipmonk_rate_limit_says_when_to_retry_with_an_http_date(sm, clock):
    root, _ = sm
    requests.post(f"{root}/_control/rate-limit", json={"limit": 1, "window": 60}, timeout=5)
    ok = sm_get(root, "F-1")
    assert ok.status_code == 404
    clock.advance(10)
    limited = sm_get(root, "F-1")
    assert limited.status_code == 429 and limited.json()["status"] == 429
    wait = parsedate_to_datetime(limited.headers["Retry-After"]).timestamp() - time.time()
    assert 49 <= wait <= 51
