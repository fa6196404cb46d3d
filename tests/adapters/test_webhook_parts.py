"""The adapter pieces the webhook routes use: origin checks, ShipBob's signature check and
secrets field, ShipMonk's webhook credentials, ShipStation's resource reading."""
from __future__ import annotations

from datetime import datetime

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from adapters.http import ForeignURL, same_origin
from adapters.shipbob import ShipBobHouse
from adapters.shipmonk import ShipMonkHouse
from adapters.shipstation import ShipStationHouse
from simulators.shipbob import signed_delivery

SECRET = "whsec_c2hpcGJvYi1uZXctc2VjcmV0LWtleQ=="
NOW = datetime(2026, 11, 2, 9, 0, 0)
NOW_UNIX = 1793610000


@pytest.mark.parametrize("url, same", [
    ("https://ssapi.shipstation.com/shipments?batchId=1", True),
    ("https://SSAPI.shipstation.com:443/shipments", True),
    ("http://ssapi.shipstation.com/shipments", False),
    ("https://ssapi.shipstation.com:8443/shipments", False),
    ("https://ssapi.shipstation.com.evil.example/shipments", False),
    ("https://user:pw@ssapi.shipstation.com/shipments", False),
    ("https://ssapi.shipstation.com:bad/shipments", False),
    ("//ssapi.shipstation.com/shipments", False),
])
def test_is_only_the_accounts_own_origin_the_same(url, same):
    assert same_origin(url, "https://ssapi.shipstation.com") is same


def test_does_shipstation_refuse_a_foreign_resource_before_any_request(closed_port_url):
    adapter = ShipStationHouse({"api_key": "k", "api_secret": "s", "store_id": "1"},
                               "https://ssapi.shipstation.com")
    with pytest.raises(ForeignURL):
        adapter.notified_in(closed_port_url + "/shipments?batchId=1")


def _shipbob(secrets: str = SECRET) -> ShipBobHouse:
    return ShipBobHouse({"token": "t", "channel_id": "1", "webhook_secrets": secrets},
                        "https://api.shipbob.com/1.0", clock=lambda: NOW)


def test_does_any_of_several_signatures_pass():
    headers, body = signed_delivery("order.shipped", {"id": 1}, SECRET, timestamp=NOW_UNIX)
    headers["webhook-signature"] = "v1,bm90IHRoZSBzaWduYXR1cmU= " + headers["webhook-signature"]
    assert _shipbob().verify_webhook(headers, body) is None
    assert _shipbob("whsec_b3RoZXI=").verify_webhook(headers, body) == \
        "The webhook signature does not match."


@pytest.mark.parametrize("stamp, problem", [("soon", "not a Unix time"),
                                            (str(NOW_UNIX - 400), "five minutes")])
def test_is_an_unreadable_or_old_timestamp_refused(stamp, problem):
    headers, body = signed_delivery("order.shipped", {"id": 1}, SECRET, timestamp=NOW_UNIX)
    assert problem in _shipbob().verify_webhook({**headers, "webhook-timestamp": stamp}, body)


OTHER = "whsec_b3RoZXItc2lnbmluZy1rZXk="


def test_does_a_delivery_signed_with_either_secret_pass_while_one_is_rotated():
    headers, body = signed_delivery("order.shipped", {"id": 1}, OTHER, timestamp=NOW_UNIX)
    assert _shipbob(f"{SECRET} {OTHER}").verify_webhook(headers, body) is None
    assert _shipbob(SECRET).verify_webhook(headers, body) == \
        "The webhook signature does not match."


@pytest.mark.parametrize("skew, ok", [(-300, True), (300, True), (-301, False), (301, False)])
def test_is_the_timestamp_window_five_minutes_either_way_on_our_clock(skew, ok):
    headers, body = signed_delivery("order.shipped", {"id": 1}, SECRET,
                                    timestamp=NOW_UNIX + skew)
    assert (_shipbob().verify_webhook(headers, body) is None) is ok


def test_is_a_body_that_is_not_utf8_refused():
    headers, body = signed_delivery("order.shipped", {"id": 1}, SECRET, timestamp=NOW_UNIX)
    assert _shipbob().verify_webhook(headers, body + b"\xff") == \
        "The webhook body is not UTF-8 text."


def test_does_the_simulators_delivery_pass_the_librarys_own_check():
    """The simulator signs as the Standard Webhooks reference library verifies (on the real
    clock, which ``signed_delivery`` stamps by default)."""
    headers, body = signed_delivery("order.shipped", {"id": 1}, SECRET)
    Webhook(SECRET).verify(body, headers, json_parse=False)
    with pytest.raises(WebhookVerificationError):
        Webhook(OTHER).verify(body, headers, json_parse=False)


@pytest.mark.parametrize("value, ok", [
    (SECRET, True),
    (f"{SECRET}\nwhsec_b3RoZXI=", True),
    ("c2hpcGJvYg==", False),
    ("whsec_not base64!", False),
    ("whsec_", False),
])
def test_does_the_secrets_field_take_only_whsec_secrets(value, ok):
    spec = next(f for f in ShipBobHouse.fields if f.name == "webhook_secrets")
    assert (spec.check(value) is None) is ok
    assert spec.secret and not spec.required


def test_does_shipmonk_accept_only_its_configured_basic_auth():
    adapter = ShipMonkHouse({"api_key": "k", "store_id": "1", "webhook_username": "hooks",
                             "webhook_password": "a-long-password-123"})
    assert adapter.webhook_auth_ok("hooks", "a-long-password-123")
    assert not adapter.webhook_auth_ok("hooks", "a-long-password-12")
    assert not adapter.webhook_auth_ok("other", "a-long-password-123")
    unset = ShipMonkHouse({"api_key": "k", "store_id": "1"})
    assert not unset.webhook_auth_ok("", "")
    spec = next(f for f in ShipMonkHouse.fields if f.name == "webhook_password")
    assert spec.check("short") and spec.check("x" * 16) is None and spec.check("") is None


@pytest.mark.parametrize("shipped_at", [
    "2025-03-05T10:00:00+00:00",
    {"date": "2025-03-05 10:00:00.000000", "timezone": "UTC", "timezone_type": 3},
], ids=["string", "php-object"])
def test_does_shipmonk_read_a_notifications_service_and_either_shipped_at(shipped_at):
    body = {"order_key": "F-1", "carrier": "UPS", "service": "Ground", "shipped_at": shipped_at,
            "packages": [{"tracking_number": "1Z1"}, {"tracking_number": None}]}
    info = ShipMonkHouse.notification_tracking(body)
    assert info.key == "F-1" and [p.tracking_number for p in info.packages] == ["1Z1"]
    assert info.packages[0].ship_method == "Ground"
    assert info.packages[0].shipped_at == datetime(2025, 3, 5, 10, 0)


def test_is_a_shipmonk_date_object_in_another_zone_not_guessed():
    body = {"order_key": "F-1", "carrier": "UPS", "service": "Ground",
            "shipped_at": {"date": "2025-03-05 10:00:00.000000", "timezone": "America/New_York",
                           "timezone_type": 3},
            "packages": [{"tracking_number": "1Z1"}]}
    assert ShipMonkHouse.notification_tracking(body).packages[0].shipped_at is None


@pytest.mark.parametrize("change, reason, final, words", [
    ({"actions_required": {"item_mapping": True}, "processing_status": "unable_to_submit"},
     "sku", True, "item mapping"),
    ({"actions_required": {"address": True}, "processing_status": "unable_to_submit"},
     "address", True, "60607"),
    ({"processing_status": "backorder",
      "items": [{"sku": "W-1", "products": [{"sku": "W-1", "backordered_quantity": 2}]}]},
     "stock", False, "W-1 (2 back-ordered)"),
    ({"processing_status": "on_hold", "order_status": "onHold"}, "held", False, "on_hold"),
], ids=["item-mapping", "address", "backorder", "on-hold"])
def test_does_a_shipmonk_status_change_name_the_houses_problem(change, reason, final, words):
    order = {"order_key": "F-1", "order_number": "#1", "order_status": "unfulfilled",
             "processing_status": "submitted", "packages": [], "items": [],
             "ship_to": {"street1": "1 Main", "city": "Chicago", "zip": "60607"},
             "actions_required": {}}
    adapter = ShipMonkHouse({"api_key": "k", "store_id": "1"})
    assert adapter.status_change_tracking(order).problem is None
    problem = adapter.status_change_tracking({**order, **change}).problem
    assert (problem.reason, problem.final) == (reason, final) and words in problem.message
