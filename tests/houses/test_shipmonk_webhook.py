"""ShipMonk's Shipment Notification at /webhooks/shipmonk/<token>, proven by Basic auth."""
from __future__ import annotations

import pytest
from houses_kit import CREDENTIALS, counts, fulfillment, shipments, timeline

AUTH = (CREDENTIALS["shipmonk"]["webhook_username"], CREDENTIALS["shipmonk"]["webhook_password"])
PACKAGES = [{"tracking_number": "1ZSM0000000000001", "carrier": "UPS", "service": "Ground"},
            {"tracking_number": "1ZSM0000000000002", "carrier": "UPS", "service": "Ground"}]


def _post(app, token, body, auth=AUTH, **kw):
    return app.test_client().post(f"/webhooks/shipmonk/{token}", json=body, auth=auth, **kw)


@pytest.fixture
def shipped(sent):
    setup = sent("shipmonk")
    setup.notification = setup.sim.control(
        "ship", {"key": setup.reference, "packages": PACKAGES})["notification"]
    return setup


def test_does_a_notification_record_one_package_per_tracking_number(app, shipped):
    response = _post(app, shipped.token, shipped.notification)
    assert response.status_code == 200, response.json
    record = fulfillment(app, shipped.fid)
    assert record.status == "pending_shipment" and record.tracking_number == "1ZSM0000000000001"
    packages = shipments(app, shipped.fid)
    assert set(packages) == {p["tracking_number"] for p in PACKAGES}
    assert {p.ship_method for p in packages.values()} == {"Ground"}
    assert timeline(app, shipped.fid)[-1][:3] == ("webhook", "pending_shipment", True)


def test_does_a_repeated_notification_change_nothing(app, shipped):
    assert _post(app, shipped.token, shipped.notification).status_code == 200
    before = counts(app)
    again = _post(app, shipped.token, shipped.notification)
    assert again.status_code == 200 and "Already applied" in again.json["outcome"]
    assert counts(app) == before


@pytest.mark.parametrize("auth", [None, ("crm-hooks", "wrong-password-000000"),
                                  ("someone", AUTH[1])],
                         ids=["no-auth", "wrong-password", "wrong-user"])
def test_is_a_call_without_the_right_basic_auth_refused(app, shipped, auth):
    before = counts(app)
    response = _post(app, shipped.token, shipped.notification, auth=auth)
    assert response.status_code == 401
    assert counts(app) == before and fulfillment(app, shipped.fid).status == "pending"


def test_is_every_call_refused_while_no_webhook_password_is_set(app, sent):
    setup = sent("shipmonk", webhook_password="")
    body = setup.sim.control("ship", {"key": setup.reference, "packages": PACKAGES})
    response = _post(app, setup.token, body["notification"], auth=(AUTH[0], ""))
    assert response.status_code == 401
    assert fulfillment(app, setup.fid).status == "pending"


def test_is_a_wrong_token_refused(app, shipped):
    before = counts(app)
    assert _post(app, shipped.token[:-1] + "x", shipped.notification).status_code == 404
    assert counts(app) == before


@pytest.mark.parametrize("change", [
    lambda n: b"{oops",
    lambda n: [n],
    lambda n: {**n, "packages": []},
    lambda n: {**n, "packages": [{"tracking_url": "https://x"}]},
    lambda n: {k: v for k, v in n.items() if k not in ("order_key", "order_id")},
], ids=["broken-json", "list", "no-packages", "package-without-number", "no-order"])
def test_is_a_malformed_notification_refused(app, shipped, change):
    body = change(shipped.notification)
    before = counts(app)
    kw = {"data": body, "content_type": "application/json"} if isinstance(body, bytes) else \
        {"json": body}
    response = app.test_client().post(f"/webhooks/shipmonk/{shipped.token}", auth=AUTH, **kw)
    assert response.status_code == 400
    assert counts(app) == before


def test_is_a_notification_about_an_order_not_ours_refused(app, shipped):
    before = counts(app)
    body = {**shipped.notification, "order_key": "FFNOTOURS", "order_id": 1, "shipment_id": 5}
    assert _post(app, shipped.token, body).status_code == 404
    assert counts(app) == before


def test_does_a_notification_with_shipped_at_as_an_object_record_its_packages(app, sent):
    setup = sent("shipmonk")
    body = setup.sim.control("ship-notification", {"key": setup.reference,
                                                   "packages": PACKAGES})["notification"]
    assert isinstance(body["shipped_at"], dict)
    assert _post(app, setup.token, body).status_code == 200
    assert set(shipments(app, setup.fid)) == {p["tracking_number"] for p in PACKAGES}


def test_is_a_status_change_to_a_hold_taken_once(app, sent):
    setup = sent("shipmonk", sku="NOT-AT-SHIPMONK")
    change = setup.sim.control("process", {"key": setup.reference})
    assert change["actions_required"]["item_mapping"]
    first = _post(app, setup.token, change)
    assert first.status_code == 200, first.json
    assert "item mapping" in first.json["outcome"] and "NOT-AT-SHIPMONK" in first.json["outcome"]
    assert "NOT-AT-SHIPMONK" in timeline(app, setup.fid)[-1][-1]
    before = counts(app)
    again = _post(app, setup.token, change)
    assert again.status_code == 200 and "Already applied" in again.json["outcome"]
    assert counts(app) == before


def test_is_a_status_change_without_news_acknowledged_and_nothing_changed(app, sent):
    setup = sent("shipmonk")
    change = setup.sim.control("process", {"key": setup.reference})
    assert change["processing_status"] == "submitted"
    before = counts(app)
    response = _post(app, setup.token, change)
    assert response.status_code == 200 and "nothing to change" in response.json["outcome"]
    assert counts(app) == before and fulfillment(app, setup.fid).status == "pending"
