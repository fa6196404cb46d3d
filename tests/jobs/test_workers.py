"""Jobs on a real Redis: burst workers, two workers at once, killed workers, schedules."""
import time

import pytest
from rq import Queue, SimpleWorker
from sqlalchemy import select

from adapters import sandbox


def _statuses(app):
    from dashboard.extensions import db
    from dashboard.models import Fulfillment
    with app.app_context():
        return {f.id: (f.status, f.reference) for f in db.session.scalars(select(Fulfillment))}


def _drain(app, redis_conn):
    """Run every queued job in this process with a burst worker (it sees the test clock)."""
    from jobs.context import FlaskJob
    queue = Queue(app.config["RQ_QUEUE"], connection=redis_conn, job_class=FlaskJob)
    SimpleWorker([queue], connection=redis_conn, job_class=FlaskJob).work(burst=True)
    return queue


def _bulk_hold(app, account_id, pid, count, clock):
    """Insert ``count`` held fulfillments quickly (one order, many fulfillments)."""
    from dashboard.extensions import db
    from dashboard.models import Fulfillment
    from dashboard.services import order_entry
    with app.app_context():
        order = order_entry.place_order(
            {"first_name": "A", "last_name": "B", "email": "a@example.com", "phone": "",
             "address1": "1 Main St", "address2": "", "city": "Austin", "state": "TX",
             "postal_code": "73301", "country": "US"},
            [order_entry.Line(pid, 1)], actor="test")
        item = order.fulfillments[0].items[0]
        ids = []
        for _ in range(count - 1):
            f = Fulfillment(reference=Fulfillment.new_reference(), order_id=order.id,
                            house_account_id=account_id, status="hold", due_at=clock(),
                            created_at=clock(), updated_at=clock())
            db.session.add(f)
            ids.append(f)
        db.session.flush()
        from dashboard.models import FulfillmentItem
        db.session.add_all([FulfillmentItem(fulfillment_id=f.id, order_item_id=item.order_item_id,
                                            product_id=pid, name="x", sku=item.sku, quantity=1)
                            for f in ids])
        db.session.commit()


def test_send_now_job_runs_on_a_burst_worker(app, redis_conn, sandbox_account, product,
                                             place):
    from dashboard.services.queue import enqueue_dispatch
    account = sandbox_account()
    pid = product("Q-1", account_id=account)
    _, [fid] = place([(pid, 1)])
    with app.app_context():
        job = enqueue_dispatch(account_id=account)
    assert job is not None
    _drain(app, redis_conn)
    job.refresh()
    assert job.get_status() == "finished" and job.return_value()["sent"] == 1
    assert _statuses(app)[fid][0] == "pending"


def test_send_at_once_accounts_queue_a_job_on_order_creation(app, redis_conn, sandbox_account,
                                                            product, place):
    immediate = sandbox_account("Fast", send_immediately=True)
    hourly = sandbox_account("Hourly")
    fast = product("F-1", account_id=immediate)
    slow = product("S-1", account_id=hourly)
    _, [f1, f2] = place([(fast, 1), (slow, 1)])
    queue = _drain(app, redis_conn)
    assert queue.count == 0
    statuses = _statuses(app)
    assert statuses[f1][0] == "pending" and statuses[f2][0] == "hold"


@pytest.mark.slow
def test_two_worker_processes_send_each_fulfillment_once(app, redis_conn, sandbox_account,
                                                         product, clock, spawn):
    from dashboard.services.queue import enqueue_dispatch
    account = sandbox_account()
    pid = product("TWO-1", account_id=account)
    _bulk_hold(app, account, pid, 300, clock)
    with app.app_context():
        for _ in range(4):
            enqueue_dispatch(account_id=account)
    workers = [spawn("-m", "flask", "worker", "--burst") for _ in range(2)]
    for w in workers:
        out, _ = w.communicate(timeout=120)
        assert w.returncode == 0, out
    statuses = _statuses(app)
    assert len(statuses) == 300
    assert {s for s, _ in statuses.values()} == {"pending"}
    counts = [sandbox.receipts(ref) for _, ref in statuses.values()]
    assert counts == [1] * 300


@pytest.mark.parametrize("point", ["after_claim", "after_send"])
def test_a_killed_worker_loses_nothing_and_sends_nothing_twice(app, sandbox_account, product,
                                                               clock, spawn, point):
    account = sandbox_account()
    pid = product("KILL-1", account_id=account)
    _bulk_hold(app, account, pid, 120, clock)
    proc = spawn("tests/jobs/crash_dispatch.py", point)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == -9, out
    assert "claimed 120" in out
    statuses = _statuses(app)
    assert {s for s, _ in statuses.values()} == {"hold"}  # nothing lost, nothing moved
    expected = 1 if point == "after_send" else 0
    assert [sandbox.receipts(ref) for _, ref in statuses.values()] == [expected] * 120
    from dashboard.services.dispatch import dispatch
    with app.app_context():
        assert dispatch().claimed == 0  # the dead worker's claim holds until its lease ends
        from datetime import timedelta

        from dashboard.clock import utcnow  # the child process claimed on the real clock
        clock.at = utcnow() + timedelta(seconds=app.config["CLAIM_LEASE_SECONDS"] + 1)
        summary = dispatch()
    assert summary.sent == 120
    statuses = _statuses(app)
    assert {s for s, _ in statuses.values()} == {"pending"}
    assert [sandbox.receipts(ref) for _, ref in statuses.values()] == [1] * 120


def test_schedules_register_once_and_reconcile(app, redis_conn):
    from rq_scheduler import Scheduler

    from jobs.schedule import PREFIX, SCHEDULES, Periodic, register
    queue = app.config["RQ_QUEUE"]
    sched = Scheduler(queue_name=queue, connection=redis_conn)
    assert set(register(sched, queue).values()) == {"added"}
    assert set(register(Scheduler(queue_name=queue, connection=redis_conn), queue).values()) \
        == {"unchanged"}
    ids = sorted(job.id for job in sched.get_jobs())
    assert ids == sorted(entry.id for entry in SCHEDULES)
    changed = (Periodic(SCHEDULES[0].id, "20 * * * *", SCHEDULES[0].func, "moved"),)
    assert register(sched, queue, changed) == {SCHEDULES[0].id: "replaced",
                                               SCHEDULES[1].id: "removed"}
    [job] = sched.get_jobs()
    assert job.id == SCHEDULES[0].id and job.meta["cron_string"] == "20 * * * *"
    assert job.id.startswith(PREFIX)


def test_the_hourly_job_is_at_quarter_past_in_utc(app, redis_conn):
    from rq_scheduler import Scheduler

    from jobs.schedule import register
    sched = Scheduler(queue_name=app.config["RQ_QUEUE"], connection=redis_conn)
    register(sched, app.config["RQ_QUEUE"])
    times = {job.id: at for job, at in sched.get_jobs(with_times=True)}
    hourly = times["periodic-dispatch-hourly"]
    assert hourly.minute == 15 and hourly.second == 0
    assert times["periodic-tracking"].minute % 15 == 0


@pytest.mark.slow
def test_worker_and_scheduler_commands_run(app, redis_conn, spawn):
    """The scheduler process registers the schedules on start (and a second one keeps one
    of each); the worker starts and drains in burst mode."""
    scheduler = spawn("-m", "flask", "scheduler", "--interval", "1")
    second = spawn("-m", "flask", "scheduler", "--interval", "1")
    deadline = time.time() + 30
    from rq_scheduler import Scheduler
    sched = Scheduler(queue_name=app.config["RQ_QUEUE"], connection=redis_conn)
    while time.time() < deadline and len(list(sched.get_jobs())) < 2:
        time.sleep(0.2)
    time.sleep(1)
    scheduler.terminate(), second.terminate()
    assert sorted(j.id for j in sched.get_jobs()) == ["periodic-dispatch-hourly",
                                                      "periodic-tracking"]
    worker = spawn("-m", "flask", "worker", "--burst")
    out, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0, out
