"""ShipStation end to end through the dashboard: activate it pointed at its simulator,
assign it to every product, place an order, dispatch, ship in ShipStation, receive
SHIP_NOTIFY, and see Pending Shipment with the tracking number."""
from __future__ import annotations

import pytest
from houses_kit import fulfillment
from sqlalchemy import select


def _activate(admin, sim, **changes):
    data = {"title": "ShipStation East", "cred_api_key": "ss-api-key",
            "cred_api_secret": "ss-api-secret", "cred_store_id": "310001",
            "cred_base_url": sim.api_url, **changes}
    return admin.post("/admin/plugins/shipstation/activate", data)


def _account(app):
    from dashboard.extensions import db
    from dashboard.models import HouseAccount
    with app.app_context():
        account = db.session.scalars(select(HouseAccount)).one()
        return account.id, account.webhook_token


def test_does_an_order_travel_from_order_entry_to_pending_shipment(app, admin, simulator,
                                                                   product, place):
    from jobs.dispatch import send_now
    sim = simulator("shipstation")
    assert _activate(admin, sim).status_code == 302
    account_id, token = _account(app)
    widget, gadget = product("WIDGET-1"), product("GADGET-2")
    assign = f"/admin/plugins/accounts/{account_id}/assign-all"
    assert admin.post(assign).status_code == 302
    _, [fid] = place([(widget, 2), (gadget, 1)])

    with app.app_context():
        result = send_now(account_id=account_id)
    assert result["sent"] == 1
    record = fulfillment(app, fid)
    assert record.status == "pending" and record.house_reference
    held = sim.app.extensions["house"].find_by_key(record.reference)
    assert sorted(i["sku"] for i in held["items"]) == ["GADGET-2", "WIDGET-1"]

    [hook] = sim.control("ship", {"key": record.reference, "packages": [
        {"tracking_number": "1Z999AA10000000077", "carrier": "ups",
         "service": "ups_ground"}]})["webhooks"]
    response = app.test_client().post(f"/webhooks/shipstation/{token}", json=hook)
    assert response.status_code == 200, response.json

    record = fulfillment(app, fid)
    assert record.status == "pending_shipment"
    assert record.tracking_number == "1Z999AA10000000077"
    order_page = admin.get(f"/fulfillments/{fid}", follow_redirects=True)
    page = order_page.get_data(as_text=True)
    assert "1Z999AA10000000077" in page and "Pending Shipment" in page


@pytest.mark.parametrize("changes, words", [
    ({}, "succeeded"),
    ({"cred_api_secret": "not-the-secret"}, "HTTP 401 UNAUTHORIZED — the credentials were refused"),
    ({"cred_store_id": "999999"}, "no store with ID 999999"),
], ids=["good", "bad-key", "wrong-store"])
def test_does_test_connection_say_plainly_what_is_wrong(app, admin, simulator, changes,
                                                        words):
    sim = simulator("shipstation")
    assert _activate(admin, sim, **changes).status_code == 302
    account_id, _token = _account(app)
    response = admin.post(f"/admin/plugins/accounts/{account_id}/test",
                          form_page="/admin/plugins/shipstation", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert words in page
    assert ("failed" in page) is (words != "succeeded")
    assert "not-the-secret" not in page


def test_does_test_connection_say_when_shipstation_cannot_be_reached(app, admin, simulator):
    sim = simulator("shipstation")
    url = sim.api_url
    assert _activate(admin, sim, cred_base_url=url.rsplit(":", 1)[0] + ":9").status_code == 302
    account_id, _token = _account(app)
    page = admin.post(f"/admin/plugins/accounts/{account_id}/test",
                      form_page="/admin/plugins/shipstation",
                      follow_redirects=True).get_data(as_text=True)
    assert "Could not reach ShipStation" in page
