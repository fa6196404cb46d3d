"""A dispatch worker that kills itself with SIGKILL at a chosen point of its K-th batch.

Usage: python tests/faults/crash_worker.py POINT K
POINT: before_claim_commit | after_claim | after_http | before_outcome_commit
"""
import os
import signal
import sys

from dashboard.app import create_app
from dashboard.extensions import db
from dashboard.services import dispatch as dispatching

POINT, K = sys.argv[1], int(sys.argv[2])
calls = {"claim": 0, "send": 0, "record": 0}


def die():
    print(f"killed at {POINT} #{K}", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


def killing_commit():
    die()


real_claim, real_record, real_outcomes = (dispatching.claim, dispatching._record,
                                          dispatching._outcomes)


def claim(*args, **kwargs):
    calls["claim"] += 1
    if POINT == "before_claim_commit" and calls["claim"] == K:
        db.session.commit = killing_commit  # the UPDATE runs, its COMMIT never happens
    result = real_claim(*args, **kwargs)
    if POINT == "after_claim" and calls["claim"] == K:
        die()
    return result


def outcomes(*args, **kwargs):
    result = real_outcomes(*args, **kwargs)
    calls["send"] += 1
    if POINT == "after_http" and calls["send"] == K:
        die()
    return result


def record(*args, **kwargs):
    calls["record"] += 1
    if POINT == "before_outcome_commit" and calls["record"] == K:
        db.session.commit = killing_commit
    return real_record(*args, **kwargs)


dispatching.claim, dispatching._outcomes, dispatching._record = claim, outcomes, record
app = create_app({"DISPATCH_CHUNK": 500})
with app.app_context():
    dispatching.dispatch()
print("finished without reaching the crash point", flush=True)
