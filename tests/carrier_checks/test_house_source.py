"""Without a carrier account the house's own delivery information moves a record; carriers
are detected from house codes and numbers; packages that never arrive go stale."""
from datetime import datetime, timedelta

import pytest

from adapters.base import Package

UPS_NUMBER = "1Z999AA10123456784"


@pytest.fixture
def shipbob_house(app, product):
    """A ShipBob account (never called here: the carrier check reads only its name) with
    one product; returns the product id."""
    from dashboard import credentials
    from dashboard.extensions import db
    from dashboard.models import HouseAccount
    with app.app_context():
        account = HouseAccount(adapter_key="shipbob", title="ShipBob West",
                               credentials_encrypted=credentials.encrypt({"token": "x"}))
        db.session.add(account)
        db.session.commit()
        account_id = account.id
    return product("BOB-1", account_id=account_id)


@pytest.fixture
def shipped_by(app, place, clock):
    """A record of ``product_id`` the house shipped in ``packages``; returns its id."""
    from adapters.base import TrackingInfo
    from dashboard.extensions import db
    from dashboard.models import Fulfillment
    from dashboard.services.tracking import record_packages

    def make(product_id: int, *packages: Package) -> int:
        _, [fid] = place([(product_id, 1)])
        with app.app_context():
            reference = db.session.get(Fulfillment, fid).reference
            record_packages({fid: TrackingInfo(reference, "SB-1", packages)},
                            source="tracking", actor="ShipBob West", at=clock.at)
            db.session.commit()
        return fid
    return make


def test_house_delivery_moves_the_record_when_no_account_tracks_the_carrier(
        shipbob_house, shipped_by, check, seen, clock):
    """ShipBob said delivered (status 203) and no UPS account exists: Delivered, and the
    order says the house moved it."""
    delivered = clock.at - timedelta(hours=2)
    fid = shipped_by(shipbob_house, Package(UPS_NUMBER, carrier="UPS", delivered_at=delivered))

    summary = check()

    after = seen(fid)
    assert after.status == "delivered" and summary.moved == 1 and summary.checked == 0
    [shipment] = after.shipments
    assert shipment["status_source"] == "house" and shipment["done"]
    assert after.events[-1][1:4] == ("delivered", "tracking",
                                     "According to the house (ShipBob): delivered")


def test_without_account_or_house_information_nothing_moves(
        shipbob_house, shipped_by, check, seen, clock):
    """No UPS account and no delivery date from the house: unchanged, and the package says
    what it is waiting for."""
    fid = shipped_by(shipbob_house, Package(UPS_NUMBER, carrier="UPS"))

    check()

    after = seen(fid)
    assert after.status == "pending_shipment"
    assert after.shipments[0]["carrier_detail"] == (
        "No UPS account can track this package; waiting for the house's delivery "
        "information.")
    assert after.shipments[0]["next_check_at"] == clock.at + timedelta(minutes=15)


def test_a_deactivated_account_leaves_the_house_information_in_charge(
        simulator, carrier_account, shipbob_house, shipped_by, check, seen, clock):
    """A deactivated UPS account is not asked; the house's delivery date moves the record."""
    ups = simulator("ups")
    carrier_account("ups", ups, active=False)
    ups.register(UPS_NUMBER, "in_transit")
    fid = shipped_by(shipbob_house, Package(UPS_NUMBER, carrier="UPS",
                                            delivered_at=clock.at))

    check()

    assert ups.requests == 0 and seen(fid).status == "delivered"


def test_the_carrier_account_wins_over_the_house(
        simulator, carrier_account, shipbob_house, shipped_by, check, seen, clock):
    """With a UPS account, UPS's word counts even when the house reported a delivery."""
    ups = simulator("ups")
    carrier_account("ups", ups)
    ups.register(UPS_NUMBER, "in_transit")
    fid = shipped_by(shipbob_house, Package(UPS_NUMBER, carrier="UPS",
                                            delivered_at=clock.at))

    check()

    after = seen(fid)
    assert after.status == "shipped" and after.shipments[0]["status_source"] == "carrier:ups"


@pytest.mark.parametrize(("hint", "number", "carrier"), [
    ("stamps_com", "9400109104250532908587", "usps"),        # ShipStation's code
    ("FedEx", "399368623212", "fedex"),                     # ShipBob's name
    ("", "1ZXF38300382722839", "ups"),                        # no carrier given
    ("DHLGM", "9205590164917312751089", "usps"),              # DHL eCommerce ends at USPS
    ("OnTrac", "C10000000000000", "OnTrac"),                  # nobody we track: kept
    ("", "1Z999AA10123456785", ""),                           # bad check digit: unknown
])
def test_packages_are_filed_under_the_detected_carrier(
        shipbob_house, shipped_by, seen, hint, number, carrier):
    """Is each package stored under our carrier key when the house gave a code of its own,
    or none?"""
    fid = shipped_by(shipbob_house, Package(number, carrier=hint))

    assert seen(fid).shipments[0]["carrier"] == carrier


def test_a_detected_carrier_is_tracked_at_that_carrier(
        simulator, carrier_account, shipbob_house, shipped_by, check, seen):
    """A ShipStation ``stamps_com`` package is asked about at USPS."""
    usps = simulator("usps")
    carrier_account("usps", usps)
    usps.register("9400109104250532908587", "delivered")
    fid = shipped_by(shipbob_house, Package("9400109104250532908587", carrier="stamps_com"))

    check()

    assert seen(fid).status == "delivered"
    assert usps.tracking_calls == [("9400109104250532908587",)]


def test_a_package_that_never_arrives_goes_stale(
        app, simulator, carrier_account, shipbob_house, shipped_by, check, seen, clock):
    """After TRACKING_STALE_DAYS in transit: flagged for support, said on the timeline, and
    never asked about again."""
    app.config["TRACKING_STALE_DAYS"] = 2
    ups = simulator("ups")
    carrier_account("ups", ups)
    ups.register(UPS_NUMBER, "in_transit")
    fid = shipped_by(shipbob_house, Package(UPS_NUMBER, carrier="UPS",
                                            shipped_at=datetime(2026, 11, 2, 9, 0)))
    check()
    assert not seen(fid).tracking_stale

    clock.advance(days=2, minutes=1)
    check()

    after = seen(fid)
    assert after.status == "shipped" and after.tracking_stale and after.shipments[0]["done"]
    assert after.events[-1][3].startswith("Tracking stale: not delivered 2 days after shipping")
    asked = ups.requests
    clock.advance(days=1)
    assert check().checked == 0 and ups.requests == asked
