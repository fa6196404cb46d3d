"""A pull house from start to finish over real HTTP: it queries held orders, receives them
(now Pending), reports tracking (Pending Shipment), and the carrier check delivers them.
The Sandbox carrier follows the tracking numbers: the test puts the shipments in the
Sandbox house's own store, where that carrier looks them up."""
from contextlib import closing

import pytest
import requests
from lxml import etree
from pullkit import API_PASSWORD, DATES, XSD

from adapters.sandbox import connect_store, tracking_number_for


@pytest.fixture
def server(app):
    from simulators.common import serve
    base_url, stop = serve(app)
    yield base_url
    stop()


def _sandbox_knows(fulfillment_reference: str, received_at) -> str:
    """Put a shipment in the Sandbox store: scanned after 10 min, delivered after 1 h."""
    number = tracking_number_for(fulfillment_reference)
    with closing(connect_store()) as conn:
        conn.execute(
            "INSERT INTO orders (key, reference, order_number, received_at, ship_after, "
            "scan_after, deliver_after, status, tracking_number) "
            "VALUES (?, ?, ?, ?, 0, 600, 3600, 'shipped', ?)",
            (fulfillment_reference, "SBX-" + fulfillment_reference, fulfillment_reference,
             received_at.isoformat(), number))
    return number


def _check_carriers(app):
    from dashboard.services.tracking import check_carriers
    with app.app_context():
        return check_carriers()


def test_shipmonk_pulls_ships_and_sees_delivery(app, server, pull_account, api_user, held,
                                                clock, fulfillment):
    account = pull_account(adapter_key="shipmonk_pull", title="ShipMonk import")
    api_user([account])
    ids = held(account, 2)
    auth = {"loginId": "house-east", "password": API_PASSWORD}

    def post(path, **params):
        response = requests.post(server + path, data={**auth, **params}, timeout=10)
        assert response.status_code == 200
        return response.json()

    held_now = post("/fulfillment/query/", fulfillmentStatus="HOLD", **DATES)["message"]
    assert [r["fulfillmentId"] for r in held_now["data"]] == [str(i) for i in ids]
    assert {r["status"] for r in held_now["data"]} == {"PENDING"}  # received = exported
    # a GET of the same query after a crash returns them again
    again = requests.get(server + "/fulfillment/query/", params={**auth, **DATES}, timeout=10)
    assert {r["status"] for r in again.json()["message"]["data"]} == {"PENDING"}
    assert post("/fulfillment/query/", fulfillmentStatus="HOLD", **DATES)["result"] == "ERROR"

    for fid in ids:
        number = _sandbox_knows(fulfillment(fid).reference, clock())
        answer = post("/fulfillment/update/", fulfillmentId=str(fid), fulfillmentStatus="SHIPPED",
                      trackingNumber=number, shipCarrier="sandbox", dateShipped="11/02/2026")
        assert answer == {"result": "SUCCESS", "message": "Fulfillment updated"}
    shipped = post("/fulfillment/query/", **DATES)["message"]["data"]
    assert {r["status"] for r in shipped} == {"PENDING_SHIPMENT"}

    clock.advance(minutes=20)
    _check_carriers(app)
    assert {fulfillment(f).status for f in ids} == {"shipped"}
    clock.advance(hours=1)
    summary = _check_carriers(app)
    assert summary.moved == 2
    final = post("/order/query/", **DATES)["message"]["data"]
    statuses = [f["status"] for order in final for f in order["fulfillments"]]
    assert statuses == ["DELIVERED", "DELIVERED"]
    assert all(f["dateDelivered"] for order in final for f in order["fulfillments"])


def test_shipworks_downloads_uploads_and_sees_delivery(app, server, pull_account, api_user,
                                                       held, clock, fulfillment):
    account = pull_account()
    api_user([account])
    [fid] = held(account)
    schema = etree.XMLSchema(etree.parse(str(XSD)))

    def post(action, **fields):
        response = requests.post(server + "/shipworks/", timeout=10, data={
            "action": action, "username": "house-east", "password": API_PASSWORD, **fields})
        assert response.status_code == 200
        root = etree.fromstring(response.content)
        schema.assertValid(root)
        return root

    assert post("getmodule").findtext("Module/Capabilities/DownloadStrategy") == "ByModifiedTime"
    assert post("getcount", start="0001-01-01T00:00:00").findtext("OrderCount") == "1"
    [order] = post("getorders", start="0001-01-01T00:00:00", maxcount="50").iterfind(
        "Orders/Order")
    assert order.findtext("OrderNumber") == str(fid) and order.findtext("StatusCode") == "PENDING"
    number = _sandbox_knows(fulfillment(fid).reference, clock())
    assert post("updateshipment", order=str(fid), tracking=number, carrier="sandbox",
                shippingdate="2026-11-02T09:00:00").find("UpdateSuccess") is not None
    assert fulfillment(fid).status == "pending_shipment"
    clock.advance(hours=2)
    _check_carriers(app)
    assert fulfillment(fid).status == "delivered"
    [latest] = post("getorders", start="2026-11-02T09:00:00").iterfind("Orders/Order")
    assert latest.findtext("StatusCode") == "DELIVERED"
