"""/order/query/: orders with the user's fulfillments only, Konnektive's shape, customer
filters, and the export of the held fulfillments it returns."""
import pytest
from pullkit import DATES

NOT_FOUND = {"result": "ERROR", "message": "No orders matching those parameters could be found"}


@pytest.fixture
def house(pull_account, api_user):
    account = pull_account(adapter_key="shipmonk_pull", title="ShipMonk import")
    api_user([account])
    return account


def test_an_order_shows_only_the_users_fulfillments_and_items(house, pull_account, product,
                                                              place, call, fulfillment, events):
    other = pull_account(title="Another house")
    mine, theirs = product("MINE-1", account_id=house), product("THEIRS-1", account_id=other)
    order_id, fids = place([(mine, 1), (theirs, 3)])
    answer = call("/order/query/", method="GET", **DATES)
    assert answer["result"] == "SUCCESS"
    [order] = answer["message"]["data"]
    assert order["orderId"] == str(order_id) and order["orderStatus"] == "COMPLETE"
    assert order["totalAmount"] == "40.00" and order["dateCreated"] == "2026-11-02 09:00:00"
    assert (order["emailAddress"], order["shipFirstName"], order["shipState"]) == (
        "grace@example.com", "Grace", "VA")
    assert [i["sku"] for i in order["items"].values()] == ["MINE-1"]
    [item_id] = order["items"]
    assert item_id.isdigit() and order["items"][item_id]["qty"] == "1"
    assert order["items"][item_id]["price"] == "10.00"
    [shown] = order["fulfillments"]
    mine_fid = next(f for f in fids if fulfillment(f).house_account_id == house)
    # handed over by this answer: reported as handed over, Pending from now on
    assert shown["fulfillmentId"] == str(mine_fid) and shown["status"] == "HOLD"
    assert fulfillment(mine_fid).status == "pending"
    assert shown["dateExported"] == "2026-11-02 09:00:00"
    assert [i["sku"] for i in shown["items"]] == ["MINE-1"]
    theirs_fid = next(f for f in fids if f != mine_fid)
    assert fulfillment(theirs_fid).status == "hold"
    assert events(mine_fid)[-1][1:3] == ("pending", "api")


@pytest.mark.parametrize("params", [
    {"emailAddress": "GRACE@example.com"}, {"lastName": "hopper"}, {"postalCode": "22202"},
    {"firstName": "Grace", "phoneNumber": ""},
])
def test_customer_filters_match(house, held, call, params):
    held(house)
    held(house, first_name="Alan", last_name="Turing", email="alan@example.com",
         postal_code="10001")
    data = call("/order/query/", **DATES, **params)["message"]["data"]
    assert [o["lastName"] for o in data] == ["Hopper"]


def test_order_status_and_other_houses_orders(house, pull_account, held, call, fulfillment):
    [fid] = held(house)
    other = held(pull_account(title="West"))
    assert call("/order/query/", orderStatus="CANCELLED", **DATES) == NOT_FOUND
    assert call("/order/query/", orderStatus="LOST", **DATES)["message"] == {
        "orderStatus": "must be one of COMPLETE, PARTIAL, DECLINED, REFUNDED, CANCELLED"}
    assert call("/order/query/", orderId=str(fulfillment(other[0]).order_id)) == NOT_FOUND
    by_id = call("/order/query/", orderId=str(fulfillment(fid).order_id), orderStatus="complete")
    assert [o["orderId"] for o in by_id["message"]["data"]] == [str(fulfillment(fid).order_id)]


def test_dates_are_required_and_pages_end(house, held, call, snapshot):
    held(house, 3)
    before = snapshot()
    assert call("/order/query/")["message"] == {"startDate": "is a required field",
                                                "endDate": "is a required field"}
    assert snapshot() == before
    page = call("/order/query/", resultsPerPage="2", page="2", **DATES)["message"]
    assert page["totalResults"] == "3" and len(page["data"]) == 1
    assert call("/order/query/", resultsPerPage="2", page="3", **DATES) == NOT_FOUND
