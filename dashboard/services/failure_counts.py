"""Counting failed authentications in Redis with Flask-Limiter's storage, shared by every
process: the dashboard login (per email and per address), the API (per address) and the
webhook routes (per route and address) turn a caller away once a window holds too many
failures.

A broken counter fails open (and logs it): the authentication itself still applies.
"""
from __future__ import annotations

import logging
import time

from limits import parse

from dashboard.extensions import limiter

log = logging.getLogger(__name__)


def exceeded(limit: str, *keys: str) -> int | None:
    """Seconds until ``limit`` ("20 per 15 minutes") lets ``keys`` fail again, or None
    while it has room."""
    if not limiter.enabled:
        return None
    item = parse(limit)
    try:
        if limiter.limiter.test(item, *keys):
            return None
        reset = limiter.limiter.get_window_stats(item, *keys).reset_time
    except Exception as exc:  # noqa: BLE001 - a broken counter must not lock everyone out
        log.warning("failure counter unavailable, call allowed: %s", exc)
        return None
    return max(1, int(reset - time.time())) if reset else item.get_expiry()


def count(limit: str, *keys: str) -> None:
    """Count one failure of ``keys`` against ``limit``."""
    if not limiter.enabled:
        return
    try:
        limiter.limiter.hit(parse(limit), *keys)
    except Exception as exc:  # noqa: BLE001
        log.warning("failure counter unavailable: %s", exc)
