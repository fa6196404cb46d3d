"""Which carrier tracker follows a carrier's packages."""
from __future__ import annotations

from flask import current_app

from adapters import CARRIERS


def tracker_for(carrier_key: str):
    """A tracker for ``carrier_key``, or None when no carrier account can track it.

    The Sandbox carrier needs no account; real carriers need one (Admin > Carriers).
    """
    if carrier_key == "sandbox":
        return CARRIERS["sandbox"]({}, clock=current_app.config.get("CLOCK"))
    return None
