"""The port through which the web process and the services put work on the RQ queue.

Services never import ``jobs`` (the jobs import the services), so the job that sends
orders is handed to the app at start (``jobs.dispatch.init_app``) and looked up here by
its role; callers ask ``enqueue_dispatch`` and never name a job by string."""
from __future__ import annotations

import logging
from typing import Callable

from flask import Flask, current_app
from rq import Queue

from dashboard.redis_conn import connection

log = logging.getLogger(__name__)

#: ``app.extensions`` key of the job function that sends held fulfillments
SEND_JOB = "send_job"


def queue() -> Queue:
    """The app's RQ queue (the worker runs its jobs inside the app, see ``jobs.context``)."""
    return Queue(current_app.config["RQ_QUEUE"], connection=connection())


def provide_send_job(app: Flask, job: Callable) -> None:
    """Tell ``app`` which job function sends held fulfillments."""
    app.extensions[SEND_JOB] = job


def enqueue_dispatch(*, account_id: int | None = None, fulfillment_ids: list[int] | None = None,
                     ignore_due: bool = False):
    """Queue a send now. If Redis is unreachable the orders still wait safely in Hold for
    the hourly run, so this logs instead of failing the caller's request."""
    job = current_app.extensions[SEND_JOB]
    try:
        return queue().enqueue(job, kwargs={
            "account_id": account_id, "fulfillment_ids": fulfillment_ids,
            "ignore_due": ignore_due}, result_ttl=600, failure_ttl=7 * 24 * 3600)
    except Exception as exc:  # noqa: BLE001 (Redis down must not lose the order)
        log.warning("could not queue a send now (%s); the hourly run will send it", exc)
        return None
