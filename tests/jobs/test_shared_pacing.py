"""Workers sending to one house account share its rate allowance through Redis: the
budget's rules on a moved clock, then two real worker processes against a rate-limited
house over real HTTP."""
import time

import pytest
import redis
from rq import Queue
from testkit import bulk_hold

from dashboard.services.shared_pacing import RedisAllowance


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


def test_the_budget_counts_down_waits_for_the_refill_and_ignores_late_answers(redis_conn):
    clock = Clock()
    budget = RedisAllowance(redis_conn, "test:allowance:1", clock=clock)
    other = RedisAllowance(redis_conn, "test:allowance:1", clock=clock)  # another worker
    assert budget.take() == 0  # nothing known yet: go
    budget.observe(clock.now, remaining=3, limit=5, reset=10)  # 5 per 10 s, 2 used
    assert [budget.take(), other.take(), budget.take()] == [0, 0, 0]
    wait = other.take()
    assert 9.9 <= wait <= 10.1  # empty: both wait for the window's end
    assert budget.take() == pytest.approx(wait, abs=0.01)
    clock.now += wait
    assert other.take() == 0  # refilled to the house's limit
    other.observe(clock.now, remaining=4, limit=5, reset=10)  # the window's first call
    assert [other.take() for _ in range(4)] == [0] * 4
    assert 9.9 <= budget.take() <= 10.1
    # an answer to a call sent before this window began says nothing about this window
    budget.observe(clock.now - 20, remaining=0, limit=5, reset=1)
    assert budget.state()["remaining"] == "0" and float(budget.state()["refill_at"]) > clock.now
    clock.now += 30
    assert budget.take() == 0


def test_a_house_that_says_it_is_used_up_empties_the_budget(redis_conn):
    clock = Clock()
    budget = RedisAllowance(redis_conn, "test:allowance:2", clock=clock)
    budget.observe(clock.now, remaining=0, limit=40, reset=4)  # e.g. a 429's headers
    assert 3.9 <= budget.take() <= 4.1


def test_without_redis_every_call_goes(tmp_path):
    gone = redis.Redis.from_url(f"unix://{tmp_path}/nothing.sock")
    budget = RedisAllowance(gone, "test:allowance:3")
    assert budget.take() == 0
    budget.observe(time.time(), remaining=0, limit=5, reset=60)  # logged, not raised


@pytest.mark.slow
def test_two_workers_share_one_allowance_without_a_429_storm(app, redis_conn, spawn,
                                                             worker_env, clock):
    from dashboard import credentials
    from dashboard.extensions import db
    from dashboard.models import HouseAccount
    from jobs.context import FlaskJob
    from simulators.common import serve
    from simulators.shipstation import create_app
    sim = create_app(rate_limit=5, rate_window=2, products={"WIDGET-1": 10**6})
    base_url, stop = serve(sim)
    house = sim.extensions["house"]
    try:
        with app.app_context():
            account = HouseAccount(adapter_key="shipstation", title="Limited",
                                   credentials_encrypted=credentials.encrypt({
                                       "api_key": "ss-api-key", "api_secret": "ss-api-secret",
                                       "store_id": "310001", "base_url": base_url}))
            db.session.add(account)
            db.session.commit()
            account_id = account.id
        bulk_hold(app, account_id, "WIDGET-1", 3000, clock())  # 30 calls of 100
        worker_env.update(DISPATCH_CHUNK="300", HOUSE_MAX_PACE="10")
        queue = Queue(app.config["RQ_QUEUE"], connection=redis_conn, job_class=FlaskJob)
        for _ in range(2):
            queue.enqueue("jobs.dispatch.send_now", kwargs={"account_id": account_id})
        workers = [spawn("-m", "flask", "worker", "--burst") for _ in range(2)]
        outputs = [w.communicate(timeout=300)[0] for w in workers]
        assert all(w.returncode == 0 for w in workers), outputs
        assert all("dispatch: claimed" in out for out in outputs), outputs  # both worked
    finally:
        stop()
    assert sum(house.creations.values()) == 3000 and set(house.creations.values()) == {1}
    assert house.limiter.allowed == 30
    assert house.limiter.refused <= 2, f"{house.limiter.refused} answers were 429"
