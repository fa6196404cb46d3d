"""ShipBob's signed webhooks at /webhooks/shipbob/<token>."""
from __future__ import annotations

import calendar
import json
from datetime import datetime, timezone

import pytest
from houses_kit import CREDENTIALS, counts, fulfillment, shipments, timeline
from standardwebhooks import Webhook

from simulators.shipbob import signed_delivery

OLD_SECRET, NEW_SECRET = CREDENTIALS["shipbob"]["webhook_secrets"].split()
PACKAGES = [{"tracking_number": "9400100000000000000001"},
            {"tracking_number": "9400100000000000000002"}]


def _unix(clock) -> int:
    return calendar.timegm(clock().timetuple())


def _delivery(setup, topic, clock, *, secret=NEW_SECRET, tracking_number=None, **kw):
    """The delivery the simulator makes for ``topic``, signed at the app's clock."""
    resource = setup.sim.app.extensions["house"].webhook_resource(setup.reference, topic,
                                                                  tracking_number)
    return signed_delivery(topic, resource, secret, timestamp=kw.pop("timestamp", _unix(clock)),
                           **kw)


def _post(app, token, headers, body):
    return app.test_client().post(f"/webhooks/shipbob/{token}", data=body, headers=headers)


@pytest.fixture
def shipped(sent):
    setup = sent("shipbob")
    setup.sim.control("ship", {"key": setup.reference, "packages": PACKAGES})
    return setup


def test_does_order_shipped_record_every_package(app, shipped, clock):
    response = _post(app, shipped.token, *_delivery(shipped, "order.shipped", clock))
    assert response.status_code == 200, response.json
    record = fulfillment(app, shipped.fid)
    assert record.status == "pending_shipment"
    assert set(shipments(app, shipped.fid)) == {p["tracking_number"] for p in PACKAGES}
    assert timeline(app, shipped.fid)[-1][:3] == ("webhook", "pending_shipment", True)


def test_does_order_shipped_without_tracking_leave_it_to_polling(app, sent, clock):
    setup = sent("shipbob")  # not shipped at the simulator: its shipment has no tracking
    response = _post(app, setup.token, *_delivery(setup, "order.shipped", clock))
    assert response.status_code == 200 and "polling" in response.json["outcome"]
    assert fulfillment(app, setup.fid).status == "pending"
    assert shipments(app, setup.fid) == {}


def test_is_a_secret_being_rotated_out_still_accepted(app, shipped, clock):
    headers, body = _delivery(shipped, "order.shipped", clock, secret=OLD_SECRET)
    assert _post(app, shipped.token, headers, body).status_code == 200
    assert fulfillment(app, shipped.fid).status == "pending_shipment"


@pytest.mark.parametrize("forge", [
    lambda h, b: ({**h, "webhook-signature": "v1,"
                   + "A" * 43 + "="}, b),
    lambda h, b: (h, b.replace(b"9400100000000000000001", b"9400100000000000000009")),
    lambda h, b: ({**h, "webhook-id": "msg_other"}, b),
    lambda h, b: ({k: v for k, v in h.items() if k != "webhook-signature"}, b),
    lambda h, b: ({**h, "webhook-signature": h["webhook-signature"].replace("v1,", "v2,")}, b),
], ids=["made-up-signature", "body-changed", "id-changed", "unsigned", "unknown-version"])
def test_is_a_forged_delivery_refused_without_a_change(app, shipped, clock, forge):
    headers, body = forge(*_delivery(shipped, "order.shipped", clock))
    before = counts(app)
    response = _post(app, shipped.token, headers, body)
    assert response.status_code == 401
    assert counts(app) == before and fulfillment(app, shipped.fid).status == "pending"


def test_is_a_delivery_signed_with_an_unknown_secret_refused(app, shipped, clock):
    other = "whsec_" + "c29tZW9uZS1lbHNlcy1zZWNyZXQ="
    response = _post(app, shipped.token, *_delivery(shipped, "order.shipped", clock,
                                                    secret=other))
    assert response.status_code == 401 and "does not match" in response.json["error"]
    assert fulfillment(app, shipped.fid).status == "pending"


def test_is_every_delivery_refused_while_no_secret_is_set(app, sent, clock):
    setup = sent("shipbob", webhook_secrets="")
    setup.sim.control("ship", {"key": setup.reference, "packages": PACKAGES})
    response = _post(app, setup.token, *_delivery(setup, "order.shipped", clock))
    assert response.status_code == 401 and "No webhook signing secret" in response.json["error"]
    assert fulfillment(app, setup.fid).status == "pending"


@pytest.mark.parametrize("offset, accepted", [(-301, False), (301, False), (-299, True),
                                              (299, True)])
def test_is_a_delivery_outside_five_minutes_refused(app, shipped, clock, offset, accepted):
    headers, body = _delivery(shipped, "order.shipped", clock,
                              timestamp=_unix(clock) + offset)
    response = _post(app, shipped.token, headers, body)
    assert response.status_code == (200 if accepted else 401)
    assert (fulfillment(app, shipped.fid).status == "pending_shipment") is accepted


def test_does_a_replayed_delivery_change_nothing(app, shipped, clock):
    headers, body = _delivery(shipped, "order.shipped", clock)
    assert _post(app, shipped.token, headers, body).status_code == 200
    before = counts(app)
    again = _post(app, shipped.token, headers, body)
    assert again.status_code == 200 and "Already applied" in again.json["outcome"]
    assert counts(app) == before


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"'],
                         ids=["broken", "list", "string"])
def test_is_a_signed_but_malformed_body_refused(app, shipped, clock, body):
    headers, _ = _delivery(shipped, "order.shipped", clock)
    headers, raw = _resign(headers, body)
    before = counts(app)
    response = _post(app, shipped.token, headers, raw)
    assert response.status_code == 400 and "JSON" in response.json["error"]
    assert counts(app) == before


@pytest.mark.parametrize("resource", [{"reference_id": "x", "shipments": ["not", "objects"]},
                                      {"reference_id": "x", "tracking": "1Z"}],
                         ids=["shipments-not-objects", "tracking-not-object"])
def test_is_a_body_of_the_wrong_shape_refused(app, shipped, clock, resource):
    before = counts(app)
    response = _post(app, shipped.token, *signed_delivery("order.shipped", resource, NEW_SECRET,
                                                          timestamp=_unix(clock)))
    assert response.status_code == 400 and "not a ShipBob order" in response.json["error"]
    assert counts(app) == before


def _resign(headers, body):
    """Sign ``body`` as it is (signed_delivery only signs JSON it serialises itself)."""
    sent = datetime.fromtimestamp(int(headers["webhook-timestamp"]), timezone.utc)
    signature = Webhook(NEW_SECRET).sign(headers["webhook-id"], sent, body.decode())
    return {**headers, "webhook-signature": signature}, body


def test_is_an_event_about_an_order_not_ours_refused(app, shipped, clock):
    resource = dict(shipped.sim.app.extensions["house"].find(shipped.reference),
                    reference_id="FFNOTOURS", id=1)
    before = counts(app)
    response = _post(app, shipped.token, *signed_delivery("order.shipped", resource, NEW_SECRET,
                                                          timestamp=_unix(clock)))
    assert response.status_code == 404
    assert counts(app) == before


def test_does_the_house_delivery_move_the_order_to_delivered(app, shipped, clock):
    first, second = (p["tracking_number"] for p in PACKAGES)
    assert _post(app, shipped.token, *_delivery(shipped, "order.shipped", clock)).status_code \
        == 200
    shipped.sim.control("deliver", {"key": shipped.reference, "tracking_number": first})
    response = _post(app, shipped.token, *_delivery(shipped, "order.shipment.delivered", clock,
                                                    tracking_number=first))
    assert response.status_code == 200, response.json
    assert fulfillment(app, shipped.fid).status == "shipped"  # one package still travels
    packages = shipments(app, shipped.fid)
    assert packages[first].carrier_status == "delivered"
    assert packages[first].status_source == "house" and packages[first].done
    assert packages[second].carrier_status == "pre_transit"

    shipped.sim.control("deliver", {"key": shipped.reference, "tracking_number": second})
    assert _post(app, shipped.token, *_delivery(shipped, "order.shipment.delivered", clock,
                                                tracking_number=second)).status_code == 200
    record = fulfillment(app, shipped.fid)
    assert record.status == "delivered" and record.delivered_at is not None
    assert timeline(app, shipped.fid)[-1][:3] == ("webhook", "delivered", True)


def test_does_the_house_delivery_settle_a_returned_package_as_polling_does(app, shipped,
                                                                          clock):
    """One delivery rule for polling and webhooks: a package the carrier reported returned
    makes the record Returned when the house reports its other package delivered (the
    webhook once kept only Delivered and Shipped in mind and left it Shipped)."""
    from sqlalchemy import update

    from dashboard.extensions import db
    from dashboard.models import Shipment
    first, second = (p["tracking_number"] for p in PACKAGES)
    assert _post(app, shipped.token, *_delivery(shipped, "order.shipped", clock)).status_code \
        == 200
    with app.app_context():  # what a carrier check stores for a package sent back
        db.session.execute(update(Shipment).where(Shipment.tracking_number == second).values(
            carrier_status="returned", status_source="carrier:usps", done=True,
            carrier_detail="Returned to sender"))
        db.session.commit()
    shipped.sim.control("deliver", {"key": shipped.reference, "tracking_number": first})
    response = _post(app, shipped.token, *_delivery(shipped, "order.shipment.delivered", clock,
                                                    tracking_number=first))
    assert response.status_code == 200, response.json
    record = fulfillment(app, shipped.fid)
    assert record.status == "returned" and record.returned_at is not None
    assert timeline(app, shipped.fid)[-1][:3] == ("webhook", "returned", True)


def test_does_a_delivery_we_had_not_heard_of_record_the_package_first(app, shipped, clock):
    """The only package we know of is delivered: the record passes Pending Shipment on
    its way to Delivered, each step through the status rules."""
    number = PACKAGES[0]["tracking_number"]
    shipped.sim.control("deliver", {"key": shipped.reference, "tracking_number": number})
    response = _post(app, shipped.token, *_delivery(shipped, "order.shipment.delivered", clock,
                                                    tracking_number=number))
    assert response.status_code == 200
    assert [t[1] for t in timeline(app, shipped.fid)][-2:] == ["pending_shipment", "delivered"]
    assert shipments(app, shipped.fid)[number].carrier_status == "delivered"


def test_does_an_exception_leave_a_note_and_the_status(app, shipped, clock):
    response = _post(app, shipped.token, *_delivery(shipped, "order.shipment.exception", clock))
    assert response.status_code == 200
    record = fulfillment(app, shipped.fid)
    assert record.status == "pending" and "address not accessible" in record.carrier_exception
    assert "exception" in timeline(app, shipped.fid)[-1][3]


def test_does_a_cancelled_shipment_cancel_an_unshipped_order(app, sent, clock):
    setup = sent("shipbob")
    response = _post(app, setup.token, *_delivery(setup, "order.shipment.cancelled", clock))
    assert response.status_code == 200
    assert fulfillment(app, setup.fid).status == "cancelled"
    assert timeline(app, setup.fid)[-1][:3] == ("webhook", "cancelled", True)


def test_is_a_cancel_after_shipping_only_noted(app, shipped, clock):
    assert _post(app, shipped.token, *_delivery(shipped, "order.shipped", clock)).status_code \
        == 200
    # the house's second, never-shipped shipment is cancelled
    house = shipped.sim.app.extensions["house"]
    order = house.find(shipped.reference)
    extra = dict(order["shipments"][0], id=999, tracking=None, status="Cancelled")
    response = _post(app, shipped.token, *signed_delivery(
        "order.shipment.cancelled", extra, NEW_SECRET, timestamp=_unix(clock)))
    assert response.status_code == 200
    assert fulfillment(app, shipped.fid).status == "pending_shipment"
    assert "cannot move" in timeline(app, shipped.fid)[-1][3]


def test_is_an_unused_topic_acknowledged_without_a_change(app, shipped, clock):
    resource = shipped.sim.app.extensions["house"].find(shipped.reference)
    before = counts(app)
    headers, body = signed_delivery("return.created", resource, NEW_SECRET,
                                    timestamp=_unix(clock))
    response = _post(app, shipped.token, headers, body)
    assert response.status_code == 200 and "not used" in response.json["outcome"]
    assert counts(app) == before


def test_is_a_wrong_token_refused(app, shipped, clock):
    before = counts(app)
    assert _post(app, "nope", *_delivery(shipped, "order.shipped", clock)).status_code == 404
    assert counts(app) == before
    assert json.loads(_post(app, "nope", {}, b"{}").data)["ok"] is False
