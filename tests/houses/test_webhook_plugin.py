"""A house brings its own webhook: a house class that declares ``webhook`` gets its route
``/webhooks/<kind>/<token>`` and its calls are applied like any house's, with nothing
written outside its own module (here, this test module)."""
from __future__ import annotations

import hmac
import json

import pytest
from sqlalchemy import select

from adapters import HOUSES, by_webhook, webhook_specs
from adapters.base import (
    Accepted,
    CredentialField,
    FieldKind,
    HouseAdapter,
    Package,
    TrackingInfo,
    WebhookAction,
    WebhookCall,
    WebhookRefused,
    WebhookSpec,
)
from adapters.webhooks import json_object


def read_parcelbird(adapter, headers, raw: bytes) -> WebhookCall:
    """ParcelBird signs nothing: it sends the account's secret in a header."""
    if not hmac.compare_digest(headers.get("X-Bird-Secret", "").encode(),
                               adapter.credentials["secret"].encode()):
        raise WebhookRefused(401, "The X-Bird-Secret header is wrong.")
    body = json_object(raw)
    info = TrackingInfo(body["ref"], "", tuple(Package(n, carrier="usps")
                                               for n in body["numbers"]))
    return WebhookCall(body["id"], WebhookAction.TRACKING, lambda: [info])


class ParcelBirdHouse(HouseAdapter):
    key = "parcelbird"
    name = "ParcelBird"
    description = "A house that exists only in this test."
    website = "https://parcelbird.example"
    fields = (CredentialField("secret", "Webhook secret", kind=FieldKind.SECRET),)
    webhook = WebhookSpec("parcelbird", setup="Paste this URL into ParcelBird.",
                          read=read_parcelbird, needs=("secret",))

    def check_credentials(self):
        return None

    def send(self, orders):
        return [Accepted(o.key, "PB-" + o.key) for o in orders]

    def lookup(self, keys):
        return {}

    def fetch_tracking(self, orders):
        return []

    def cancel(self, order):
        return None


@pytest.fixture
def registered(monkeypatch):
    """ParcelBird joins the registry, as an installed house module would."""
    monkeypatch.setitem(HOUSES, ParcelBirdHouse.key, ParcelBirdHouse)


@pytest.fixture
def app(registered, app):
    """The conftest's app, built after ParcelBird registered."""
    return app


@pytest.fixture
def bird(app, product, place):
    """A ParcelBird account with one order sent to the house (Pending)."""
    from dashboard import credentials
    from dashboard import status as rules
    from dashboard.extensions import db
    from dashboard.models import Fulfillment, HouseAccount
    from dashboard.status import Status
    with app.app_context():
        account = HouseAccount(adapter_key="parcelbird", title="Bird",
                               credentials_encrypted=credentials.encrypt({"secret": "s3cret"}))
        db.session.add(account)
        db.session.commit()
        account_id, token = account.id, account.webhook_token
    _, [fid] = place([(product("BIRD-1", account_id=account_id), 1)])
    with app.app_context():
        rules.move(fid, Status.PENDING, source="test")
        db.session.commit()
        reference = db.session.get(Fulfillment, fid).reference
    return fid, token, reference


def _post(app, token, body, secret="s3cret"):
    return app.test_client().post(f"/webhooks/parcelbird/{token}", data=json.dumps(body),
                                  headers={"X-Bird-Secret": secret})


def _state(app, fid):
    from dashboard.extensions import db
    from dashboard.models import Fulfillment, Shipment, WebhookEvent
    with app.app_context():
        return (db.session.get(Fulfillment, fid).status,
                db.session.scalars(select(Shipment.tracking_number)
                                   .where(Shipment.fulfillment_id == fid)).all(),
                db.session.scalars(select(WebhookEvent.event_id)).all())


def test_the_registry_answers_for_the_new_house(registered):
    assert by_webhook("parcelbird") == {"parcelbird": ParcelBirdHouse}
    assert webhook_specs()["parcelbird"] is ParcelBirdHouse.webhook
    assert by_webhook("nothing-here") == {}


def test_a_registered_house_gets_its_webhook_route_and_its_calls_apply(app, bird):
    fid, token, reference = bird
    body = {"id": "evt-1", "ref": reference, "numbers": ["9400100000000000000009"]}
    response = _post(app, token, body)
    assert response.status_code == 200, response.json
    assert _state(app, fid) == ("pending_shipment", ["9400100000000000000009"], ["evt-1"])
    assert _post(app, token, body).json["outcome"] == "Already applied; nothing changed."


def test_its_reader_refuses_a_wrong_secret_and_nothing_changes(app, bird):
    fid, token, reference = bird
    body = {"id": "evt-2", "ref": reference, "numbers": ["9400100000000000000010"]}
    response = _post(app, token, body, secret="guess")
    assert response.status_code == 401
    assert response.json == {"ok": False, "error": "The X-Bird-Secret header is wrong."}
    assert _post(app, "not-the-token", body).status_code == 404
    assert _state(app, fid) == ("pending", [], [])


def test_its_account_page_shows_the_declared_setup(app, bird, admin):
    """The setup help and URL come from the declaration, like the real houses'."""
    from dashboard.extensions import db
    from dashboard.models import HouseAccount
    from dashboard.webhooks.routes import webhook_setup
    _, token, _ = bird
    with app.test_request_context():
        account = db.session.scalar(select(HouseAccount).where(
            HouseAccount.adapter_key == "parcelbird"))
        setup = webhook_setup(account)
    assert setup["help"] == "Paste this URL into ParcelBird." and setup["ready"]
    assert setup["url"].endswith(f"/webhooks/parcelbird/{token}")
