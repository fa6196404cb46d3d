"""Guarding the dashboard login against guessing and probing.

- Failed logins are counted (``failure_counts``) per account and per caller address.
  ``LOGIN_ACCOUNT_LIMIT`` failures (20 per 15 minutes) lock that login — even the right
  password is refused until the window ends —; ``LOGIN_ADDRESS_LIMIT`` failures turn the
  address away.
- Every attempt costs one password hash check: an unknown or inactive email is checked
  against a dummy hash, so the answer's timing does not tell which emails exist.
"""
from __future__ import annotations

import secrets
from functools import lru_cache

from flask import current_app, request
from werkzeug.security import check_password_hash, generate_password_hash

from dashboard.services import failure_counts


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash (same method and cost as real ones) that no password matches."""
    return generate_password_hash(secrets.token_urlsafe(24))


def check(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; with no hash the dummy one is checked (same cost)."""
    matches = check_password_hash(password_hash or dummy_hash(), password)
    return matches and password_hash is not None


def _limits(email: str):
    config = current_app.config
    return ((config["LOGIN_ACCOUNT_LIMIT"], ("login-account", email.strip().lower()),
             "this login"),
            (config["LOGIN_ADDRESS_LIMIT"], ("login-address", request.remote_addr or ""),
             "this address"))


def locked(email: str) -> str | None:
    """A sentence when too many failures lock this email or address, else None."""
    for limit, keys, what in _limits(email):
        wait = failure_counts.exceeded(limit, *keys)
        if wait is not None:
            minutes = max(1, round(wait / 60))
            return (f"Too many failed logins for {what}; it is locked. Try again in about "
                    f"{minutes} minute{'s' if minutes != 1 else ''}.")
    return None


def count_failure(email: str) -> None:
    for limit, keys, _what in _limits(email):
        failure_counts.count(limit, *keys)
