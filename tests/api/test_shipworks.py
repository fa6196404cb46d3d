"""The ShipWorks Generic Module: every action, every answer valid against ShipWorks' own
schema (ShipWorks1_0_0.xsd) and HTTP 200, downloads by modified time without losing a
group of orders that share one second, and updates through the status rules."""
from datetime import datetime

import pytest
from lxml import etree
from pullkit import API_PASSWORD, XSD

SCHEMA = etree.XMLSchema(etree.parse(str(XSD)))
NEW_STORE = "0001-01-01T00:00:00"


@pytest.fixture
def house(pull_account, api_user):
    account = pull_account()
    api_user([account])
    return account


@pytest.fixture
def shipworks(app):
    """POST like ShipWorks does; assert status 200 and schema validity; return the root."""
    client = app.test_client()

    def post(action, remote_addr="127.0.0.1", **fields):
        fields = {"action": action, "username": "house-east", "password": API_PASSWORD,
                  **fields}
        response = client.post("/shipworks/", data=fields,
                               environ_base={"REMOTE_ADDR": remote_addr})
        assert response.status_code == 200
        assert response.content_type.startswith("text/xml")
        root = etree.fromstring(response.data)
        SCHEMA.assertValid(root)
        assert root.tag == "ShipWorks" and root.get("moduleVersion") >= "3.0.0"
        assert root.get("schemaVersion") == "1.0.0"
        return root
    return post


def error_of(root):
    error = root.find("Error")
    return None if error is None else (error.findtext("Code"), error.findtext("Description"))


def order_numbers(root):
    return [int(o.findtext("OrderNumber")) for o in root.iterfind("Orders/Order")]


def test_getmodule_declares_download_by_modified_time_and_updates(house, shipworks):
    module = shipworks("getmodule").find("Module")
    assert module.findtext("Capabilities/DownloadStrategy") == "ByModifiedTime"
    assert module.find("Capabilities/OnlineStatus").get("supported") == "true"
    assert module.find("Capabilities/OnlineShipmentUpdate").get("supported") == "true"


def test_getstore_and_getstatuscodes(house, shipworks):
    assert shipworks("getstore").findtext("Store/Name") == "ShipWorks East"
    codes = {c.findtext("Code"): c.findtext("Name")
             for c in shipworks("getstatuscodes").iterfind("StatusCodes/StatusCode")}
    # only what updatestatus accepts
    assert codes == {"PENDING_SHIPMENT": "Pending Shipment", "SHIPPED": "Shipped",
                     "DELIVERED": "Delivered", "RETURNED": "Returned", "CANCELLED": "Cancelled"}


@pytest.mark.parametrize("fields, code", [
    ({"password": "wrong"}, "AUTH"),
    ({"username": "nobody"}, "AUTH"),
    ({"remote_addr": "198.51.100.7"}, "IP_NOT_ALLOWED"),
])
def test_refused_logins_are_200_errors(house, held, shipworks, snapshot, fields, code):
    held(house)
    before = snapshot()
    root = shipworks("getorders", start=NEW_STORE, **fields)
    assert error_of(root)[0] == code and error_of(root)[1]
    assert snapshot() == before


def test_unknown_action_and_bad_parameters(house, shipworks):
    assert error_of(shipworks("deleteeverything"))[0] == "UNKNOWN_ACTION"
    assert error_of(shipworks("getorders", start="\x00"))[0] == "BAD_INPUT"
    assert error_of(shipworks("getorders", start="yesterday"))[0] == "BAD_START"
    assert error_of(shipworks("getorders", start=NEW_STORE, maxcount="-1"))[0] == "BAD_MAXCOUNT"


def test_permissions_per_action(pull_account, api_user, held, shipworks, snapshot):
    account = pull_account()
    api_user([account], permissions=("order_query",))
    [fid] = held(account)
    before = snapshot()
    assert shipworks("getmodule").find("Module") is not None  # any valid API user
    assert error_of(shipworks("getcount", start=NEW_STORE))[0] == "NOT_PERMITTED"
    assert error_of(shipworks("getorders", start=NEW_STORE))[0] == "NOT_PERMITTED"
    assert error_of(shipworks("updateshipment", order=str(fid), tracking="X1"))[0] == \
        "NOT_PERMITTED"
    assert snapshot() == before


def test_an_order_has_what_shipworks_needs_and_is_exported(house, held, shipworks, fulfillment,
                                                           clock):
    [fid] = held(house)
    # placed in the current second: not served until that second is over
    assert shipworks("getcount", start=NEW_STORE).findtext("OrderCount") == "0"
    clock.advance(minutes=1)
    assert shipworks("getcount", start=NEW_STORE).findtext("OrderCount") == "1"
    [order] = shipworks("getorders", start=NEW_STORE, maxcount="50").iterfind("Orders/Order")
    assert order.findtext("OrderNumber") == str(fid)
    assert order.findtext("OrderDate") == "2026-11-02T09:00:00"
    assert order.findtext("LastModified") == "2026-11-02T09:00:00"  # as it was when selected
    assert order.findtext("StatusCode") == "PENDING"
    assert order.findtext("ShippingAddress/FirstName") == "Grace"
    assert order.findtext("BillingAddress/PostalCode") == "22202"
    [item] = order.iterfind("Items/Item")
    assert (item.findtext("Quantity"), item.findtext("UnitPrice")) == ("2", "10.00")
    f = fulfillment(fid)
    assert f.status == "pending" and f.date_exported == datetime(2026, 11, 2, 9, 1)
    # ShipWorks has it as it now is: the handover is not served a second time
    assert f.updated_at == datetime(2026, 11, 2, 9, 0)
    clock.advance(minutes=1)
    assert shipworks("getorders", start="2026-11-02T09:00:00").find("Orders/Order") is None
    assert shipworks("getcount", start="2026-11-02T09:00:00").findtext("OrderCount") == "0"


def test_start_is_exclusive_on_whole_seconds(house, held, shipworks, set_status, clock):
    a, b = held(house, 2)
    clock.advance(hours=1)
    set_status([a], "pending", updated_at=datetime(2026, 11, 2, 9, 30, 0, 400000))
    set_status([b], "pending", updated_at=datetime(2026, 11, 2, 9, 30, 1))
    assert order_numbers(shipworks("getorders", start="2026-11-02T09:29:59")) == [a, b]
    assert order_numbers(shipworks("getorders", start="2026-11-02T09:30:00")) == [b]
    assert shipworks("getcount", start="2026-11-02T09:30:00").findtext("OrderCount") == "1"
    assert order_numbers(shipworks("getorders", start="2026-11-02T09:30:01")) == []


def test_a_download_loop_gets_every_order_and_never_splits_a_second(house, held, shipworks,
                                                                    set_status, clock):
    ids = held(house, 7)
    clock.advance(hours=1)
    seconds = [0, 1, 1, 1, 1, 2, 3]  # four orders share 09:40:01
    for fid, second in zip(ids, seconds, strict=True):
        set_status([fid], "pending", updated_at=datetime(2026, 11, 2, 9, 40, second, 1000 * fid))
    start, pages = NEW_STORE, []
    while True:  # what ShipWorks does: maxcount 2, start = latest LastModified seen
        root = shipworks("getorders", start=start, maxcount="2")
        orders = list(root.iterfind("Orders/Order"))
        if not orders:
            break
        pages.append([int(o.findtext("OrderNumber")) for o in orders])
        modified = [o.findtext("LastModified") for o in orders]
        assert modified == sorted(modified)
        start = max(modified)
    assert sorted(n for page in pages for n in page) == sorted(ids)
    # the page reaching into 09:40:01 takes that whole group, beyond maxcount
    assert pages == [ids[:5], ids[5:]]


def test_updateshipment_moves_to_pending_shipment(house, held, shipworks, fulfillment, app):
    [fid] = held(house)
    shipworks("getorders", start=NEW_STORE)
    root = shipworks("updateshipment", order=str(fid), tracking="1Z999AA10123456784",
                     carrier="UPS", shippingcost="7.45", shippingdate="2026-11-02T08:30:00")
    assert root.find("UpdateSuccess") is not None
    f = fulfillment(fid)
    assert f.status == "pending_shipment" and f.carrier == "ups"
    assert f.shipped_at == datetime(2026, 11, 2, 8, 30)


def test_update_errors_change_nothing(house, pull_account, held, shipworks, snapshot):
    [fid] = held(house)
    [theirs] = held(pull_account(title="West"))
    shipworks("getorders", start=NEW_STORE)
    shipworks("updateshipment", order=str(fid), tracking="1Z999AA10123456784", carrier="UPS")
    before = snapshot()
    assert error_of(shipworks("updateshipment", order=str(fid), tracking="9" * 65))[0] == \
        "BAD_TRACKING"
    assert error_of(shipworks("updateshipment", order=str(theirs), tracking="X1"))[0] == \
        "NOT_FOUND"
    assert error_of(shipworks("updatestatus", order=str(fid), status="CANCELLED"))[0] == \
        "REFUSED"
    assert error_of(shipworks("updatestatus", order=str(fid), status="HOLD"))[0] == "BAD_STATUS"
    assert error_of(shipworks("updatestatus", order="abc", status="DELIVERED"))[0] == \
        "BAD_ORDER"
    assert snapshot() == before


def test_updatestatus_follows_the_rules(house, held, shipworks, fulfillment, events):
    a, b = held(house, 2)
    shipworks("getorders", start=NEW_STORE)
    assert error_of(shipworks("updatestatus", order=str(a), status="SHIPPED"))[0] == "NO_TRACKING"
    assert shipworks("updatestatus", order=str(a), status="CANCELLED",
                     comments="Customer changed their mind").find("UpdateSuccess") is not None
    assert fulfillment(a).status == "cancelled"
    assert "Customer changed their mind" in events(a)[-1][5]
    shipworks("updateshipment", order=str(b), tracking="1Z999AA10123456784", carrier="UPS")
    assert shipworks("updatestatus", order=str(b), status="SHIPPED").find("UpdateSuccess") \
        is not None  # confirms the uploaded shipment; the carrier check moves it on
    assert shipworks("updatestatus", order=str(b), status="DELIVERED").find("UpdateSuccess") \
        is not None
    assert fulfillment(b).status == "delivered"


def test_whatever_shipworks_sends_the_answer_is_valid_xml_with_200(house, held, app):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    [fid] = held(house)
    client = app.test_client()
    field = st.one_of(st.text(max_size=30), st.sampled_from([
        str(fid), "\x01\x02", "\x00", "0001-01-01T00:00:00", "9999-12-31T23:59:59",
        "0001-01-01T00:00:00+05:00",
        "2026-11-02T09:00:00Z", "50", "0", "²", "DELIVERED", "SHIPPED", "7.45", "NaN"]))

    @given(action=st.one_of(st.sampled_from([
               "getmodule", "getstore", "getstatuscodes", "getcount", "getorders",
               "updatestatus", "updateshipment"]), st.text(max_size=10)),
           values=st.fixed_dictionaries({}, optional={
               k: field for k in ("start", "maxcount", "order", "status", "comments",
                                  "tracking", "carrier", "shippingcost", "shippingdate")}))
    @settings(max_examples=60, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def run(action, values):
        response = client.post("/shipworks/", data={
            "action": action, "username": "house-east", "password": API_PASSWORD, **values},
            environ_base={"REMOTE_ADDR": "127.0.0.1"})
        assert response.status_code == 200
        SCHEMA.assertValid(etree.fromstring(response.data))
    run()


def test_a_status_shipworks_sets_is_what_it_is_served_next(house, held, shipworks, fulfillment,
                                                            clock):
    [fid] = held(house)
    clock.advance(seconds=1)
    shipworks("getorders", start=NEW_STORE)
    shipworks("updateshipment", order=str(fid), tracking="1Z999AA10123456784", carrier="UPS")
    clock.advance(seconds=1)
    [uploaded] = shipworks("getorders", start="2026-11-02T09:00:00").iterfind("Orders/Order")
    assert uploaded.findtext("StatusCode") == "PENDING_SHIPMENT"
    assert shipworks("updatestatus", order=str(fid), status="SHIPPED").find("UpdateSuccess") \
        is not None
    assert fulfillment(fid).status == "shipped"
    clock.advance(seconds=1)
    [served] = shipworks("getorders", start=uploaded.findtext("LastModified")).iterfind(
        "Orders/Order")
    assert served.findtext("StatusCode") == "SHIPPED"  # not overwritten with ours
    # saying it again changes nothing and is not served again
    shipworks("updatestatus", order=str(fid), status="SHIPPED")
    clock.advance(seconds=1)
    assert shipworks("getorders", start=served.findtext("LastModified")).find(
        "Orders/Order") is None


@pytest.mark.parametrize("cost", ["8,5000", "8.5000", "8", "0,99"])
def test_a_cost_parses_with_either_decimal_separator(house, held, shipworks, fulfillment,
                                                     cost):
    [fid] = held(house)
    root = shipworks("updateshipment", order=str(fid), tracking="1Z999AA10123456784",
                     carrier="UPS", shippingcost=cost)
    assert root.find("UpdateSuccess") is not None
    assert fulfillment(fid).tracking_number == "1Z999AA10123456784"


@pytest.mark.parametrize("cost", ["8,50,00", "1.234,50", "eight", "8.", "-3", "NaN"])
def test_a_cost_that_is_no_amount_is_refused(house, held, shipworks, snapshot, cost):
    [fid] = held(house)
    before = snapshot()
    root = shipworks("updateshipment", order=str(fid), tracking="1Z999AA10123456784",
                     shippingcost=cost)
    assert error_of(root)[0] == "BAD_COST" and "7,45" in error_of(root)[1]
    assert snapshot() == before
