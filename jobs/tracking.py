"""Tracking jobs: ask houses for tracking numbers, then carriers for progress."""
from __future__ import annotations


def check_tracking() -> dict:
    """House tracking, then carrier status; each looks only at records that are due."""
    from dashboard.services.queue import follow_fast_houses
    from dashboard.services.tracking import check_carriers, check_houses
    houses = check_houses()
    carriers = check_carriers()
    follow_fast_houses()
    return {"house_checked": houses.checked, "house_moved": houses.moved,
            "carrier_checked": carriers.checked, "carrier_moved": carriers.moved}
