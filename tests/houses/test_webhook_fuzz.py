"""Random bodies, headers and tokens against every webhook route: always a 4xx (or a 200
for a harmless repeat or an unused topic), never a server error, never a change.

Most calls are properly authenticated — the account's own token, a valid ShipBob
signature over the random body, ShipMonk's Basic auth — so the random body is really read
and parsed; the rest carry random tokens and headers and must be turned away."""
import base64
import calendar
import hashlib
import hmac
import json
import os

from houses_kit import CREDENTIALS, counts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

#: the default run is the same every time (CI must not fail by chance); the long mode explores
LONG = bool(os.environ.get("FAULTS_LONG"))
EXAMPLES = 3000 if LONG else 90
SECRET = CREDENTIALS["shipbob"]["webhook_secrets"].split()[1]
MONK_AUTH = (CREDENTIALS["shipmonk"]["webhook_username"],
             CREDENTIALS["shipmonk"]["webhook_password"])
TOPICS = ["order.shipped", "order.shipment.delivered", "order.shipment.exception",
          "order.shipment.cancelled", "order.shipment.on_hold", ""]
headers = st.dictionaries(
    st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature",
                     "Authorization", "Content-Type", "x-webhook-topic"]),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80), max_size=6)
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(
        ["resource_url", "resource_type", "topic", "order_key", "order_id", "tracking_number",
         "carrier", "shipping_service", "packages", "shipments", "shipment_id", "id",
         "reference_id", "status", "status_details", "tracking", "data"]), inner, max_size=6),
    max_leaves=14)
bodies = st.one_of(st.binary(max_size=400), values.map(lambda v: json.dumps(v).encode()))


def _signed(body: bytes, msg_id: str, stamp: int) -> str:
    """A valid Standard-Webhooks signature of the raw ``body`` with the account's secret."""
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    signed = f"{msg_id}.{stamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def test_webhook_routes_survive_random_input(app, sent, house_account, clock):
    app.config["WEBHOOK_AUTH_FAILURE_LIMIT"] = "100000 per minute"  # the fuzzer is no attacker
    tokens = {"shipbob": sent("shipbob").token}  # with an order sent there
    for house in ("shipstation", "shipmonk"):
        tokens[house] = house_account(house, "http://127.0.0.1:9")[1]
    before = counts(app)
    client = app.test_client()
    outcomes = {"authenticated": 0, "turned away": 0}

    @given(house=st.sampled_from(sorted(tokens)), authenticated=st.sampled_from([True] * 3
                                                                                 + [False]),
           token=st.sampled_from(["x" * 32, "../admin", "a" * 200]),
           topic=st.sampled_from(TOPICS), msg=st.integers(0, 5), headers=headers, body=bodies)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not LONG,
              suppress_health_check=list(HealthCheck))
    def run(house, authenticated, token, topic, msg, headers, body):
        kwargs = {}
        if authenticated:
            token = tokens[house]
            if house == "shipbob":
                stamp = calendar.timegm(clock().timetuple())
                headers = {**headers, "webhook-id": f"msg_fuzz_{msg}", "x-webhook-topic": topic,
                           "webhook-timestamp": str(stamp),
                           "webhook-signature": _signed(body, f"msg_fuzz_{msg}", stamp)}
            elif house == "shipmonk":
                headers = {k: v for k, v in headers.items() if k != "Authorization"}
                kwargs["auth"] = MONK_AUTH
        response = client.post(f"/webhooks/{house}/{token}", data=body, headers=headers,
                               **kwargs)
        assert response.status_code < 500, (house, authenticated, headers, body[:100])
        if authenticated:
            # a signed body that is not UTF-8 cannot be checked (standardwebhooks signs text)
            assert response.status_code not in (401, 404) or response.json["error"] in (
                "The event names no order of this account.",
                "The call names no order of this account.",
                "The resource lists no order of this account.",
                "The webhook body is not UTF-8 text."), response.json
            outcomes["authenticated"] += 1
        else:
            assert response.status_code == 404
            outcomes["turned away"] += 1
    run()
    assert counts(app) == before
    assert outcomes["authenticated"] >= EXAMPLES // 2, outcomes  # the bodies were really read
    from faults.figures import report
    report("random webhook input", "random bodies, most properly authenticated, on the 3 "
           "routes", records=EXAMPLES, refused=EXAMPLES, **{"5xx": 0})

