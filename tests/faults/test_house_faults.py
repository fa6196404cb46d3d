"""A house that is down, slow, accepting then timing out, or answering 5xx and 429 at
random: orders wait in Hold, none is Failed, all are sent once the house recovers."""
import random

import pytest
from faults.conftest import RUN_SIZE
from faults.figures import census, report
from testkit import bulk_hold

from simulators.common import Fault


def _set_base_url(app, account_id, url):
    from dashboard import credentials
    from dashboard.extensions import db
    from dashboard.models import HouseAccount
    with app.app_context():
        account = db.session.get(HouseAccount, account_id)
        values = credentials.decrypt(account.credentials_encrypted)
        account.credentials_encrypted = credentials.encrypt({**values, "base_url": url})
        db.session.commit()


def _drain(app, clock, runs=50):
    """Dispatch runs, an hour apart on the clock, until nothing is held."""
    from dashboard.services.dispatch import dispatch
    totals = {"runs": 0, "deferred": 0}
    with app.app_context():
        for _ in range(runs):
            summary = dispatch()
            totals["runs"] += 1
            totals["deferred"] += summary.deferred
            if summary.claimed == 0 and _held(app) == 0:
                break
            clock.advance(hours=1)
    return totals


def _held(app):
    from sqlalchemy import func, select

    from dashboard.extensions import db
    from dashboard.models import Fulfillment
    return db.session.scalar(select(func.count()).select_from(Fulfillment)
                             .where(Fulfillment.status == "hold"))


@pytest.mark.slow
def test_house_down_for_a_whole_run(app, shipstation, clock):
    ids = bulk_hold(app, shipstation.account, "WIDGET-1", RUN_SIZE, clock())
    _set_base_url(app, shipstation.account, "http://127.0.0.1:9")  # nothing listens there
    from dashboard.services.dispatch import dispatch
    with app.app_context():
        down = dispatch()
    during = census(app, ids, shipstation.state)
    assert during["statuses"] == {"hold": RUN_SIZE} and down.failed == 0
    _set_base_url(app, shipstation.account, shipstation.url)
    clock.advance(hours=1)
    _drain(app, clock)
    after = census(app, ids, shipstation.state)
    report("house down for a whole run", "connection refused, then back",
           records=RUN_SIZE, lost=after["lost"], duplicated=after["duplicated"],
           failed=after["failed"])
    assert after["statuses"] == {"pending": RUN_SIZE}
    assert after["duplicated"] == 0 and after["at_house"] == RUN_SIZE


@pytest.mark.slow
def test_slow_house_and_accept_then_timeout(app, shipstation, clock):
    """A timeout after the house may have accepted is settled by lookup, never by a
    blind resend."""
    app.config["HTTP_TIMEOUT"] = 0.5
    ids = bulk_hold(app, shipstation.account, "WIDGET-1", 500, clock())
    from dashboard.services.dispatch import dispatch
    with app.app_context():
        shipstation.state.faults.arm(Fault("slow", count=1, delay=1.5))
        first = dispatch()
        shipstation.state.faults.arm(Fault("timeout_after_accept", count=1, delay=1.5))
        clock.advance(hours=1)
        second = dispatch()
    assert first.failed == second.failed == 0
    assert first.deferred > 0 and second.deferred > 0
    clock.advance(hours=1)
    _drain(app, clock)
    after = census(app, ids, shipstation.state)
    report("house slow past the timeout / accepts then times out",
           "0.5 s timeout, 1.5 s answers", records=500, lost=after["lost"],
           duplicated=after["duplicated"], failed=after["failed"])
    assert after["statuses"] == {"pending": 500}
    assert after["duplicated"] == 0


@pytest.mark.slow
def test_random_5xx_and_429(app, shipstation, clock):
    rng = random.Random(20261128)
    ids = bulk_hold(app, shipstation.account, "WIDGET-1", RUN_SIZE, clock())
    from dashboard.services.dispatch import dispatch
    errors = 0
    with app.app_context():
        for _ in range(80):
            if rng.random() < 0.5:
                status = rng.choice([500, 502, 503])
                shipstation.state.faults.arm(Fault("error", count=rng.randint(1, 5),
                                                   status=status))
                errors += 1
            shipstation.state.limiter.configure(enabled=rng.random() < 0.3, limit=5,
                                                window=60)
            summary = dispatch()
            assert summary.failed == 0
            if _held(app) == 0:
                break
            clock.advance(minutes=rng.choice([5, 15, 60]))
    shipstation.state.limiter.configure(enabled=False)
    clock.advance(hours=2)
    _drain(app, clock)
    after = census(app, ids, shipstation.state)
    report("house answers 5xx and 429 at random", f"{errors} error bursts, limit 5/min at times",
           records=RUN_SIZE, lost=after["lost"], duplicated=after["duplicated"],
           failed=after["failed"])
    assert after["statuses"] == {"pending": RUN_SIZE}
    assert after["duplicated"] == 0 and after["failed"] == 0
