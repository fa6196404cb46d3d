"""The one clock the CRM reads: naive UTC, replaceable in tests through ``config["CLOCK"]``."""
from __future__ import annotations

from datetime import datetime

from flask import current_app, has_app_context

from adapters.clock import utcnow


def now() -> datetime:
    """The current time as the app sees it (a test may have frozen or advanced it)."""
    if has_app_context():
        clock = current_app.config.get("CLOCK")
        if clock is not None:
            return clock()
    return utcnow()
