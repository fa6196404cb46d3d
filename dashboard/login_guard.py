"""Guarding the dashboard login against guessing and probing.

- Failed logins are counted in Redis (Flask-Limiter's storage and windows, shared
  by every process) per account and per caller address. ``LOGIN_ACCOUNT_LIMIT`` failures
  (20 per 15 minutes) lock that login — even the right password is refused until the
  window moves on —; ``LOGIN_ADDRESS_LIMIT`` failures turn the address away.
- Every attempt costs one password hash check: an unknown or inactive email is checked
  against a dummy hash, so the answer's timing does not tell which emails exist.
"""
from __future__ import annotations

import logging
import secrets
import time
from functools import lru_cache

from flask import current_app, request
from limits import parse
from werkzeug.security import check_password_hash, generate_password_hash

from dashboard.extensions import limiter

log = logging.getLogger(__name__)

DEFAULT_ACCOUNT_LIMIT = "20 per 15 minutes"
DEFAULT_ADDRESS_LIMIT = "100 per 15 minutes"


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash (same method and cost as real ones) that no password matches."""
    return generate_password_hash(secrets.token_urlsafe(24))


def check(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; with no hash the dummy one is checked (same cost)."""
    matches = check_password_hash(password_hash or dummy_hash(), password)
    return matches and password_hash is not None


def _items(email: str):
    config = current_app.config
    return ((parse(config.get("LOGIN_ACCOUNT_LIMIT") or DEFAULT_ACCOUNT_LIMIT),
             ("login-account", email.strip().lower()), "this login"),
            (parse(config.get("LOGIN_ADDRESS_LIMIT") or DEFAULT_ADDRESS_LIMIT),
             ("login-address", request.remote_addr or ""), "this address"))


def locked(email: str) -> str | None:
    """A sentence when too many failures lock this email or address, else None.
    Fails open (logged) when Redis is down: the password check still applies."""
    if not limiter.enabled:
        return None
    for item, keys, what in _items(email):
        try:
            if limiter.limiter.test(item, *keys):
                continue
            reset = limiter.limiter.get_window_stats(item, *keys).reset_time
        except Exception as exc:  # noqa: BLE001 - a broken counter must not lock everyone out
            log.warning("login limit storage unavailable: %s", exc)
            return None
        minutes = max(1, round((reset - time.time()) / 60)) if reset else 15
        return (f"Too many failed logins for {what}; it is locked. Try again in about "
                f"{minutes} minute{'s' if minutes != 1 else ''}.")
    return None


def count_failure(email: str) -> None:
    if not limiter.enabled:
        return
    for item, keys, _what in _items(email):
        try:
            limiter.limiter.hit(item, *keys)
        except Exception as exc:  # noqa: BLE001
            log.warning("login limit storage unavailable: %s", exc)
            return
