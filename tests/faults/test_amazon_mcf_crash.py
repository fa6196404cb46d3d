"""A dispatch worker killed after Amazon created the order and before the outcome was
recorded: the next run finds the order at Amazon by our key and creates no second one."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from simulators import amazon_mcf
from simulators.common import serve


@pytest.fixture
def amazon(app):
    """Amazon's simulator (usage plans off) and an account of ours pointed at it."""
    from dashboard import credentials
    from dashboard.extensions import db
    from dashboard.models import HouseAccount
    sim = amazon_mcf.create_app(rate_limited=False)
    root, stop = serve(sim)
    with app.app_context():
        account = HouseAccount(adapter_key="amazon_mcf", title="Amazon US",
                               credentials_encrypted=credentials.encrypt({
                                   "client_id": "amzn1.application-oa2-client.crm",
                                   "client_secret": "lwa-client-secret",
                                   "refresh_token": "Atzr|crm-refresh-token",
                                   "marketplace_id": "ATVPDKIKX0DER", "base_url": root,
                                   "token_url": root + "/auth/o2/token"}))
        db.session.add(account)
        db.session.commit()
        account_id = account.id
    yield account_id, sim.extensions["house"]
    stop()


def test_a_kill_between_create_and_record_leaves_one_order_at_amazon(app, amazon, child,
                                                                      product, place, clock):
    from dashboard.clock import utcnow
    from dashboard.extensions import db
    from dashboard.models import Fulfillment
    from dashboard.services.dispatch import dispatch
    account_id, house = amazon
    _, [fid] = place([(product("WIDGET-1", account_id=account_id), 1)])

    result = child("tests/faults/crash_worker.py", "after_http", "1")
    assert result.returncode == -9, result.stdout + result.stderr
    with app.app_context():
        record = db.session.get(Fulfillment, fid)
        reference, status = record.reference, record.status
    assert status == "hold" and dict(house.creations) == {reference: 1}

    clock.at = utcnow() + timedelta(seconds=app.config["CLAIM_LEASE_SECONDS"] + 1)
    with app.app_context():
        assert dispatch().sent == 1
        record = db.session.scalars(select(Fulfillment).where(Fulfillment.id == fid)).one()
        assert (record.status, record.house_reference) == ("pending", reference)
    assert dict(house.creations) == {reference: 1}
    assert house.calls["createFulfillmentOrder"] == 1 and house.violations == []
