"""The job class that gives every job an app context, and job-id-tagged logging."""
from __future__ import annotations

import logging

from rq.job import Job

_app = None


def use_app(app) -> None:
    """Run jobs in ``app`` (the worker command and tests set it; otherwise one is built
    from the environment on the first job)."""
    global _app
    _app = app


def get_app():
    global _app
    if _app is None:
        from dashboard import create_app
        _app = create_app()
    return _app


class FlaskJob(Job):
    """An RQ job performed inside the CRM app's context."""

    def perform(self):
        app = get_app()
        with app.app_context():
            try:
                return super().perform()
            finally:
                from dashboard.extensions import db
                db.session.remove()


class JobIdFilter(logging.Filter):
    """Adds ``job_id`` to every log record (``-`` outside a job)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from rq import get_current_job
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
