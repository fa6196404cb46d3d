"""ShipStation's SHIP_NOTIFY and FULFILLMENT_SHIPPED at /webhooks/shipstation/<token>."""
from __future__ import annotations

import pytest
import requests
from flask import Flask, request
from houses_kit import counts, fulfillment, shipments, timeline

from simulators.common import serve

PACKAGES = [{"tracking_number": "1Z999AA10000000001", "via": "shipment"},
            {"tracking_number": "1Z999AA10000000002", "via": "shipment"}]


def _post(app, token, body, **kw):
    return app.test_client().post(f"/webhooks/shipstation/{token}", json=body, **kw)


def _ship(setup, packages=PACKAGES):
    return setup.sim.control("ship", {"key": setup.reference, "packages": packages})["webhooks"]


def test_does_ship_notify_move_the_order_to_pending_shipment(app, sent):
    setup = sent("shipstation")
    [hook] = _ship(setup)
    assert hook["resource_type"] == "SHIP_NOTIFY"
    response = _post(app, setup.token, hook)
    assert response.status_code == 200, response.json
    record = fulfillment(app, setup.fid)
    assert record.status == "pending_shipment"
    assert record.tracking_number == "1Z999AA10000000001"
    assert set(shipments(app, setup.fid)) == {p["tracking_number"] for p in PACKAGES}
    source, to_status, applied, detail = timeline(app, setup.fid)[-1]
    assert (source, to_status, applied) == ("webhook", "pending_shipment", True)
    assert "1Z999AA10000000002" in detail


def test_does_fulfillment_shipped_match_the_order_by_its_id(app, sent):
    """Fulfillments rows carry no orderKey: the order is found by ShipStation's orderId."""
    setup = sent("shipstation")
    [hook] = _ship(setup, [{"tracking_number": "1Z999AA10000000003", "via": "fulfillment"}])
    assert hook["resource_type"] == "FULFILLMENT_SHIPPED"
    assert _post(app, setup.token, hook).status_code == 200
    assert fulfillment(app, setup.fid).tracking_number == "1Z999AA10000000003"


def test_does_a_repeated_notification_change_nothing(app, sent):
    setup = sent("shipstation")
    [hook] = _ship(setup)
    assert _post(app, setup.token, hook).status_code == 200
    before = counts(app)
    again = _post(app, setup.token, hook)
    assert again.status_code == 200 and "Already applied" in again.json["outcome"]
    assert counts(app) == before


@pytest.mark.parametrize("token", ["wrong-token", ""], ids=["wrong", "empty"])
def test_is_a_wrong_token_refused_without_a_change(app, sent, token):
    setup = sent("shipstation")
    [hook] = _ship(setup)
    before = counts(app)
    response = _post(app, token or "x", hook)
    assert response.status_code == 404
    assert counts(app) == before and fulfillment(app, setup.fid).status == "pending"


def test_is_another_houses_token_refused(app, sent, house_account, simulator):
    setup = sent("shipstation")
    [hook] = _ship(setup)
    _bob_id, bob_token = house_account("shipbob", simulator("shipbob").api_url)
    assert _post(app, bob_token, hook).status_code == 404
    assert fulfillment(app, setup.fid).status == "pending"


@pytest.fixture
def spy(serve_any):
    """A server on another port that records every request it gets."""
    seen = []
    spy_app = Flask("spy")

    @spy_app.route("/<path:path>")
    def anything(path):
        seen.append((path, request.headers.get("Authorization")))
        return {"shipments": [], "total": 0, "page": 1, "pages": 1}

    return serve_any(spy_app), seen


@pytest.fixture
def serve_any():
    stops = []

    def start(wsgi) -> str:
        root, stop = serve(wsgi)
        stops.append(stop)
        return root

    yield start
    for stop in stops:
        stop()


@pytest.mark.parametrize("make_url", [
    lambda sim, spy: f"{spy}/shipments?batchId=1",
    lambda sim, spy: sim.replace("http://", "https://") + "/shipments?batchId=1",
    lambda sim, spy: sim.replace("http://", "http://attacker@") + "/shipments?batchId=1",
    lambda sim, spy: "file:///etc/passwd",
], ids=["other-port", "other-scheme", "user-info", "file"])
def test_is_a_resource_off_the_account_host_never_fetched(app, sent, spy, make_url):
    setup = sent("shipstation")
    _ship(setup)
    spy_root, seen = spy
    before = counts(app)
    response = _post(app, setup.token, {"resource_url": make_url(setup.sim.root, spy_root),
                                        "resource_type": "SHIP_NOTIFY"})
    assert response.status_code == 400
    assert "not fetched" in response.json["error"]
    assert seen == []
    assert counts(app) == before and fulfillment(app, setup.fid).status == "pending"


@pytest.mark.parametrize("kw", [
    {"data": b"{not json", "content_type": "application/json"},
    {"json": ["resource_url"]},
    {"json": {"resource_type": "SHIP_NOTIFY"}},
    {"json": {"resource_url": 5, "resource_type": "SHIP_NOTIFY"}},
], ids=["broken-json", "not-an-object", "no-url", "url-not-text"])
def test_is_a_malformed_body_refused(app, sent, kw):
    setup = sent("shipstation")
    _ship(setup)
    before = counts(app)
    response = app.test_client().post(f"/webhooks/shipstation/{setup.token}", **kw)
    assert response.status_code == 400
    assert counts(app) == before


def test_is_a_resource_naming_no_order_of_ours_refused(app, sent, simulator):
    setup = sent("shipstation")
    # an order placed in ShipStation by someone else, then shipped there
    auth = ("ss-api-key", "ss-api-secret")
    requests.post(setup.sim.root + "/orders/createorder", auth=auth, timeout=5, json={
        "orderNumber": "X-1", "orderKey": "not-ours", "orderDate": "2026-11-01T10:00:00",
        "orderStatus": "awaiting_shipment", "billTo": {"name": "A"},
        "shipTo": {"name": "A", "street1": "1 Main St", "city": "Chicago", "state": "IL",
                   "postalCode": "60607", "country": "US"},
        "items": [{"sku": "WIDGET-1", "name": "W", "quantity": 1}]}).raise_for_status()
    [hook] = setup.sim.control("ship", {"key": "not-ours", "packages": PACKAGES})["webhooks"]
    before = counts(app)
    response = _post(app, setup.token, hook)
    assert response.status_code == 404
    assert counts(app) == before


def test_is_an_unused_resource_type_acknowledged_without_a_change(app, sent):
    setup = sent("shipstation")
    before = counts(app)
    response = _post(app, setup.token, {"resource_url": setup.sim.root + "/orders?x=1",
                                        "resource_type": "ORDER_NOTIFY"})
    assert response.status_code == 200 and "not used" in response.json["outcome"]
    assert counts(app) == before


def test_does_shipstation_being_down_change_nothing(app, sent):
    setup = sent("shipstation")
    [hook] = _ship(setup)
    setup.sim.control("fail", {"mode": "error", "status": 503})
    before = counts(app)
    response = _post(app, setup.token, hook)
    assert response.status_code == 502
    assert counts(app) == before
    assert _post(app, setup.token, hook).status_code == 200  # its retry goes through
