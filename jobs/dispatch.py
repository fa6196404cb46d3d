"""Dispatch jobs: the hourly sweep and sends asked for by order creation or Send now."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Flask

from dashboard.services.dispatch import dispatch
from dashboard.services.queue import provide_send_job
from jobs.tracking import follow_fast_houses


def init_app(app: Flask) -> None:
    """Give the app's enqueue port its send job (services cannot import ``jobs``)."""
    provide_send_job(app, send_now)


def hourly_dispatch(slot: str | None = None) -> dict:
    """The scheduled sweep. Its run key is the UTC hour, so a repeated firing or a second
    scheduler in the same hour sends nothing."""
    slot = slot or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H")
    return _finish(dispatch(run_key=f"hourly:{slot}"))


def send_now(account_id: int | None = None, fulfillment_ids: list[int] | None = None,
             ignore_due: bool = False) -> dict:
    """Send what is due now for one account, or the given fulfillments."""
    return _finish(dispatch(account_id=account_id, fulfillment_ids=fulfillment_ids,
                            ignore_due=ignore_due))


def _finish(summary) -> dict:
    """The run's figures as the job's result; orders now on their way at a house that ships
    in seconds get a tracking check soon."""
    if summary.sent:
        follow_fast_houses()
    return {"claimed": summary.claimed, "sent": summary.sent, "failed": summary.failed,
            "deferred": summary.deferred, "skipped_run": summary.skipped_run}
