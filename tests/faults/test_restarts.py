"""Redis restarted empty mid-run, schedulers restarted and doubled: the schedules come
back one of each, and nothing is sent twice."""
import time
from datetime import timedelta

import pytest
from faults.figures import census, report
from rq import Queue
from rq_scheduler import Scheduler
from testkit import bulk_hold

from jobs.schedule import SCHEDULES

pytestmark = pytest.mark.slow  # each test runs processes or thousands of orders

EXPECTED = sorted(entry.id for entry in SCHEDULES)


@pytest.fixture
def own_redis(app, tmp_path):
    """A Redis of this test's own, so that it can be restarted."""
    import redis

    from dashboard import redis_conn
    folder = tmp_path / "own-redis"
    url = redis_conn.embedded_url(folder)
    app.config["REDIS_URL"] = url
    app.extensions.pop("redis", None)

    class Own:
        def restart(self):
            """Stop the server (it keeps nothing on disk) and start an empty one."""
            redis_conn.stop_embedded(folder)
            for _ in range(100):
                if not redis_conn._answers(url):
                    break
                time.sleep(0.05)
            redis_conn.embedded_url(folder)

        def conn(self):
            return redis.Redis.from_url(url)
    yield Own()
    redis_conn.stop_embedded(folder)


def _schedule_ids(conn, queue_name):
    return sorted(job.id for job in Scheduler(queue_name=queue_name, connection=conn).get_jobs())


def _wait_for(predicate, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_redis_restart_mid_run(app, own_redis, shipstation, background, clock):
    queue_name = app.config["RQ_QUEUE"]
    ids = bulk_hold(app, shipstation.account, "WIDGET-1", 3000, clock())
    background("-m", "flask", "scheduler", "--interval", "1")
    background("-m", "flask", "worker")
    assert _wait_for(lambda: _schedule_ids(own_redis.conn(), queue_name) == EXPECTED)
    from jobs.context import FlaskJob
    from jobs.dispatch import send_now
    for _ in range(3):
        Queue(queue_name, connection=own_redis.conn(), job_class=FlaskJob).enqueue(
            send_now, kwargs={"account_id": shipstation.account})
    _wait_for(lambda: sum(shipstation.state.creations.values()) > 0, 10)
    own_redis.restart()  # queued jobs and schedules are gone with it
    assert _wait_for(lambda: _schedule_ids(own_redis.conn(), queue_name) == EXPECTED), \
        "the scheduler did not restore its schedules after Redis came back"
    # the hourly sweep (run here) picks up whatever the lost jobs left in Hold
    from dashboard.clock import utcnow
    from dashboard.services.dispatch import dispatch
    time.sleep(2)
    clock.at = utcnow() + timedelta(seconds=app.config["CLAIM_LEASE_SECONDS"] + 1)
    with app.app_context():
        dispatch()
    after = census(app, ids, shipstation.state)
    report("Redis restarted empty mid-run", "3 send jobs queued, Redis restarted",
           records=3000, lost=after["lost"], duplicated=after["duplicated"],
           failed=after["failed"])
    assert after["statuses"] == {"pending": 3000}
    assert after["duplicated"] == 0
    assert _schedule_ids(own_redis.conn(), queue_name) == EXPECTED


def test_schedulers_restarted_and_doubled_keep_one_of_each(app, own_redis, background):
    queue_name = app.config["RQ_QUEUE"]
    first = background("-m", "flask", "scheduler", "--interval", "1")
    second = background("-m", "flask", "scheduler", "--interval", "1")
    assert _wait_for(lambda: _schedule_ids(own_redis.conn(), queue_name) == EXPECTED)
    for proc in (first, second):
        proc.kill()
        proc.wait()
        background("-m", "flask", "scheduler", "--interval", "1")
        time.sleep(2.5)
        assert _schedule_ids(own_redis.conn(), queue_name) == EXPECTED
    report("scheduler restarted twice, two at once", "kill -9 and restart, twice",
           records=len(EXPECTED), duplicated=0, lost=0)


def test_a_repeated_hourly_firing_sends_nothing_twice(app, own_redis, shipstation, background,
                                                      clock):
    """Two schedulers firing the same hour: two jobs, two workers, one run."""
    from sqlalchemy import func, select

    from dashboard.extensions import db
    from dashboard.models import DispatchRun
    from jobs.context import FlaskJob
    from jobs.dispatch import hourly_dispatch
    ids = bulk_hold(app, shipstation.account, "WIDGET-1", 2000, clock())
    queue = Queue(app.config["RQ_QUEUE"], connection=own_redis.conn(), job_class=FlaskJob)
    for _ in range(2):
        queue.enqueue(hourly_dispatch, "2026-11-28T10")
    workers = [background("-m", "flask", "worker", "--burst") for _ in range(2)]
    for w in workers:
        w.wait(timeout=120)
    after = census(app, ids, shipstation.state)
    with app.app_context():
        runs = db.session.scalar(select(func.count()).select_from(DispatchRun))
    report("hourly slot fired twice", "2 jobs for one hour, 2 workers", records=2000,
           lost=after["lost"], duplicated=after["duplicated"], failed=after["failed"])
    assert runs == 1
    assert after["statuses"] == {"pending": 2000} and after["duplicated"] == 0
