"""Amazon MCF through the dashboard and against its simulator: an order's whole life on
Amazon's own carrier, the refusals a preview makes before anything is created, Login with
Amazon's tokens, Amazon's statuses and cancel rules, its usage plans, and the model every
request and answer is held to."""
from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest
import requests
from houses_kit import CREDENTIALS, fulfillment, shipments, timeline
from sqlalchemy import select

from adapters.amazon_mcf import AmazonMCFHouse
from adapters.base import (
    Accepted,
    AdapterError,
    Address,
    FailureReason,
    OrderLine,
    OrderPayload,
    SentOrder,
)


@pytest.fixture
def sim(simulator):
    """Amazon's simulator; at the end of the test, every request and answer it saw must
    have held to Amazon's model."""
    running = simulator("amazon_mcf")
    yield running
    assert running.house.violations == []


def _credentials(sim, **changes) -> dict[str, str]:
    return {**CREDENTIALS["amazon_mcf"], "base_url": sim.api_url, "token_url": sim.token_url,
            **changes}


def _adapter(sim, **changes) -> AmazonMCFHouse:
    values = _credentials(sim, **changes)
    return AmazonMCFHouse(values, values["base_url"], timeout=5)


def _order(key="FF00000000000000A1", sku="WIDGET-1", quantity=1, postal_code="60607"):
    return OrderPayload(
        key=key, order_number="1001-1", order_date=datetime(2026, 11, 2, 9, 0),
        ship_to=Address(name="Ada Lovelace", address1="100 N Racine Ave", city="Chicago",
                        state="IL", postal_code=postal_code, country="US"),
        lines=(OrderLine(sku, "Widget", quantity, Decimal("19.90")),), ship_method="Priority")


def _operations(sim) -> dict[str, int]:
    return requests.get(f"{sim.root}/_control/calls", timeout=5).json()["operations"]


def _activate(admin, sim, **changes):
    data = {"title": "Amazon US", **{f"cred_{k}": v for k, v in _credentials(sim).items()},
            **changes}
    return admin.post("/admin/plugins/amazon_mcf/activate", data)


def _account_id(app) -> int:
    from dashboard.extensions import db
    from dashboard.models import HouseAccount
    with app.app_context():
        return db.session.scalars(select(HouseAccount.id)).one()


# ---------------------------------------------------------------- through the dashboard


def test_does_an_mcf_order_travel_from_hold_to_delivered(app, admin, sim, product, place,
                                                         clock):
    """Hold → Pending (previewed, then created) → Pending Shipment (Amazon's package) →
    Shipped and Delivered on Amazon's own carrier's tracking."""
    from dashboard.services.tracking import check_carriers, check_houses
    from jobs.dispatch import send_now
    assert _activate(admin, sim).status_code == 302
    account_id = _account_id(app)
    widget = product("WIDGET-1", account_id=account_id)
    _, [fid] = place([(widget, 2)])
    assert fulfillment(app, fid).status == "hold"

    with app.app_context():
        assert send_now(account_id=account_id)["sent"] == 1
    record = fulfillment(app, fid)
    assert record.status == "pending" and record.house_reference == record.reference
    held = sim.house.orders[record.reference]
    assert held["order"]["fulfillmentOrderStatus"] == "Received"
    assert held["order"]["shippingSpeedCategory"] == "Standard"
    assert [(i["sellerSku"], i["quantity"]) for i in held["items"]] == [("WIDGET-1", 2)]
    assert _operations(sim)["getFulfillmentPreview"] == 1

    for _ in range(3):  # Planning, Processing, Complete with one AMZL package
        sim.control("advance", {"key": record.reference})
    [package] = sim.house.orders[record.reference]["shipments"][0]["fulfillmentShipmentPackage"]
    number = package["trackingNumber"]
    clock.advance(minutes=6)  # the first tracking check of a sent order is due after 5
    with app.app_context():
        assert check_houses().moved == 1
    record = fulfillment(app, fid)
    assert record.status == "pending_shipment" and record.tracking_number == number
    row = shipments(app, fid)[number]
    assert (row.carrier, row.status_source, row.carrier_status) == ("AMZL", "house",
                                                                   "in_transit")

    with app.app_context():
        assert check_carriers().moved == 1
    assert fulfillment(app, fid).status == "shipped"

    sim.control("deliver", {"key": record.reference, "tracking_number": number})
    clock.advance(minutes=16)
    with app.app_context():
        assert check_carriers().moved == 1
    record = fulfillment(app, fid)
    assert record.status == "delivered" and record.delivered_at is not None
    steps = [(source, to) for source, to, applied, _ in timeline(app, fid) if applied]
    assert [to for _, to in steps][-3:] == ["pending_shipment", "shipped", "delivered"]
    assert "According to the house (Amazon MCF): Delivered" in timeline(app, fid)[-1][3]


@pytest.mark.parametrize("sku, customer, reason, words", [
    ("NO-SUCH-SKU", {}, "sku", "InvalidSKU"),
    ("SOLDOUT-1", {}, "stock", "InventoryUnavailable"),
    ("WIDGET-1", {"postal_code": "00000"}, "address", "InvalidDestinationAddress"),
], ids=["unknown-sku", "no-stock", "refused-address"])
def test_does_an_unfulfillable_preview_fail_the_order_before_any_create(
        app, sim, house_account, product, place, sku, customer, reason, words):
    from jobs.dispatch import send_now
    account_id, _ = house_account("amazon_mcf", sim.api_url, token_url=sim.token_url)
    _, [fid] = place([(product(sku, account_id=account_id), 1)], **customer)
    with app.app_context():
        assert send_now(account_id=account_id)["failed"] == 1
    record = fulfillment(app, fid)
    assert (record.status, record.failure_reason) == ("failed", reason)
    assert words in timeline(app, fid)[-1][3]
    assert "createFulfillmentOrder" not in _operations(sim)
    assert sim.house.creations == {}


@pytest.mark.parametrize("status, stock, reason, words", [
    ("Unfulfillable", 0, "stock", "InventoryUnavailable"),
    ("Invalid", None, "rejected", "could not be validated"),
], ids=["unfulfillable", "invalid"])
def test_does_an_order_amazon_gives_up_on_after_create_end_failed(
        app, sim, house_account, product, place, clock, status, stock, reason, words):
    """Amazon took the order, then marked it Unfulfillable or Invalid: the next house check
    moves it to Failed with the typed reason and Amazon's words (``house_problems``)."""
    from dashboard.services.tracking import check_houses
    from jobs.dispatch import send_now
    account_id, _ = house_account("amazon_mcf", sim.api_url, token_url=sim.token_url)
    _, [fid] = place([(product("WIDGET-1", account_id=account_id), 1)])
    with app.app_context():
        assert send_now(account_id=account_id)["sent"] == 1
    record = fulfillment(app, fid)
    sim.control("status", {"key": record.reference, "status": status})
    if stock is not None:
        sim.control("stock", {"WIDGET-1": stock})
    clock.advance(minutes=6)
    with app.app_context():
        check_houses()
    record = fulfillment(app, fid)
    assert (record.status, record.failure_reason) == ("failed", reason)
    assert words in timeline(app, fid)[-1][3] and status in timeline(app, fid)[-1][3]
    assert shipments(app, fid) == {}


@pytest.mark.parametrize("changes, words", [
    ({}, "succeeded"),
    ({"cred_refresh_token": "Atzr|revoked"}, "refused the refresh token"),  # noqa: S106
    ({"cred_client_secret": "not-the-secret"}, "refused the LWA client identifier and secret"),
    # Amazon's own words would be its answer's body, which Test connection never shows
    ({"cred_marketplace_id": "A1F83G8C2ARO7P"}, "failed: the house answered HTTP"),
], ids=["good", "bad-refresh-token", "bad-client", "wrong-marketplace"])
def test_does_test_connection_say_plainly_what_is_wrong(app, admin, sim, changes, words):
    assert _activate(admin, sim, **changes).status_code == 302
    page = admin.post(f"/admin/plugins/accounts/{_account_id(app)}/test",
                      form_page="/admin/plugins/amazon_mcf",
                      follow_redirects=True).get_data(as_text=True)
    assert words in page
    assert ("failed" in page) is (words != "succeeded")
    assert "Atzr|" not in page and "not-the-secret" not in page


def test_is_the_activate_form_checked_before_anything_is_saved(app, admin, sim):
    from dashboard.extensions import db
    from dashboard.models import HouseAccount
    wrong = {"cred_client_id": "my-app", "cred_refresh_token": "token",
             "cred_shipping_speed": "Overnight"}
    response = _activate(admin, sim, **wrong)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "amzn1.application-oa2-client" in page and "starts with Atzr|" in page
    assert "Choose one of the listed values for Shipping speed" in page
    with app.app_context():
        assert db.session.scalars(select(HouseAccount)).all() == []


# ---------------------------------------------------------------- the adapter, at Amazon


def test_is_an_expired_access_token_refreshed_once_and_the_call_made(sim):
    adapter = _adapter(sim)
    assert adapter.check_credentials() is None
    [sent] = adapter.send([_order()])
    assert isinstance(sent, Accepted)
    granted = requests.get(f"{sim.root}/_control/calls", timeout=5).json()["tokens_granted"]
    assert granted == 1  # one token served every call so far
    sim.control("expire-tokens")
    assert adapter.lookup([sent.key]) == {sent.key: sent}
    assert requests.get(f"{sim.root}/_control/calls",
                        timeout=5).json()["tokens_granted"] == 2


def test_is_a_token_refused_after_a_refresh_a_credentials_failure(sim, monkeypatch):
    adapter = _adapter(sim)
    assert adapter.check_credentials() is None
    sim.control("expire-tokens")
    # Login with Amazon now hands out tokens the API has already expired
    real_grant = sim.house.grant

    def stale_grant(form):
        body, status = real_grant(form)
        sim.house.expire_tokens()
        return body, status
    monkeypatch.setattr(sim.house, "grant", stale_grant)
    [outcome] = adapter.send([_order()])
    assert outcome.reason is FailureReason.CREDENTIALS and "expired" in outcome.message
    assert sim.house.grants == 2 and sim.house.creations == {}


def test_does_the_ship_profile_speed_win_over_the_account_one(sim):
    adapter = _adapter(sim, shipping_speed="Expedited")
    adapter.send([_order(key="FF-PRIORITY")])
    adapter.send([replace(_order(key="FF-ACCOUNT"), ship_method="Ground")])
    speeds = {k: o["order"]["shippingSpeedCategory"] for k, o in sim.house.orders.items()}
    assert speeds == {"FF-PRIORITY": "Priority", "FF-ACCOUNT": "Expedited"}


def test_is_a_key_amazon_cannot_take_refused_without_a_call(sim):
    [outcome] = _adapter(sim).send([_order(key="F" * 41)])
    assert outcome.reason is FailureReason.OTHER and "40" in outcome.message
    assert _operations(sim) == {}


@pytest.mark.parametrize("status, stock, reason, words", [
    ("Unfulfillable", 0, FailureReason.STOCK, "InventoryUnavailable"),
    ("Invalid", None, FailureReason.REJECTED, "could not be validated"),
], ids=["unfulfillable", "invalid"])
def test_is_an_order_amazon_gives_up_on_a_final_problem(sim, status, stock, reason, words):
    adapter = _adapter(sim)
    [sent] = adapter.send([_order()])
    sim.control("status", {"key": sent.key, "status": status})
    if stock is not None:
        sim.control("stock", {"WIDGET-1": stock})
    [info] = adapter.fetch_tracking([SentOrder(sent.key, sent.house_reference)])
    assert info.problem is not None and info.problem.final
    assert info.problem.reason is reason and words in info.problem.message
    assert status in info.problem.message and not info.packages and not info.cancelled


def test_is_a_cancel_refused_once_amazon_is_picking(sim):
    adapter = _adapter(sim)
    [sent] = adapter.send([_order()])
    for _ in range(2):
        sim.control("advance", {"key": sent.key})  # Planning, then Processing
    with pytest.raises(AdapterError) as refused:
        adapter.cancel(SentOrder(sent.key, sent.house_reference))
    assert not refused.value.transient and "Processing" in str(refused.value)
    assert sim.house.orders[sent.key]["order"]["fulfillmentOrderStatus"] == "Processing"


def test_are_429s_waited_out_at_the_announced_rate(simulator):
    sim = simulator("amazon_mcf")
    sim.control("rate-limit", {"enabled": True, "limit": 1, "window": 1})
    waits = []

    def pace(seconds):
        waits.append(seconds)
        time.sleep(seconds)
    adapter = AmazonMCFHouse(_credentials(sim), sim.api_url, timeout=5, pace=pace,
                             max_pace=5)
    outcomes = adapter.send([_order(key="FF-RATE-1")]) + adapter.send([_order(key="FF-RATE-2")])
    assert all(isinstance(o, Accepted) for o in outcomes)
    stats = requests.get(f"{sim.root}/_control/stats", timeout=5).json()
    # the first send learnt the rate (1/s) from x-amzn-RateLimit-Limit; the second send's
    # calls found empty buckets and waited one token each, with at most a 429 apiece
    assert waits and all(0.9 <= w <= 1.0 for w in waits)
    assert stats["refused_429"] <= 3 and sim.house.creations == {"FF-RATE-1": 1,
                                                                 "FF-RATE-2": 1}
    assert sim.house.violations == []


# ---------------------------------------------------------------- the model


def test_does_the_simulator_refuse_a_request_the_model_rejects(sim):
    token = requests.post(sim.token_url, data={
        "grant_type": "refresh_token", **{k: CREDENTIALS["amazon_mcf"][k] for k in (
            "client_id", "client_secret", "refresh_token")}}, timeout=5).json()["access_token"]
    body = AmazonMCFHouse(_credentials(sim))._create_body(_order())
    body["shippingSpeedCategory"] = "Ground"
    body["destinationAdress"] = body.pop("destinationAddress")
    response = requests.post(f"{sim.api_url}/fba/outbound/2020-07-01/fulfillmentOrders",
                             json=body, headers={"x-amz-access-token": token}, timeout=5)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "InvalidInput"
    assert "'Ground' is not one of" in error["message"]
    assert "'destinationAddress' is a required property" in error["message"]
    assert sim.house.creations == {}


def test_is_an_answer_the_model_rejects_a_failure_not_a_warning(simulator):
    sim = simulator("amazon_mcf")
    adapter = _adapter(sim)
    [sent] = adapter.send([_order()])
    sim.house.orders[sent.key]["order"]["fulfillmentOrderStatus"] = "Shipped"  # not Amazon's
    with pytest.raises(AdapterError, match="breaks Amazon's model"):
        adapter.fetch_tracking([SentOrder(sent.key, sent.house_reference)])
    [violation] = sim.house.violations
    assert violation.startswith("getFulfillmentOrder 200") and "'Shipped'" in violation
