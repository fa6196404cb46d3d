"""ShipBob's API version is a setting of the account: what each version's adapter asks, and
how shipments ShipBob raised or holds read as the house's problem."""
from __future__ import annotations

import pytest

from adapters.base import FailureReason
from adapters.shipbob import API_VERSION, CURRENT_VERSION, ShipBobHouse

CREDENTIALS = {"token": "t", "channel_id": "401"}


def test_is_the_current_version_the_default_and_1_0_kept_for_accounts_without_one():
    assert API_VERSION.default == CURRENT_VERSION == "2026-01"
    assert ShipBobHouse(CREDENTIALS).version == "1.0"
    assert ShipBobHouse({**CREDENTIALS, "api_version": "2026-01"}).version == "2026-01"
    assert API_VERSION.check("2.0") and API_VERSION.check("1.0") is None


@pytest.mark.parametrize("base_url, version, expected", [
    ("https://api.shipbob.com/1.0", "1.0", "https://api.shipbob.com/1.0"),
    ("https://api.shipbob.com/1.0", "2026-01", "https://api.shipbob.com/2026-01"),
    ("https://sandbox-api.shipbob.com/", "2026-01", "https://sandbox-api.shipbob.com/2026-01"),
    (None, "2026-01", "https://api.shipbob.com/2026-01"),
])
def test_is_the_version_added_to_a_base_url_saved_with_or_without_one(base_url, version,
                                                                      expected):
    adapter = ShipBobHouse({**CREDENTIALS, "api_version": version}, base_url)
    assert adapter.http.base_url == expected


def _shipment(status, *details, tracking=None):
    return {"id": 9, "order_id": 7, "reference_id": "F-1", "status": status,
            "status_details": [{"name": n, "description": d} for n, d in details],
            "tracking": tracking}


@pytest.mark.parametrize("shipment, reason, final, words", [
    (_shipment("Exception", ("ProductNotFound", "Product 'X-1' was created by this order")),
     FailureReason.SKU, True, "X-1"),
    (_shipment("Exception", ("OutOfStock", "Out of stock: 'W-1' has 0 on hand")),
     FailureReason.STOCK, False, "W-1"),
    (_shipment("OnHold", ("InvalidAddress", "Invalid address: zip code '00000'")),
     FailureReason.ADDRESS, True, "00000"),
    (_shipment("OnHold", ("MissingCustomsInfo", "Customs details are missing")),
     FailureReason.HELD, False, "Customs"),
    (_shipment("OnHold"), FailureReason.HELD, False, "no reason given"),
], ids=["unknown-product", "out-of-stock", "address", "other-hold", "no-details"])
def test_is_a_raised_or_held_shipment_the_houses_problem(shipment, reason, final, words):
    info = ShipBobHouse(CREDENTIALS).webhook_tracking(shipment)
    assert info.key == "F-1" and info.house_reference == "7" and not info.packages
    assert (info.problem.reason, info.problem.final) == (reason, final)
    assert words in info.problem.message


def test_is_a_delivery_exception_after_shipping_not_a_problem_with_the_order():
    shipped = _shipment("Exception", ("DeliveryException", "address not accessible"),
                        tracking={"tracking_number": "9400", "carrier": "USPS"})
    info = ShipBobHouse(CREDENTIALS).webhook_tracking(shipped)
    assert info.problem is None and [p.tracking_number for p in info.packages] == ["9400"]
