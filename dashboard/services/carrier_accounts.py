"""Carrier accounts: the tracker an account's encrypted credentials build, and which tracker
follows each carrier's packages during a check run.

A carrier needs one account: any account of a carrier can track every number of that carrier,
so the check uses the carrier's active account (the newest, if an admin made several). The
Sandbox carrier needs none.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select, update

from adapters import CARRIERS, get_carrier
from adapters.base import CarrierTracker
from dashboard import credentials
from dashboard.extensions import db
from dashboard.models import CarrierAccount
from dashboard.services import outbound

#: the carrier that follows Sandbox shipments, with no account
SANDBOX = "sandbox"


def build_tracker(carrier_key: str, encrypted: str) -> CarrierTracker:
    """The tracker for ``carrier_key`` built from an account's encrypted credentials, with the
    account's base URL (when set) and the app's HTTP timeout and clock."""
    values = credentials.decrypt(encrypted)
    return outbound.build(get_carrier(carrier_key), values,
                          clock=current_app.config.get("CLOCK"),
                          timeout=current_app.config["HTTP_TIMEOUT"])


@dataclass(frozen=True)
class _Active:
    id: int
    credentials_encrypted: str
    paused_until: datetime | None


class CarrierTrackers:
    """The trackers of one check run: the active accounts are read in one query when the run
    starts, and each carrier's tracker is built once, when first asked for."""

    def __init__(self) -> None:
        rows = db.session.execute(
            select(CarrierAccount.carrier_key, CarrierAccount.id,
                   CarrierAccount.credentials_encrypted, CarrierAccount.paused_until)
            .where(CarrierAccount.active).order_by(CarrierAccount.id)).all()
        #: carrier key -> its active account (the newest wins)
        self._accounts = {r.carrier_key: _Active(r.id, r.credentials_encrypted, r.paused_until)
                          for r in rows if r.carrier_key in CARRIERS}
        self._built: dict[str, CarrierTracker | None] = {}

    def tracker_for(self, carrier_key: str) -> CarrierTracker | None:
        """The tracker following ``carrier_key``, or None when no active account can."""
        if carrier_key not in self._built:
            account = self._accounts.get(carrier_key)
            if carrier_key == SANDBOX:
                self._built[carrier_key] = CARRIERS[SANDBOX](
                    {}, clock=current_app.config.get("CLOCK"))
            elif account is None:
                self._built[carrier_key] = None
            else:
                self._built[carrier_key] = build_tracker(carrier_key,
                                                         account.credentials_encrypted)
        return self._built[carrier_key]

    def paused(self, carrier_key: str, at: datetime) -> bool:
        """Whether the carrier asked us to wait and the wait is not over at ``at``."""
        account = self._accounts.get(carrier_key)
        return bool(account and account.paused_until and account.paused_until > at)

    def pause(self, carrier_key: str, until: datetime) -> bool:
        """Leave the carrier's account alone until ``until`` (this run and the ones before
        then). Returns False for a carrier without an account, which cannot be paused. The
        caller commits."""
        account = self._accounts.get(carrier_key)
        if account is None:
            return False
        db.session.execute(update(CarrierAccount).where(CarrierAccount.id == account.id)
                           .values(paused_until=until))
        self._accounts[carrier_key] = _Active(account.id, account.credentials_encrypted, until)
        return True


def tracker_for(carrier_key: str) -> CarrierTracker | None:
    """A tracker for ``carrier_key`` built from its active carrier account, the Sandbox
    carrier for "sandbox", else None. A check run keeps one ``CarrierTrackers`` instead, so
    the accounts are read once per run, not once per carrier."""
    return CarrierTrackers().tracker_for(carrier_key)
