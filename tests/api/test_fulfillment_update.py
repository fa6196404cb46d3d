"""/fulfillment/update/: each status a house reports, its required parameters, the status
rules' refusals (ERROR, nothing changed), and the scope of the API user."""
import pytest
from pullkit import DATES

UPS = "1Z999AA10123456784"  # a valid UPS number (check digit), so the carrier is detected


@pytest.fixture
def house(pull_account, api_user):
    account = pull_account()
    api_user([account])
    return account


@pytest.fixture
def exported(house, held, call):
    """Two records the house has received (Pending)."""
    ids = held(house, 2)
    call("/fulfillment/query/", **DATES)
    return ids


def update(call, fid, status, **params):
    return call("/fulfillment/update/", fulfillmentId=str(fid), fulfillmentStatus=status,
                **params)


@pytest.mark.parametrize("params, errors", [
    ({"fulfillmentStatus": "SHIPPED"},
     {"fulfillmentId": "is a required field", "trackingNumber": "is a required field",
      "dateShipped": "is a required field"}),
    ({"fulfillmentId": "1"}, {"fulfillmentStatus": "is a required field"}),
    ({"fulfillmentId": "1", "fulfillmentStatus": "LOST"},
     {"fulfillmentStatus": "must be one of SHIPPED, DELIVERED, RETURNED, CANCELLED, RMA_PENDING"}),
    ({"fulfillmentId": "1", "fulfillmentStatus": "SHIPPED", "dateShipped": "11/02/2026",
      "trackingNumber": "9" * 33}, {"trackingNumber": "must be at most 32 characters"}),
    ({"fulfillmentId": "1", "fulfillmentStatus": "SHIPPED", "trackingNumber": UPS,
      "dateShipped": "2026-11-02"}, {"dateShipped": "must be a date in m/d/Y format"}),
    ({"fulfillmentId": "1", "fulfillmentStatus": "SHIPPED", "trackingNumber": UPS,
      "dateShipped": "12/25/2026"}, {"dateShipped": "must not be in the future"}),
    ({"fulfillmentId": "1", "fulfillmentStatus": "SHIPPED", "trackingNumber": UPS,
      "dateShipped": "11/02/2026", "shipCarrier": "C" * 33},
     {"shipCarrier": "must be at most 32 characters"}),
    ({"fulfillmentId": "1", "fulfillmentStatus": "RETURNED"},
     {"dateReturned": "is a required field"}),
    ({"fulfillmentId": "1", "fulfillmentStatus": "RMA_PENDING"},
     {"rmaNumber": "is a required field", "refundAmount": "is a required field"}),
    ({"fulfillmentId": "1", "fulfillmentStatus": "RMA_PENDING", "rmaNumber": "R1",
      "refundAmount": "-3"}, {"refundAmount": "must be an amount such as 19.99"}),
    ({"fulfillmentId": "one", "fulfillmentStatus": "CANCELLED"},
     {"fulfillmentId": "must be a number"}),
])
def test_bad_parameters_name_each_field_and_change_nothing(exported, call, snapshot, params,
                                                           errors):
    before = snapshot()
    assert call("/fulfillment/update/", **params) == {"result": "ERROR", "message": errors}
    assert snapshot() == before


def test_shipped_moves_to_pending_shipment_for_the_carrier_check(exported, call, fulfillment,
                                                                 app, events):
    from dashboard.extensions import db
    from dashboard.models import Shipment
    fid = exported[0]
    answer = update(call, fid, "SHIPPED", trackingNumber=UPS, dateShipped="11/01/2026",
                    shipMethod="Ground")
    assert answer == {"result": "SUCCESS", "message": "Fulfillment updated"}
    f = fulfillment(fid)
    assert f.status == "pending_shipment" and f.tracking_number == UPS and f.carrier == "ups"
    assert f.shipped_at.isoformat() == "2026-11-01T00:00:00" and f.ship_method == "Ground"
    with app.app_context():
        [shipment] = db.session.query(Shipment).filter_by(fulfillment_id=fid).all()
        assert shipment.tracking_number == UPS and not shipment.done
        assert shipment.next_check_at is not None  # the carrier check takes it from here
    assert events(fid)[-1][1:4] == ("pending_shipment", "api", "house-east")
    [record] = call("/fulfillment/query/", orderId=str(f.order_id))["message"]["data"]
    assert record["status"] == "PENDING_SHIPMENT" and record["trackingNumber"] == UPS
    assert record["dateShipped"] == "2026-11-01 00:00:00" and record["shipCarrier"] == "ups"


def test_the_house_carrier_name_is_used_when_the_number_says_nothing(exported, call,
                                                                     fulfillment):
    update(call, exported[0], "SHIPPED", trackingNumber="LOCAL123", dateShipped="11/02/2026",
           shipCarrier="OnTrac")
    assert fulfillment(exported[0]).carrier == "OnTrac"


def test_a_move_the_rules_refuse_is_an_error_and_changes_nothing(exported, call, snapshot,
                                                                 fulfillment):
    fid = exported[0]
    update(call, fid, "SHIPPED", trackingNumber=UPS, dateShipped="11/02/2026")
    before = snapshot()
    answer = update(call, fid, "CANCELLED")
    assert answer == {"result": "ERROR", "message": (
        f"Fulfillment {fid} is Pending Shipment and cannot be marked cancelled (it cannot move "
        "to Cancelled).")}
    assert snapshot() == before
    assert fulfillment(fid).status == "pending_shipment"


def test_delivered_returned_and_rma(exported, call, fulfillment, events, snapshot):
    fid = exported[0]
    # nothing shipped yet: no RMA, no delivery
    before = snapshot()
    assert update(call, fid, "RMA_PENDING", rmaNumber="RMA-1", refundAmount="5")["result"] == \
        "ERROR"
    assert update(call, fid, "DELIVERED")["result"] == "ERROR"
    assert snapshot() == before
    update(call, fid, "SHIPPED", trackingNumber=UPS, dateShipped="11/02/2026")
    assert update(call, fid, "DELIVERED")["result"] == "SUCCESS"
    assert fulfillment(fid).status == "delivered" and fulfillment(fid).delivered_at
    answer = update(call, fid, "RMA_PENDING", rmaNumber="RMA-77", refundAmount="19.99")
    assert answer["result"] == "SUCCESS"
    f = fulfillment(fid)
    assert f.rma_number == "RMA-77" and f.status == "delivered"  # no RMA status in the rules
    assert events(fid)[-1][:3] == ("delivered", "delivered", "api")
    assert "RMA RMA-77 pending, refund 19.99" in events(fid)[-1][5]
    assert update(call, fid, "RETURNED", dateReturned="11/02/2026")["result"] == "SUCCESS"
    f = fulfillment(fid)
    assert f.status == "returned" and f.returned_at.isoformat() == "2026-11-02T00:00:00"


def test_cancelled_from_pending(exported, call, fulfillment):
    assert update(call, exported[1], "CANCELLED")["result"] == "SUCCESS"
    assert fulfillment(exported[1]).status == "cancelled"
    # a repeat is a late report: success, recorded, unchanged
    assert update(call, exported[1], "CANCELLED")["result"] == "SUCCESS"


def test_another_houses_fulfillment_is_not_found(house, pull_account, held, call, snapshot):
    [theirs] = held(pull_account(title="West"))
    before = snapshot()
    assert update(call, theirs, "CANCELLED") == {
        "result": "ERROR", "message": "No fulfillments matching those parameters could be found"}
    assert snapshot() == before


def test_by_order_id_updates_every_open_fulfillment_the_user_serves(house, pull_account, product,
                                                                    place, api_user, call,
                                                                    fulfillment):
    west = pull_account(title="West")
    with_west = api_user([house, west], login_id="both-houses")
    a, b = product("A-1", account_id=house), product("B-1", account_id=west)
    order_id, fids = place([(a, 1), (b, 1)])
    answer = call("/fulfillment/update/", loginId=with_west, orderId=str(order_id),
                  fulfillmentStatus="CANCELLED")
    assert answer == {"result": "SUCCESS", "message": "2 fulfillments updated"}
    assert {fulfillment(f).status for f in fids} == {"cancelled"}
