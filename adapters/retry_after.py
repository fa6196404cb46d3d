"""Reading a ``Retry-After`` header: how long a house or a carrier asked us to wait.

RFC 9110 §10.2.3 allows two forms, delay-seconds (``120``) and an HTTP date
(``Wed, 21 Oct 2015 07:28:00 GMT``); the date is read by the standard library's
``email.utils.parsedate_to_datetime``. Houses also name the wait in their own headers
(ShipStation ``X-Rate-Limit-Reset``, ShipBob ``x-retry-after``), read the same way.

This one function serves both the house HTTP layer (``adapters.http``) and the karrio
carrier trackers (``adapters.carriers``), which used to read the header by different rules.
The merged rule, and which side it came from:

- seconds may carry a fraction (``1.5``): the houses' rule, as ShipStation's reset header
  is not always whole; the carriers' reader took digits only;
- an HTTP date counts from now, and one already past means no wait (0 s): the carriers'
  rule (the houses read no dates at all and fell back to their default); the carriers'
  floor of 1 s is gone, since the tracker pauses a carrier at least a minute anyway;
- anything else (negative, ``inf``, ``nan``, words) is no answer (None) and the caller keeps
  its own default: the carriers' rule. The houses' ``float()`` had taken ``-5`` as 0 and
  ``inf`` as a wait for ever, neither of which a server can mean.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

#: up to ten digits: a longer number is no wait a server means (and could overflow to inf)
_SECONDS = re.compile(r"\d{1,10}(?:\.\d+)?")


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """The wait a ``Retry-After``-style header asks for, in seconds from ``now`` (aware UTC,
    default the current time), or None when the header is missing or unreadable."""
    text = (value or "").strip()
    if _SECONDS.fullmatch(text):
        return float(text)
    try:
        then = parsedate_to_datetime(text)
    except (TypeError, ValueError, OverflowError):
        return None
    if then.tzinfo is None:  # "-0000": RFC 5322 for a UTC time of unknown origin
        then = then.replace(tzinfo=timezone.utc)
    return max(0.0, (then - (now or datetime.now(timezone.utc))).total_seconds())
