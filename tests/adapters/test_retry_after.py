"""The one Retry-After reader the houses' HTTP layer and the carrier trackers share, and the
house timestamps Python's own ``fromisoformat`` now reads."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from adapters.http import parse_time
from adapters.retry_after import retry_after_seconds

NOW = datetime(2015, 10, 21, 7, 28, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("header", "seconds"), [
    ("120", 120.0),
    (" 30 ", 30.0),
    ("1.5", 1.5),                               # the houses' rule: a fraction is a wait
    ("Wed, 21 Oct 2015 07:30:00 GMT", 120.0),   # the carriers' rule: a date, from now
    ("Wed, 21 Oct 2015 07:30:00 -0000", 120.0),
    ("Wed, 21 Oct 2015 07:00:00 GMT", 0.0),     # already past: no wait
])
def test_is_a_wait_read_as_seconds_or_a_date(header, seconds):
    assert retry_after_seconds(header, now=NOW) == seconds


@pytest.mark.parametrize("header", [None, "", "soon", "-5", "inf", "nan", "1e3", "0x10",
                                    "9" * 400, "Wed, 32 Oct 2015 07:30:00 GMT"])
def test_is_an_unreadable_wait_no_answer(header):
    """Negative, infinite or word-like waits leave the caller's default in place (the
    houses' ``float()`` had read "-5" as 0 and "inf" as a wait for ever)."""
    assert retry_after_seconds(header, now=NOW) is None


@pytest.mark.parametrize(("value", "moment"), [
    ("2026-11-02T09:00:00.1234567", datetime(2026, 11, 2, 9, 0, 0, 123456)),  # ShipStation
    ("2026-11-02T09:00:00Z", datetime(2026, 11, 2, 9, 0, 0)),
    ("2026-11-02T01:00:00.5-08:00", datetime(2026, 11, 2, 9, 0, 0, 500000)),
    ("2026-11-02", datetime(2026, 11, 2)),
    ("2026-11-02T09:00:00.1234567Z", datetime(2026, 11, 2, 9, 0, 0, 123456)),
    ("yesterday", None),
    ("", None),
    (20261102, None),
])
def test_are_house_timestamps_read_as_naive_utc(value, moment):
    assert parse_time(value) == moment
