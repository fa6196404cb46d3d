"""Pull houses are served in their own terms, exactly as push houses are sent them: an
account's SKU mappings change the SKU, its ship profiles the ship method and carrier."""
import pytest
from lxml import etree
from pullkit import API_PASSWORD, DATES


@pytest.fixture
def mapped(app, pull_account, api_user, product, place, clock):
    """A ShipWorks account mapping WIDGET-1 to its own code, with a default profile and a
    product-specific one; one order of each product."""
    from dashboard.extensions import db
    from dashboard.models import Product, ShipProfile, SkuMapping
    account = pull_account()
    api_user([account])
    widget = product("WIDGET-1", account_id=account)
    gadget = product("GADGET-1", account_id=account)
    with app.app_context():
        db.session.add(SkuMapping(house_account_id=account, product_sku="WIDGET-1",
                                  house_sku="SW-WIDGET"))
        db.session.add(ShipProfile(house_account_id=account, name="Standard",
                                   house_code="SW_GROUND", carrier="USPS", method="Ground",
                                   is_default=True))
        express = ShipProfile(house_account_id=account, name="Express", house_code="SW_2DAY",
                              carrier="UPS", method="2nd Day Air")
        db.session.add(express)
        db.session.flush()
        db.session.get(Product, gadget).ship_profile_id = express.id
        db.session.commit()
    fids = [place([(widget, 1)])[1][0], place([(gadget, 1)])[1][0]]
    clock.advance(seconds=1)
    return fids


def test_getorders_serves_the_house_sku_and_ship_code(app, mapped):
    widget_fid, gadget_fid = mapped
    response = app.test_client().post("/shipworks/", data={
        "action": "getorders", "username": "house-east", "password": API_PASSWORD,
        "start": "0001-01-01T00:00:00"}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    orders = {int(o.findtext("OrderNumber")): o
              for o in etree.fromstring(response.data).iterfind("Orders/Order")}
    assert orders[widget_fid].findtext("Items/Item/SKU") == "SW-WIDGET"
    assert orders[widget_fid].findtext("Items/Item/Code") == "SW-WIDGET"
    assert orders[widget_fid].findtext("ShippingMethod") == "SW_GROUND"
    assert orders[gadget_fid].findtext("Items/Item/SKU") == "GADGET-1"  # not mapped
    assert orders[gadget_fid].findtext("ShippingMethod") == "SW_2DAY"


def test_the_queries_serve_the_house_sku_and_ship_code(mapped, call):
    widget_fid, gadget_fid = mapped
    records = {int(r["fulfillmentId"]): r
               for r in call("/fulfillment/query/", **DATES)["message"]["data"]}
    assert [i["sku"] for i in records[widget_fid]["items"]] == ["SW-WIDGET"]
    assert (records[widget_fid]["shipMethod"], records[widget_fid]["shipCarrier"]) == (
        "SW_GROUND", "USPS")
    assert (records[gadget_fid]["shipMethod"], records[gadget_fid]["shipCarrier"]) == (
        "SW_2DAY", "UPS")
    orders = call("/order/query/", **DATES)["message"]["data"]
    assert [i["sku"] for o in orders for i in o["items"].values()] == ["SW-WIDGET", "GADGET-1"]
    assert [f["items"][0]["sku"] for o in orders for f in o["fulfillments"]] == [
        "SW-WIDGET", "GADGET-1"]
    assert orders[1]["shipMethod"] == "SW_2DAY"


def test_the_same_terms_as_dispatch_sends_a_push_house(app, mapped):
    """One code for both: the push payload of the same records has the same terms."""
    from dashboard.services.dispatch import _payloads
    widget_fid, gadget_fid = mapped
    with app.app_context():
        payloads = _payloads([widget_fid, gadget_fid])
    assert payloads[widget_fid][1].lines[0].sku == "SW-WIDGET"
    assert (payloads[widget_fid][1].ship_method, payloads[widget_fid][1].carrier) == (
        "SW_GROUND", "USPS")
    assert payloads[gadget_fid][1].ship_method == "SW_2DAY"
