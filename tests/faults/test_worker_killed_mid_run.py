"""Two workers sharing a run, one of them killed with -9 (with its work horse) mid-run, as
a host dies: the other finishes what it can, the dead one's claims are picked up after
their lease, and nothing is lost or created twice at the house."""
import time
from datetime import timedelta

import psutil
import pytest
from faults.conftest import RUN_SIZE
from faults.figures import census, report
from rq import Queue
from rq.job import Job
from testkit import bulk_hold

pytestmark = pytest.mark.slow


def test_one_of_two_workers_killed_mid_run(app, shipstation, background, redis_conn, clock):
    from dashboard.clock import utcnow
    from dashboard.services.dispatch import dispatch
    from jobs.context import FlaskJob
    shipstation.state.latency = 0.05  # a run long enough to die in
    ids = bulk_hold(app, shipstation.account, "WIDGET-1", RUN_SIZE, clock())
    victim, survivor = (background("-m", "flask", "worker") for _ in range(2))
    queue = Queue(app.config["RQ_QUEUE"], connection=redis_conn, job_class=FlaskJob)
    jobs = [queue.enqueue("jobs.dispatch.send_now", kwargs={"account_id": shipstation.account})
            for _ in range(2)]
    deadline = time.time() + 180

    def statuses():
        return [Job.fetch(j.id, connection=redis_conn).get_status() for j in jobs]
    while time.time() < deadline and (statuses() != ["started", "started"] or sum(
            shipstation.state.creations.values()) < RUN_SIZE // 5):
        time.sleep(0.1)  # both workers busy (one job each), a fifth of the run done
    assert sum(shipstation.state.creations.values()) < RUN_SIZE, "the run ended too soon"
    family = [psutil.Process(victim.pid), *psutil.Process(victim.pid).children(recursive=True)]
    for proc in family:
        proc.kill()  # the host is gone: worker and work horse at once
    psutil.wait_procs(family, timeout=10)
    while time.time() < deadline and "finished" not in statuses():
        time.sleep(0.2)
    assert survivor.poll() is None  # the other worker carried on
    before = census(app, ids, shipstation.state)
    assert before["duplicated"] == 0 and before["statuses"].get("pending", 0) < RUN_SIZE
    # after the dead worker's lease, the next run asks the house before sending again
    clock.at = utcnow() + timedelta(seconds=app.config["CLAIM_LEASE_SECONDS"] + 1)
    with app.app_context():
        dispatch()
    after = census(app, ids, shipstation.state)
    report("one of two workers SIGKILLed mid-run", "kill -9 worker + horse, other goes on",
           records=RUN_SIZE, lost=after["lost"] + RUN_SIZE - after["at_house"],
           duplicated=after["duplicated"], failed=after["failed"])
    assert after["statuses"] == {"pending": RUN_SIZE}
    assert after["duplicated"] == 0 and after["at_house"] == RUN_SIZE
