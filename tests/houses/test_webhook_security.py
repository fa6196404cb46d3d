"""Attacks on the webhook routes: a captured ShipBob delivery replayed under another
topic, one account's event id swallowing another account's update, guessing tokens and
passwords, and malformed fields in an authenticated ShipMonk notification."""
from __future__ import annotations

import pytest
from houses_kit import CREDENTIALS, counts, fulfillment, shipments
from test_shipbob_webhook import NEW_SECRET, _post, _unix

from simulators.shipbob import signed_delivery

MONK_AUTH = (CREDENTIALS["shipmonk"]["webhook_username"],
             CREDENTIALS["shipmonk"]["webhook_password"])
MONK_PACKAGES = [{"tracking_number": "1ZSM0000000000001", "carrier": "UPS",
                  "service": "Ground"}]


def test_a_delivery_replayed_under_another_topic_is_refused(app, sent, clock):
    """An order.shipment.on_hold delivery (ignored here) is captured and replayed within
    its five minutes with the unsigned topic header rewritten to cancelled."""
    setup = sent("shipbob")
    shipment = dict(setup.sim.app.extensions["house"].find(setup.reference)["shipments"][0],
                    status="OnHold")
    headers, body = signed_delivery("order.shipment.on_hold", shipment, NEW_SECRET,
                                    timestamp=_unix(clock))
    assert _post(app, setup.token, headers, body).status_code == 200  # acknowledged, unused
    before = counts(app)
    forged = {**headers, "x-webhook-topic": "order.shipment.cancelled",
              "webhook-id": headers["webhook-id"]}
    response = _post(app, setup.token, forged, body)
    assert response.status_code == 400
    assert "the signed body is not such an event" in response.json["error"]
    assert fulfillment(app, setup.fid).status == "pending" and counts(app) == before


@pytest.mark.parametrize("topic, change", [
    ("order.shipment.delivered", {"status_details": [{"id": 201, "name": "InTransit"}]}),
    ("order.shipment.exception", {"status": "Completed", "status_details": []}),
    ("order.shipped", None),  # a shipment body where an order belongs
])
def test_a_body_that_is_not_the_named_event_is_refused(app, sent, clock, topic, change):
    setup = sent("shipbob")
    order = setup.sim.app.extensions["house"].find(setup.reference)
    shipment = dict(order["shipments"][0], **(change or {}))
    before = counts(app)
    response = _post(app, setup.token, *signed_delivery(topic, shipment, NEW_SECRET,
                                                         timestamp=_unix(clock)))
    assert response.status_code == 400 and counts(app) == before


def test_the_same_event_id_on_two_accounts_is_two_events(app, sent, simulator, clock):
    """Event ids are the house's, unique per its account at best: before, account B's
    update was taken for a repeat of account A's and dropped."""
    sim = simulator("shipbob")
    first = sent("shipbob", sim, sku="WIDGET-1")
    second = sent("shipbob", sim, sku="GADGET-2")
    for setup, number in ((first, "9400100000000000000001"), (second, "9400100000000000000002")):
        sim.control("ship", {"key": setup.reference, "packages": [{"tracking_number": number}]})
        resource = sim.app.extensions["house"].webhook_resource(setup.reference, "order.shipped")
        response = _post(app, setup.token, *signed_delivery(
            "order.shipped", resource, NEW_SECRET, msg_id="msg_same_id", timestamp=_unix(clock)))
        assert response.status_code == 200
        assert "Already applied" not in response.json["outcome"], response.json
        assert number in shipments(app, setup.fid)


def test_failed_authentications_are_limited_per_route_and_address(app, sent, clock):
    app.config["WEBHOOK_AUTH_FAILURE_LIMIT"] = "5 per minute"
    setup = sent("shipbob")
    resource = setup.sim.app.extensions["house"].find(setup.reference)
    client = app.test_client()

    def deliver(token, addr, secret=NEW_SECRET):
        headers, body = signed_delivery("order.shipped", resource, secret,
                                        timestamp=_unix(clock))
        return client.post(f"/webhooks/shipbob/{token}", data=body, headers=headers,
                           environ_base={"REMOTE_ADDR": addr})

    for n in range(3):
        assert deliver(f"guess-{n}", "198.51.100.1").status_code == 404
    for _ in range(2):
        assert deliver(setup.token, "198.51.100.1", secret="whsec_Z3Vlc3M=").status_code == 401
    blocked = deliver(setup.token, "198.51.100.1")
    assert blocked.status_code == 429 and "Too many failed" in blocked.json["error"]
    assert fulfillment(app, setup.fid).status == "pending"
    assert deliver(setup.token, "198.51.100.2").status_code == 200  # another address
    assert client.post("/webhooks/shipmonk/guess", json={},
                       environ_base={"REMOTE_ADDR": "198.51.100.1"}).status_code == 404


@pytest.mark.parametrize("change, words", [
    ({"carrier": 12345}, "carrier must be a text"),
    ({"carrier": {"name": "UPS"}}, "carrier must be a text"),
    ({"carrier": "U" * 41}, "carrier must be a text of at most 40 characters"),
    ({"packages": [{"tracking_number": ["1Z1", "1Z2"]}]}, "tracking_number must be a text"),
    ({"packages": [{"tracking_number": "9" * 65}]}, "tracking_number must be a text"),
    ({"service": ["Ground"]}, "ship_method must be a text"),
], ids=["carrier-number", "carrier-object", "carrier-41", "tracking-list", "tracking-65",
        "service-list"])
def test_malformed_shipmonk_fields_are_refused_with_a_reason(app, sent, change, words):
    setup = sent("shipmonk")
    notification = setup.sim.control("ship", {"key": setup.reference,
                                              "packages": MONK_PACKAGES})["notification"]
    before = counts(app)
    response = app.test_client().post(f"/webhooks/shipmonk/{setup.token}",
                                      json={**notification, **change}, auth=MONK_AUTH)
    assert response.status_code == 400, response.json
    assert words in response.json["error"]
    assert counts(app) == before and fulfillment(app, setup.fid).status == "pending"


def test_an_account_refused_by_the_outbound_policy_answers_503(app, sent, clock):
    """Custom base URLs switched off while an account still points at one: its deliveries
    are refused plainly (the house retries later), never a server error or a change."""
    setup = sent("shipbob")
    resource = setup.sim.app.extensions["house"].find(setup.reference)
    app.config["ALLOW_CUSTOM_BASE_URLS"] = False
    before = counts(app)
    response = _post(app, setup.token, *signed_delivery("order.shipped", resource, NEW_SECRET,
                                                        timestamp=_unix(clock)))
    assert response.status_code == 503 and "official API hosts" in response.json["error"]
    assert counts(app) == before
