"""Fixtures for the pull-house API: pull-house accounts, API users, held fulfillments, and
a snapshot of every fulfillment and event so a test can assert an error changed nothing."""
from __future__ import annotations

import pytest
from pullkit import API_PASSWORD
from sqlalchemy import select


@pytest.fixture
def pull_account(app):
    """Create a pull-house account (no credentials) and return its id."""
    from dashboard import credentials
    from dashboard.extensions import db
    from dashboard.models import HouseAccount

    def make(adapter_key="shipworks", title="ShipWorks East", active=True):
        with app.app_context():
            account = HouseAccount(adapter_key=adapter_key, title=title, active=active,
                                   credentials_encrypted=credentials.encrypt({}))
            db.session.add(account)
            db.session.commit()
            return account.id
    return make


@pytest.fixture
def api_user(app):
    """Create an API user serving ``accounts``; returns its login id."""
    from werkzeug.security import generate_password_hash

    from dashboard.extensions import db
    from dashboard.models import ApiUser, HouseAccount

    def make(accounts, login_id="house-east", permissions=("order_query", "fulfillment_query",
                                                           "fulfillment_update"),
             allowlist="127.0.0.1", active=True, password=API_PASSWORD):
        with app.app_context():
            user = ApiUser(login_id=login_id, password_hash=generate_password_hash(password),
                           permissions=",".join(permissions), ip_allowlist=allowlist,
                           active=active)
            user.accounts = list(db.session.scalars(
                select(HouseAccount).where(HouseAccount.id.in_(accounts))))
            db.session.add(user)
            db.session.commit()
            return login_id
    return make


@pytest.fixture
def held(app, product, place):
    """Place ``n`` orders of one product of ``account_id``; returns their fulfillment ids."""
    counter = {"n": 0}

    def make(account_id, n=1, hold_delay_hours=0, **customer):
        counter["n"] += 1
        pid = product(f"SKU-{account_id}-{counter['n']}", account_id=account_id,
                      hold_delay_hours=hold_delay_hours)
        ids = []
        for _ in range(n):
            _order, fids = place([(pid, 2)], **customer)
            ids.extend(fids)
        return ids
    return make


@pytest.fixture
def snapshot(app):
    """Every fulfillment's columns, every event and shipment: equal before and after a
    refused call proves it changed nothing."""
    from dashboard.extensions import db
    from dashboard.models import Fulfillment, FulfillmentEvent, Shipment

    def take():
        with app.app_context():
            return (
                [tuple(r) for r in db.session.execute(select(Fulfillment.__table__))],
                db.session.execute(select(FulfillmentEvent.id)).all(),
                db.session.execute(select(Shipment.id)).all(),
            )
    return take


@pytest.fixture
def call(app):
    """Call a JSON endpoint (POST form by default) and return the decoded envelope."""
    client = app.test_client()

    def do(path, method="POST", remote_addr="127.0.0.1", **params):
        params.setdefault("loginId", "house-east")
        params.setdefault("password", API_PASSWORD)
        params = {k: v for k, v in params.items() if v is not None}
        kwargs = {"environ_base": {"REMOTE_ADDR": remote_addr}}
        if method == "GET":
            response = client.get(path, query_string=params, **kwargs)
        else:
            response = client.post(path, data=params, **kwargs)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()
    return do


@pytest.fixture
def fulfillment(app):
    """Read one fulfillment (detached) by id."""
    from dashboard.extensions import db
    from dashboard.models import Fulfillment

    def read(fid):
        with app.app_context():
            f = db.session.get(Fulfillment, fid)
            db.session.expunge(f)
            return f
    return read


@pytest.fixture
def events(app):
    """(from, to, source, actor, applied, detail) of a fulfillment's timeline."""
    from dashboard.extensions import db
    from dashboard.models import FulfillmentEvent

    def read(fid):
        with app.app_context():
            return [(e.from_status, e.to_status, e.source, e.actor, e.applied, e.detail)
                    for e in db.session.scalars(select(FulfillmentEvent).where(
                        FulfillmentEvent.fulfillment_id == fid).order_by(FulfillmentEvent.id))]
    return read


@pytest.fixture
def set_status(app):
    """Put fulfillments straight into a status (test setup, bypassing the rules)."""
    from sqlalchemy import update

    from dashboard.extensions import db
    from dashboard.models import Fulfillment

    def put(ids, status, **values):
        with app.app_context():
            db.session.execute(update(Fulfillment).where(Fulfillment.id.in_(ids))
                               .values(status=status, **values))
            db.session.commit()
    return put
