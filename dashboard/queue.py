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
