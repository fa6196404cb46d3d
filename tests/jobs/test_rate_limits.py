"""A rate-limited house: dispatch paces itself by the house's own headers, and a 429 with
a short wait is waited out inside the run instead of postponing orders by an hour."""
import time
from datetime import timedelta

import pytest
from testkit import bulk_hold


@pytest.fixture
def limited_shipstation(app):
    """ShipStation allowing 3 requests a minute, on a clock the test's sleeper moves."""
    from dashboard import credentials
    from dashboard.extensions import db
    from dashboard.models import HouseAccount
    from simulators.common import serve
    from simulators.shipstation import create_app

    class SimClock:
        """The house's time: real time plus whatever the test's sleeper skipped."""
        slept = 0.0

        def __call__(self):
            return time.monotonic() + self.slept
    sim_clock = SimClock()
    sim = create_app(rate_limit=3, rate_window=60, products={"WIDGET-1": 10**6},
                     clock=sim_clock)
    base_url, stop = serve(sim)
    with app.app_context():
        account = HouseAccount(adapter_key="shipstation", title="Limited",
                               credentials_encrypted=credentials.encrypt({
                                   "api_key": "ss-api-key", "api_secret": "ss-api-secret",
                                   "store_id": "310001", "base_url": base_url}))
        db.session.add(account)
        db.session.commit()
        account_id = account.id
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        sim_clock.slept += seconds
    app.config["SLEEP"] = sleep
    yield account_id, sim.extensions["house"], sleeps
    stop()


def test_paced_by_the_houses_headers_no_429(app, limited_shipstation, clock):
    account, house, sleeps = limited_shipstation
    app.config["HOUSE_MAX_PACE"] = 60
    bulk_hold(app, account, "WIDGET-1", 1000, clock())  # 10 requests of 100
    from dashboard.services.dispatch import dispatch
    with app.app_context():
        summary = dispatch()
    assert summary.sent == 1000 and summary.deferred == 0
    # after calls 3, 6, 9, until the window's end: 60 s less the three calls themselves,
    # each of 100 orders checked against ShipStation's document by the simulator
    assert len(sleeps) == 3 and all(50 <= s <= 61 for s in sleeps)
    assert sum(house.creations.values()) == 1000


def test_a_429_with_a_short_wait_is_waited_out_in_the_run(app, limited_shipstation, clock):
    account, house, sleeps = limited_shipstation
    app.config["DISPATCH_MAX_INLINE_WAIT"] = 120
    bulk_hold(app, account, "WIDGET-1", 500, clock())
    from dashboard.services.dispatch import dispatch
    with app.app_context():
        summary = dispatch()
    assert summary.sent == 500 and summary.deferred == 0
    assert len(sleeps) == 1 and 59 <= sleeps[0] <= 61  # 4th call: 429, sent again after
    assert set(house.creations.values()) == {1}


def test_a_long_rate_limit_wait_releases_the_orders(app, limited_shipstation, clock):
    account, house, sleeps = limited_shipstation
    app.config["DISPATCH_MAX_INLINE_WAIT"] = 30  # the house asks for 60
    bulk_hold(app, account, "WIDGET-1", 500, clock())
    from dashboard.services.dispatch import dispatch
    with app.app_context():
        summary = dispatch()
    assert (summary.sent, summary.deferred, summary.failed) == (300, 200, 0)
    assert sleeps == []


def test_a_chunk_claimed_ahead_waits_when_its_house_paused_the_run(app, limited_shipstation,
                                                                   clock):
    """Chunks of one house batch: while a batch is sent the next chunk is already claimed.
    Once the house asks for a longer wait than the run may take, the chunks claimed after
    that are released unsent, due when the house said, like the rest."""
    account, house, sleeps = limited_shipstation
    app.config.update(DISPATCH_MAX_INLINE_WAIT=30, DISPATCH_CHUNK=100)
    bulk_hold(app, account, "WIDGET-1", 500, clock())
    from dashboard.extensions import db
    from dashboard.models import Fulfillment
    from dashboard.services.dispatch import dispatch
    with app.app_context():
        summary = dispatch()
        held = db.session.query(Fulfillment).filter_by(status="hold").all()
    assert (summary.sent, summary.deferred, summary.failed) == (300, 200, 0)
    assert (house.limiter.allowed, house.limiter.refused) == (3, 1)  # nothing after the 429
    assert len(held) == 200 and all(f.claim_token is None for f in held)
    assert min(f.due_at for f in held) >= clock() + timedelta(seconds=59)
    assert sum(house.creations.values()) == 300 and sleeps == []
