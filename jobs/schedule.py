"""The periodic jobs, declared as data and registered with fixed ids.

``register`` reconciles the scheduler with this table: a new entry is added, an
unchanged one is left alone, a changed one is replaced, and a scheduled job with our
prefix that is no longer declared is removed. Restarts therefore neither duplicate nor
drop schedules. The scheduler runs in UTC and reconciles at every tick, so a Redis that
restarted empty gets its schedules back within one interval. Only the scheduler holding
the lock in ``jobs.leadership`` ticks; any other waits as its standby.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import redis
from rq_scheduler import Scheduler

from jobs.dispatch import hourly_dispatch
from jobs.shutdown import Shutdown
from jobs.tracking import check_tracking

log = logging.getLogger(__name__)

PREFIX = "periodic-"


@dataclass(frozen=True)
class Periodic:
    id: str
    cron: str
    func: Callable
    description: str

    @property
    def func_name(self) -> str:
        """The dotted name RQ stores for ``func``."""
        return f"{self.func.__module__}.{self.func.__qualname__}"


SCHEDULES = (
    Periodic(PREFIX + "dispatch-hourly", "15 * * * *", hourly_dispatch,
             "Send held fulfillments to their houses (every hour at :15)."),
    Periodic(PREFIX + "tracking", "*/15 * * * *", check_tracking,
             "Ask houses for tracking and carriers for progress (every 15 minutes)."),
)


def register(scheduler, queue_name: str, schedules=SCHEDULES) -> dict[str, str]:
    """Make the scheduler hold exactly ``schedules``; returns id -> what was done."""
    existing = {job.id: job for job in scheduler.get_jobs() if job.id.startswith(PREFIX)}
    done = {}
    for entry in schedules:
        job = existing.pop(entry.id, None)
        if job is not None and job.meta.get("cron_string") == entry.cron \
                and job.func_name == entry.func_name and job.origin == queue_name:
            done[entry.id] = "unchanged"
            continue
        if job is not None:
            scheduler.cancel(job)
        scheduler.cron(entry.cron, func=entry.func, id=entry.id, queue_name=queue_name,
                       description=entry.description, result_ttl=3600, timeout=3600,
                       use_local_timezone=False)
        done[entry.id] = "replaced" if job is not None else "added"
    for job_id, job in existing.items():
        scheduler.cancel(job)
        done[job_id] = "removed"
    return done


class ReconcilingScheduler(Scheduler):
    """rq-scheduler that re-registers the periodic jobs before each tick."""

    def __init__(self, *args, schedules=SCHEDULES, **kwargs):
        super().__init__(*args, **kwargs)
        self._schedules = schedules

    def enqueue_jobs(self):
        register(self, self.queue_name, self._schedules)
        return super().enqueue_jobs()


def run_forever(make_scheduler, lock, *, interval: float, retry_seconds: float = 2.0) -> None:
    """Tick every ``interval`` seconds while this process holds the scheduler lock (see
    ``jobs.leadership``), wait as the standby while another one holds it, ride out Redis
    going away, and stop promptly on SIGTERM or SIGINT in every one of those states."""
    stop = Shutdown()
    scheduler, role = None, None
    try:
        while True:
            wait = interval
            try:
                with stop.busy():
                    if lock.hold():
                        if role != "active":
                            log.info("this scheduler is active (%s)", lock.token)
                        role = "active"
                        scheduler = scheduler or make_scheduler()
                        scheduler.enqueue_jobs()
                    else:
                        if role != "standby":
                            log.info("standby: %s holds the scheduler lock", lock.holder())
                        role, scheduler = "standby", None
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                log.warning("scheduler lost Redis (%s); retrying in %.0f s", exc, retry_seconds)
                role, scheduler = None, None
                wait = retry_seconds
            stop.sleep(wait)
    finally:
        try:
            lock.release()
        except redis.RedisError:
            pass  # it lapses on its own
        log.info("scheduler stopped")
