"""Fixtures for the real houses inside the dashboard: their simulators served on 127.0.0.1,
accounts pointed at them, and orders already sent there through dispatch."""
from __future__ import annotations

import pytest
from houses_kit import CREDENTIALS, MODULES, SentSetup, Simulator, fulfillment

from simulators.common import serve


@pytest.fixture
def simulator():
    """Serve a house's simulator (``simulator("shipstation")``) for the test."""
    stops = []

    def start(key: str) -> Simulator:
        app = MODULES[key].create_app(rate_limited=False)
        root, stop = serve(app)
        stops.append(stop)
        return Simulator(key, root, app)

    yield start
    for stop in stops:
        stop()


@pytest.fixture
def house_account(app):
    """An account of house ``key`` pointed at ``base_url``; returns (id, webhook token)."""
    from dashboard import credentials
    from dashboard.extensions import db
    from dashboard.models import HouseAccount

    def make(key: str, base_url: str, title: str | None = None, **changes: str):
        values = {**CREDENTIALS[key], "base_url": base_url, **changes}
        with app.app_context():
            account = HouseAccount(adapter_key=key, title=title or f"{key} main",
                                   credentials_encrypted=credentials.encrypt(values))
            db.session.add(account)
            db.session.commit()
            return account.id, account.webhook_token

    return make


@pytest.fixture
def sent(app, product, place, house_account, simulator):
    """An order sent to a house's simulator through dispatch. ``sent("shipbob")`` returns
    a ``SentSetup`` with the simulator, the account and the Pending fulfillment."""
    from dashboard.services.dispatch import dispatch

    def make(key: str, sim: Simulator | None = None, sku: str = "WIDGET-1",
             **account_changes) -> SentSetup:
        sim = sim or simulator(key)
        account_id, token = house_account(key, sim.api_url, title=f"{key} {sku}",
                                          **account_changes)
        pid = product(sku, account_id=account_id)
        _, [fid] = place([(pid, 1)])
        with app.app_context():
            summary = dispatch(fulfillment_ids=[fid])
        assert summary.sent == 1, summary
        return SentSetup(sim, account_id, token, fid, fulfillment(app, fid).reference)

    return make


