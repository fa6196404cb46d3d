"""The job class that gives every job an app context, and job-id-tagged logging."""
from __future__ import annotations

import logging

from rq import get_current_job
from rq.job import Job

from dashboard.extensions import db

_app = None


def use_app(app) -> None:
    """Run jobs in ``app``: the ``flask worker`` command and the tests set it."""
    global _app
    _app = app


def get_app():
    if _app is None:
        raise RuntimeError("No app to run jobs in: start workers with `flask worker` (it "
                           "calls jobs.context.use_app), not with `rq worker`.")
    return _app


class FlaskJob(Job):
    """An RQ job performed inside the CRM app's context."""

    def perform(self):
        app = get_app()
        with app.app_context():
            try:
                return super().perform()
            finally:
                db.session.remove()


class JobIdFilter(logging.Filter):
    """Adds ``job_id`` to every log record (``-`` outside a job)."""

    def filter(self, record: logging.LogRecord) -> bool:
        job = get_current_job()
        record.job_id = job.id if job else "-"
        return True


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(JobIdFilter())
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s [job %(job_id)s] %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
