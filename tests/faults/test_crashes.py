"""SIGKILL a dispatch worker at each point of a run; after recovery nothing is lost and
nothing was created twice at the house."""
from datetime import timedelta

import pytest
from faults.conftest import RUN_SIZE
from faults.figures import census, report
from testkit import bulk_hold

pytestmark = pytest.mark.slow  # each test runs processes or thousands of orders

POINTS = ["before_claim_commit", "after_claim", "after_http", "before_outcome_commit"]


@pytest.mark.parametrize("point", POINTS)
def test_killed_worker_recovers(app, shipstation, child, clock, point):
    """Is every record sent exactly once after a worker dies at this point?"""
    from dashboard.clock import utcnow
    from dashboard.services.dispatch import dispatch
    ids = bulk_hold(app, shipstation.account, "WIDGET-1", RUN_SIZE, clock())
    # the victim dies in its third batch (or third claim), with work done before it
    result = child("tests/faults/crash_worker.py", point, "3")
    assert result.returncode == -9, result.stdout + result.stderr
    assert f"killed at {point}" in result.stdout
    before = census(app, ids, shipstation.state)
    assert before["duplicated"] == 0 and before["failed"] == 0
    # a new worker after the dead one's lease ran out
    clock.at = utcnow() + timedelta(seconds=app.config["CLAIM_LEASE_SECONDS"] + 1)
    with app.app_context():
        summary = dispatch()
    after = census(app, ids, shipstation.state)
    report(f"worker SIGKILL {point.replace('_', ' ')}", "killed in batch 3, then recovered",
           records=RUN_SIZE, lost=after["lost"] + RUN_SIZE - after["at_house"],
           duplicated=after["duplicated"], failed=after["failed"])
    assert after["statuses"] == {"pending": RUN_SIZE}, (summary, after)
    assert after["duplicated"] == 0 and after["at_house"] == RUN_SIZE
