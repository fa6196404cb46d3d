"""/fulfillment/query/: Konnektive's shape, parameter rules, paging, scope, and the export of
held records (Hold → Pending with dateExported, returned again when asked again)."""
import re

import pytest
from pullkit import DATES
from sqlalchemy import event

NOT_FOUND = {"result": "ERROR", "message": "No orders matching those parameters could be found"}
DATETIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


@pytest.fixture
def house(pull_account, api_user):
    account = pull_account()
    api_user([account])
    return account


@pytest.mark.parametrize("params, errors", [
    ({}, {"startDate": "is a required field", "endDate": "is a required field"}),
    ({"startDate": "11/02/2026"}, {"endDate": "is a required field"}),
    ({"startDate": "2026-11-02", "endDate": "11/02/2026"},
     {"startDate": "must be a date in m/d/Y format"}),
    ({"startDate": "02/30/2026", "endDate": "13/01/2026"},
     {"startDate": "must be a date in m/d/Y format", "endDate": "must be a date in m/d/Y format"}),
    ({**DATES, "endDate": "11/01/2026"}, {"endDate": "must not be before startDate"}),
    ({"startDate": "01/01/0001", "endDate": "12/31/9999"},
     {"startDate": "must be a date in m/d/Y format", "endDate": "must be a date in m/d/Y format"}),
    ({**DATES, "resultsPerPage": "201"},
     {"resultsPerPage": "must be a whole number from 1 to 200"}),
    ({**DATES, "resultsPerPage": "0"}, {"resultsPerPage": "must be a whole number from 1 to 200"}),
    ({**DATES, "page": "0"}, {"page": "must be a whole number from 1"}),
    ({**DATES, "page": "two"}, {"page": "must be a whole number from 1"}),
    ({**DATES, "dateRangeType": "dateShipped"},
     {"dateRangeType": "must be dateCreated or dateUpdated"}),
    ({**DATES, "fulfillmentStatus": "LOST"},
     {"fulfillmentStatus": "must be one of HOLD, PENDING, PENDING_SHIPMENT, SHIPPED, DELIVERED, "
                           "FAILED, CANCELLED, RETURNED"}),
    ({"orderId": "12x"}, {"orderId": "must be a number"}),
])
def test_bad_parameters_name_each_field_and_change_nothing(house, held, call, snapshot, params,
                                                           errors):
    held(house, 2)
    before = snapshot()
    assert call("/fulfillment/query/", **params) == {"result": "ERROR", "message": errors}
    assert snapshot() == before


def test_a_record_has_konnektives_shape_and_held_records_are_exported(
        house, held, call, fulfillment, events, clock):
    [fid] = held(house)
    clock.advance(minutes=5)
    answer = call("/fulfillment/query/", method="GET", **DATES)
    assert answer["result"] == "SUCCESS"
    message = answer["message"]
    assert (message["totalResults"], message["resultsPerPage"], message["page"]) == ("1", "25", "1")
    [record] = message["data"]
    f = fulfillment(fid)
    assert record["fulfillmentId"] == str(fid) and record["orderId"] == str(f.order_id)
    assert record["fulfillmentHouseId"] == str(house) and record["company"] == "ShipWorks East"
    # the answer that hands it over reports it as it was handed over, with its export time
    assert record["status"] == "HOLD" and f.status == "pending"
    assert record["dateExported"] == "2026-11-02 09:05:00" == record["dateUpdated"]
    assert record["dateCreated"] == "2026-11-02 09:00:00"
    assert all(DATETIME.match(record[k]) for k in ("dateCreated", "dateUpdated", "dateExported"))
    assert record["dateShipped"] is None and record["trackingNumber"] is None
    assert record["isReshipment"] == "0"
    assert (record["shipFirstName"], record["shipLastName"], record["shipCity"],
            record["shipPostalCode"], record["shipCountry"]) == (
        "Grace", "Hopper", "Arlington", "22202", "US")
    [item] = record["items"]
    assert item["qty"] == "2" and item["status"] == "HOLD" and item["sku"].startswith("SKU-")
    assert all(isinstance(v, str) for v in (item["fulfillmentItemId"], item["productId"]))
    assert events(fid)[-1][:5] == ("hold", "pending", "api", "house-east", True)

    # asking again returns it again, now PENDING, without a second move
    clock.advance(minutes=5)
    [again] = call("/fulfillment/query/", **DATES)["message"]["data"]
    assert again["status"] == "PENDING" and again["dateExported"] == "2026-11-02 09:05:00"
    assert len(events(fid)) == 2


def test_filters_by_status_order_and_updated_date(house, held, call, set_status, fulfillment,
                                                  clock):
    ids = held(house, 3)
    set_status([ids[0]], "delivered")
    only = call("/fulfillment/query/", fulfillmentStatus="DELIVERED", **DATES)["message"]["data"]
    assert [r["fulfillmentId"] for r in only] == [str(ids[0])]
    by_order = call("/fulfillment/query/", orderId=str(fulfillment(ids[1]).order_id))
    assert [r["fulfillmentId"] for r in by_order["message"]["data"]] == [str(ids[1])]
    clock.advance(days=2)
    later = {"startDate": "11/04/2026", "endDate": "11/04/2026"}
    assert call("/fulfillment/query/", **later) == NOT_FOUND
    assert call("/fulfillment/query/", dateRangeType="dateUpdated", **later) == NOT_FOUND
    assert call("/fulfillment/update/", fulfillmentId=str(ids[2]),
                fulfillmentStatus="CANCELLED")["result"] == "SUCCESS"
    updated = call("/fulfillment/query/", dateRangeType="dateUpdated", **later)["message"]
    assert [(r["fulfillmentId"], r["status"]) for r in updated["data"]] == [
        (str(ids[2]), "CANCELLED")]


def test_pages_and_paging_past_the_end(house, held, call):
    ids = held(house, 5)
    first = call("/fulfillment/query/", resultsPerPage="2", **DATES)["message"]
    second = call("/fulfillment/query/", resultsPerPage="2", page="2", **DATES)["message"]
    third = call("/fulfillment/query/", resultsPerPage="2", page="3", **DATES)["message"]
    assert first["totalResults"] == second["totalResults"] == "5"
    got = [r["fulfillmentId"] for m in (first, second, third) for r in m["data"]]
    assert got == [str(i) for i in ids]
    assert call("/fulfillment/query/", resultsPerPage="2", page="4", **DATES) == NOT_FOUND


def test_only_the_users_accounts_are_visible(house, pull_account, held, call, fulfillment):
    other = pull_account(title="ShipWorks West")
    mine, theirs = held(house), held(other)
    data = call("/fulfillment/query/", **DATES)["message"]["data"]
    assert [r["fulfillmentId"] for r in data] == [str(mine[0])]
    assert call("/fulfillment/query/", orderId=str(fulfillment(theirs[0]).order_id)) == NOT_FOUND
    assert fulfillment(theirs[0]).status == "hold"  # never exported to the wrong house


def test_records_still_waiting_out_a_hold_delay_are_not_sent(house, held, call, fulfillment,
                                                             clock):
    [fid] = held(house, hold_delay_hours=2)
    assert call("/fulfillment/query/", **DATES) == NOT_FOUND
    assert fulfillment(fid).status == "hold"
    clock.advance(hours=2)
    [record] = call("/fulfillment/query/", **DATES)["message"]["data"]
    assert record["status"] == "HOLD" and fulfillment(fid).status == "pending"


def test_a_deactivated_account_keeps_its_held_records(pull_account, api_user, held, call,
                                                      fulfillment):
    account = pull_account(active=False)
    api_user([account])
    [fid] = held(account)
    assert call("/fulfillment/query/", **DATES) == NOT_FOUND
    assert fulfillment(fid).status == "hold"


def test_held_records_of_a_push_account_are_shown_but_not_moved(sandbox_account, api_user, held,
                                                                call, fulfillment):
    account = sandbox_account()
    api_user([account])
    [fid] = held(account)
    [record] = call("/fulfillment/query/", **DATES)["message"]["data"]
    assert record["status"] == "HOLD" and record["dateExported"] is None
    assert fulfillment(fid).status == "hold"  # dispatch sends it, not the API


def test_a_page_costs_the_same_queries_whatever_its_size(house, held, call, app):
    from dashboard.extensions import db
    held(house, 12)

    def statements(size):
        seen = []
        with app.app_context():
            engine = db.engine
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            call("/fulfillment/query/", resultsPerPage=str(size), **DATES)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    assert statements(2) == statements(10)  # both pages export their held records


def test_walking_every_page_of_hold_returns_each_held_record_once(house, call, app, clock,
                                                                  fulfillment):
    """Handing records over moves them out of HOLD; the walk still serves each of the 500
    once, reported as HOLD, and counts them all."""
    from testkit import bulk_hold
    ids = bulk_hold(app, house, "HELD-1", 500, clock())
    clock.advance(minutes=1)
    seen, page, totals = [], 1, set()
    while True:
        answer = call("/fulfillment/query/", fulfillmentStatus="HOLD", resultsPerPage="7",
                      page=str(page), **DATES)
        if answer["result"] == "ERROR":
            assert answer == NOT_FOUND
            break
        message = answer["message"]
        totals.add(message["totalResults"])
        seen.extend((r["fulfillmentId"], r["status"]) for r in message["data"])
        page += 1
    assert [fid for fid, _status in seen] == [str(i) for i in ids]
    assert {status for _fid, status in seen} == {"HOLD"}
    assert totals == {"500"} and page == 73
    assert fulfillment(ids[-1]).status == "pending"
    # a new walk begins after they were handed over: none is Hold any more
    assert call("/fulfillment/query/", fulfillmentStatus="HOLD", **DATES) == NOT_FOUND


def test_pages_asked_out_of_turn_are_still_right(house, held, call):
    ids = [str(i) for i in held(house, 9)]
    third = call("/fulfillment/query/", resultsPerPage="2", page="3", **DATES)["message"]
    assert [r["fulfillmentId"] for r in third["data"]] == ids[4:6]
    first = call("/fulfillment/query/", resultsPerPage="2", **DATES)["message"]
    assert [r["fulfillmentId"] for r in first["data"]] == ids[:2]
    fifth = call("/fulfillment/query/", resultsPerPage="2", page="5", **DATES)["message"]
    assert [r["fulfillmentId"] for r in fifth["data"]] == ids[8:]
    assert fifth["totalResults"] == "9"  # the page that ends the walk counts exactly
