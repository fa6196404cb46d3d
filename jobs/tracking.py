"""Tracking jobs: ask houses for tracking numbers, then carriers for progress; and the
policy that follows houses that ship in seconds more closely than the schedule."""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from rq_scheduler import Scheduler

from dashboard.redis_conn import connection
from dashboard.services.tracking import check_carriers, check_houses, fast_house_interval

log = logging.getLogger(__name__)

#: the one follow-up tracking check that may be waiting in the scheduler at a time
FOLLOW_UP_ID = "tracking-follow-up"


def check_tracking() -> dict:
    """House tracking, then carrier status; each looks only at records that are due."""
    houses = check_houses()
    carriers = check_carriers()
    follow_fast_houses()
    return {"house_checked": houses.checked, "house_moved": houses.moved,
            "carrier_checked": carriers.checked, "carrier_moved": carriers.moved}


def follow_fast_houses() -> bool:
    """A house that ships in seconds (the Sandbox) outpaces the 15-minute tracking schedule:
    while one has orders on their way, ask the scheduler for a tracking check soon (that
    check asks again, until nothing of such a house is moving). Returns whether one is
    waiting. Called at the end of a job, when its work is committed. Redis being away
    only delays tracking to the regular schedule."""
    interval = fast_house_interval()
    if interval is None:
        return False
    try:
        scheduler = Scheduler(queue_name=current_app.config["RQ_QUEUE"],
                              connection=connection())
        if FOLLOW_UP_ID not in scheduler:
            scheduler.enqueue_in(timedelta(seconds=interval), check_tracking,
                                 job_id=FOLLOW_UP_ID, job_result_ttl=600)
        return True
    except Exception as exc:  # noqa: BLE001 (the regular schedule still runs)
        log.warning("could not schedule a follow-up tracking check (%s)", exc)
        return False
