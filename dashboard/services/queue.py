"""Putting jobs on the RQ queue from the web process."""
from __future__ import annotations

import logging

from flask import current_app
from rq import Queue

from dashboard.redis_conn import connection

log = logging.getLogger(__name__)


def queue() -> Queue:
    from jobs.context import FlaskJob
    return Queue(current_app.config["RQ_QUEUE"], connection=connection(), job_class=FlaskJob)


def enqueue_dispatch(*, account_id: int | None = None, fulfillment_ids: list[int] | None = None,
                     ignore_due: bool = False):
    """Queue a send now. If Redis is unreachable the orders still wait safely in Hold for
    the hourly run, so this logs instead of failing the caller's request."""
    try:
        return queue().enqueue("jobs.dispatch.send_now", kwargs={
            "account_id": account_id, "fulfillment_ids": fulfillment_ids,
            "ignore_due": ignore_due}, result_ttl=600, failure_ttl=7 * 24 * 3600)
    except Exception as exc:  # noqa: BLE001 (Redis down must not lose the order)
        log.warning("could not queue a send now (%s); the hourly run will send it", exc)
        return None


#: the one follow-up tracking check that may be waiting in the scheduler at a time
FOLLOW_UP_ID = "tracking-follow-up"


def follow_fast_houses() -> bool:
    """A house that ships in seconds (the Sandbox) outpaces the 15-minute tracking schedule:
    while one has orders on their way, ask the scheduler for a tracking check soon (that
    check asks again, until nothing of such a house is moving). Returns whether one is
    waiting. Called at the end of a job, when its work is committed. Redis being away
    only delays tracking to the regular schedule."""
    from datetime import timedelta

    from rq_scheduler import Scheduler
    from sqlalchemy import select

    from adapters import HOUSES
    from dashboard.extensions import db
    from dashboard.models import Fulfillment, HouseAccount
    from dashboard.status import Status
    fast = {key: cls.check_interval for key, cls in HOUSES.items()
            if getattr(cls, "check_interval", None)}
    if not fast:
        return False
    moving = db.session.scalar(
        select(Fulfillment.id).join(HouseAccount, Fulfillment.house_account_id == HouseAccount.id)
        .where(HouseAccount.adapter_key.in_(fast), HouseAccount.active,
               Fulfillment.status.in_([Status.PENDING.value, Status.PENDING_SHIPMENT.value,
                                       Status.SHIPPED.value])).limit(1))
    db.session.commit()  # end the read: on SQLite a transaction holds the write lock
    if moving is None:
        return False
    try:
        from jobs.context import FlaskJob
        scheduler = Scheduler(queue_name=current_app.config["RQ_QUEUE"],
                              connection=connection(), job_class=FlaskJob)
        if FOLLOW_UP_ID not in scheduler:
            scheduler.enqueue_in(timedelta(seconds=min(fast.values())),
                                 "jobs.tracking.check_tracking", job_id=FOLLOW_UP_ID,
                                 job_result_ttl=600)
        return True
    except Exception as exc:  # noqa: BLE001 (the regular schedule still runs)
        log.warning("could not schedule a follow-up tracking check (%s)", exc)
        return False
