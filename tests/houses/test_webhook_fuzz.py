"""Random bodies, headers and tokens against every webhook route: always a 4xx (or a 200
for a harmless repeat), never a server error, never a change."""
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from houses_kit import counts

#: the default run is the same every time (CI must not fail by chance); the long mode explores
LONG = bool(os.environ.get("FAULTS_LONG"))
EXAMPLES = 3000 if LONG else 60
headers = st.dictionaries(
    st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature",
                     "Authorization", "Content-Type", "x-webhook-topic"]),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80), max_size=6)
bodies = st.one_of(st.binary(max_size=400),
                   st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=40),
                                lambda inner: st.lists(inner, max_size=4)
                                | st.dictionaries(st.sampled_from(
                                    ["resource_url", "resource_type", "topic", "order_key",
                                     "tracking_number", "packages", "shipment_id", "id",
                                     "reference_id", "data"]), inner, max_size=5),
                                max_leaves=12).map(lambda v: __import__("json").dumps(v).encode()))


def test_webhook_routes_survive_random_input(app, sent):
    setup = sent("shipbob")
    before = counts(app)
    client = app.test_client()
    tokens = st.sampled_from([setup.token, "x" * 32, "", "../admin", setup.token + "x"])

    @given(house=st.sampled_from(["shipstation", "shipbob", "shipmonk"]), token=tokens,
           headers=headers, body=bodies)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not LONG,
              suppress_health_check=list(HealthCheck))
    def run(house, token, headers, body):
        response = client.post(f"/webhooks/{house}/{token}", data=body, headers=headers)
        assert response.status_code < 500, (house, headers, body[:100])
    run()
    assert counts(app) == before
    from faults.figures import report
    report("random webhook input", "random tokens, headers and bodies on the 3 routes",
           records=EXAMPLES, refused=EXAMPLES, **{"5xx": 0})
