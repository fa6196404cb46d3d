"""Bad orders at ShipStation: accepted, then held or refused by the warehouse behind it,
and seen here as Failed with a typed reason or as held at the house, by one tracking run
or by the FULFILLMENT_REJECTED webhook; resend, cancel and release from there."""
from __future__ import annotations

import pytest
from houses_kit import fulfillment, timeline


def _track(app, clock):
    from dashboard.services.tracking import check_houses
    clock.advance(minutes=20)
    with app.app_context():
        return check_houses()


@pytest.fixture
def bad(app, product, place, house_account, simulator):
    """An order ShipStation accepted whose warehouse has not looked at it yet: ``sku``,
    ``stock`` (sold out) or ``address`` (a ZIP that does not exist)."""
    from dashboard.services.dispatch import dispatch

    def make(kind: str):
        sim = simulator("shipstation")
        sim.app.extensions["house"].review_after = 3600  # the test says when it looks
        account_id, token = house_account("shipstation", sim.api_url)
        sku = {"sku": "NO-SUCH-SKU", "stock": "SOLDOUT-1"}.get(kind, "WIDGET-1")
        _, [fid] = place([(product(sku, account_id=account_id), 1)],
                         **({"postal_code": "00000"} if kind == "address" else {}))
        with app.app_context():
            assert dispatch(fulfillment_ids=[fid]).sent == 1
        assert fulfillment(app, fid).status == "pending"  # accepted, not refused
        return sim, token, fid

    return make


@pytest.mark.parametrize("kind, status, reason, words", [
    ("sku", "failed", "sku", "NO-SUCH-SKU"),
    ("stock", "pending", "stock", "Insufficient stock for SKU 'SOLDOUT-1'"),
    ("address", "failed", "address", "postal code '00000'"),
])
def test_does_one_tracking_run_show_what_the_warehouse_did(app, clock, bad, kind, status,
                                                          reason, words):
    sim, _token, fid = bad(kind)
    sim.control("review")
    _track(app, clock)
    record = fulfillment(app, fid)
    assert (record.status, record.failure_reason) == (status, reason)
    assert words in record.failure_message
    source, to_status, applied, detail = timeline(app, fid)[-1]
    assert (source, to_status, applied) == ("tracking", status, True)
    assert words in detail and ("Held at the house" in detail) is (status == "pending")


def test_is_a_hold_written_once_however_often_it_is_seen(app, clock, bad):
    sim, _token, fid = bad("stock")
    sim.control("review")
    _track(app, clock)
    lines = len(timeline(app, fid))
    _track(app, clock)
    assert len(timeline(app, fid)) == lines
    assert fulfillment(app, fid).failure_reason == "stock"


@pytest.mark.parametrize("kind, reason", [("sku", "sku"), ("address", "address")])
def test_does_fulfillment_rejected_fail_the_order_by_webhook(app, bad, kind, reason):
    sim, token, fid = bad(kind)
    [hook] = sim.control("review")["webhooks"]
    assert hook["resource_type"] == "FULFILLMENT_REJECTED"
    response = app.test_client().post(f"/webhooks/shipstation/{token}", json=hook)
    assert response.status_code == 200, response.json
    record = fulfillment(app, fid)
    assert (record.status, record.failure_reason) == ("failed", reason)
    assert "failed at the house" in response.json["outcome"]
    assert timeline(app, fid)[-1][:3] == ("webhook", "failed", True)


def test_does_a_released_hold_ship_normally(app, clock, bad):
    sim, _token, fid = bad("stock")
    sim.control("review")
    _track(app, clock)
    reference = fulfillment(app, fid).reference
    sim.control("status", {"key": reference, "status": "awaiting_shipment"})  # restocked
    _track(app, clock)
    record = fulfillment(app, fid)
    assert (record.status, record.failure_reason, record.failure_message) == ("pending", None, "")
    assert "Released by the house" in timeline(app, fid)[-1][3]
    sim.control("ship", {"key": reference, "packages": [{"tracking_number": "1Z999AA10000000090"}]})
    _track(app, clock)
    record = fulfillment(app, fid)
    assert record.status == "pending_shipment" and record.tracking_number == "1Z999AA10000000090"


def test_does_a_held_order_that_ships_leave_its_hold_behind(app, clock, bad):
    sim, _token, fid = bad("stock")
    sim.control("review")
    _track(app, clock)
    sim.control("ship", {"key": fulfillment(app, fid).reference,
                         "packages": [{"tracking_number": "1Z999AA10000000091"}]})
    _track(app, clock)
    record = fulfillment(app, fid)
    assert (record.status, record.failure_reason) == ("pending_shipment", None)


def test_does_resend_from_held_send_the_order_again_under_its_key(app, clock, bad, support):
    from dashboard.services.dispatch import dispatch
    sim, _token, fid = bad("stock")
    sim.control("review")
    _track(app, clock)
    sim.control("stock", {"SOLDOUT-1": 5})
    response = support.post(f"/review/{fid}/resend", {}, form_page=f"/review/{fid}")
    assert response.status_code == 302
    assert fulfillment(app, fid).status == "hold"
    with app.app_context():
        assert dispatch(fulfillment_ids=[fid]).sent == 1
    record = fulfillment(app, fid)
    assert (record.status, record.failure_reason) == ("pending", None)
    house = sim.app.extensions["house"]
    assert house.find_by_key(record.reference)["orderStatus"] == "awaiting_shipment"
    assert house.creations[record.reference] == 1
    moves = [(to, source) for source, to, _applied, _detail in timeline(app, fid)]
    assert moves[-3:] == [("failed", "staff"), ("hold", "staff"), ("pending", "dispatch")]


def test_does_cancel_from_held_cancel_at_the_house(app, clock, bad, support):
    sim, _token, fid = bad("stock")
    sim.control("review")
    _track(app, clock)
    response = support.post(f"/review/{fid}/cancel", {})
    assert response.status_code == 302
    record = fulfillment(app, fid)
    assert record.status == "cancelled"
    assert sim.app.extensions["house"].find_by_key(record.reference)["orderStatus"] == "cancelled"


def test_is_a_held_order_the_house_will_not_cancel_left_as_it_is(app, clock, bad, support):
    sim, _token, fid = bad("stock")
    sim.control("review")
    _track(app, clock)
    reference = fulfillment(app, fid).reference
    sim.control("status", {"key": reference, "status": "pending_fulfillment",
                           "note": "Sent to the 3PL."})
    before = timeline(app, fid)
    sim.app.extensions["house"].find_by_key(reference)  # still there
    # the board still shows the hold we last saw; the house refuses the cancel now
    response = support.post(f"/review/{fid}/cancel", {}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "was not cancelled" in page and "pending_fulfillment" in page
    assert fulfillment(app, fid).status == "pending"
    assert timeline(app, fid) == before
    assert sim.app.extensions["house"].find_by_key(reference)["orderStatus"] == \
        "pending_fulfillment"


def test_is_a_failed_order_cancelled_here_even_when_the_house_keeps_it_closed(app, clock, bad,
                                                                            support):
    sim, _token, fid = bad("sku")
    sim.control("review")
    _track(app, clock)
    assert support.post(f"/review/{fid}/cancel", {}).status_code == 302
    assert fulfillment(app, fid).status == "cancelled"
    details = [detail for *_rest, detail in timeline(app, fid)]
    assert any("The house did not cancel it" in d and "rejected_fulfillment" in d
               for d in details)
