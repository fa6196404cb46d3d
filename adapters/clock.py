"""The project's one way to say "now": naive UTC, as the database columns, the adapters' clocks
and the dashboard's clock (``dashboard.clock.now``, which tests may freeze) hold it.
``datetime.utcnow`` said the same but is deprecated since Python 3.12."""
from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    """The current time as naive UTC."""
    return datetime.now(timezone.utc).replace(tzinfo=None)
