"""Who is calling the pull-house API: API user logins, allow-lists, permissions, rate limits.

Every call of the JSON API and of the ShipWorks module goes through ``authenticate``:

1. a caller address that keeps failing is turned away before any password is checked;
2. an address outside the user's allow-list (``request.remote_addr``, which ``ProxyFix``
   has already corrected when ``PROXY_COUNT`` is set) is refused before the password is
   looked at: the answer is the same whether the password is right or wrong;
3. the password is checked in constant time: an unknown login id (or a caller outside the
   list) is checked against a dummy hash, so every refusal costs the same;
4. a disabled user or a missing endpoint permission is refused;
5. the call counts against the user's rate limit (Flask-Limiter's strategy on Redis).

Calls are logged with their parameters but never the password.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, request
from limits import parse
from sqlalchemy import or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from dashboard.clock import now
from dashboard.extensions import db, limiter
from dashboard.models import ApiUser
from dashboard.services import failure_counts

log = logging.getLogger("dashboard.api")

#: calls per API user, across all endpoints; ``API_RATE_LIMIT`` in the config overrides it
DEFAULT_RATE_LIMIT = "120 per minute"
#: failed logins per caller address before it is turned away; ``API_AUTH_FAILURE_LIMIT``
DEFAULT_FAILURE_LIMIT = "30 per minute"
#: parameters never written to the log
SECRET_PARAMS = frozenset({"password"})
LOGIN_ID_MAX = PASSWORD_MAX = 32
#: how often last_used_at is written at most, so a busy house does not write every call
LAST_USED_RESOLUTION = timedelta(minutes=1)

PERMISSION_LABELS = {
    "order_query": "Order Query (/order/query/)",
    "fulfillment_query": "Fulfillment Query (/fulfillment/query/, ShipWorks downloads)",
    "fulfillment_update": "Update Fulfillment (/fulfillment/update/, ShipWorks updates)",
}

_dummy_hash: str | None = None


def _dummy() -> str:
    """A hash no password matches, checked for unknown login ids (same cost as a real one)."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = generate_password_hash(secrets.token_urlsafe(24))
    return _dummy_hash


@dataclass(frozen=True)
class Refusal:
    """Why a call was turned away: a short code (ShipWorks shows it) and a sentence."""

    code: str
    message: str
    retry_after: int = 0


class Refused(Exception):
    def __init__(self, refusal: Refusal):
        super().__init__(refusal.message)
        self.refusal = refusal


# ------------------------------------------------------------------ passwords and lists


def generate_password() -> str:
    """24 URL-safe characters (no ``&``, which Konnektive clients cannot send)."""
    return secrets.token_urlsafe(18)


def parse_allowlist(text: str) -> tuple[list[str], list[str]]:
    """(normalised entries, error sentences) for an allow-list, one entry per line."""
    entries, errors = [], []
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        try:
            network = ipaddress.ip_network(line, strict=False)
        except ValueError:
            errors.append(f"“{line}” is not an IP address or CIDR range (e.g. 203.0.113.7 "
                          "or 203.0.113.0/24).")
            continue
        entries.append(str(network.network_address) if network.num_addresses == 1
                       and "/" not in line else str(network))
    return list(dict.fromkeys(entries)), errors


def address_allowed(allowlist: str, address: str | None) -> bool:
    """Whether ``address`` falls in one of the allow-list's addresses or ranges."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    entries, _errors = parse_allowlist(allowlist)
    return any(ip in ipaddress.ip_network(entry, strict=False) for entry in entries)


def nul_fields(values) -> list[str]:
    """Parameters holding a NUL character: no client means one and PostgreSQL cannot
    store or compare one, so calls carrying them are refused before any query."""
    return sorted({name for name, value in values.items(multi=True) if "\x00" in value})


def permissions_of(user: ApiUser) -> set[str]:
    return {p for p in (user.permissions or "").split(",") if p}


# ------------------------------------------------------------------ the checks


def rate_limit() -> str:
    """The per-user limit in force, as Flask-Limiter writes it ("120 per minute")."""
    return current_app.config.get("API_RATE_LIMIT") or DEFAULT_RATE_LIMIT


def _rate(config_key: str, default: str):
    return parse(current_app.config.get(config_key) or default)


def _limit_hit(item, *identifiers: str) -> Refusal | None:
    """Count one call; a Refusal when the window is full. Fails open if Redis is down."""
    if not limiter.enabled:
        return None
    try:
        if limiter.limiter.hit(item, *identifiers):
            return None
        reset = limiter.limiter.get_window_stats(item, *identifiers).reset_time
    except Exception as exc:  # noqa: BLE001 - a broken counter must not stop the API
        log.warning("rate limit storage unavailable, call allowed: %s", exc)
        return None
    wait = max(1, int(reset - time.time()) if reset else 60)
    wait = min(wait, item.get_expiry())
    return Refusal("RATE_LIMIT", f"Rate limit exceeded: at most {item}. Try again in "
                                 f"{wait} seconds.", retry_after=wait)


def _failure_limit() -> str:
    return current_app.config.get("API_AUTH_FAILURE_LIMIT") or DEFAULT_FAILURE_LIMIT


def _failures_exceeded(address: str) -> Refusal | None:
    if failure_counts.exceeded(_failure_limit(), "api-auth-failures", address) is None:
        return None
    return Refusal("RATE_LIMIT", "Too many failed logins from this address; try again in a "
                                 "minute.", retry_after=60)


def _count_failure(address: str) -> None:
    failure_counts.count(_failure_limit(), "api-auth-failures", address)


#: HMAC of (login id, stored hash, password) -> when the proof expires. A pull house sends
#: the same password with every call, and scrypt costs about 100 ms of CPU per check, so a
#: password verified once is remembered for a few minutes. Wrong passwords are never
#: remembered (each costs a full check), and a rotated password changes the stored hash.
_verified: dict[bytes, float] = {}
VERIFIED_SECONDS = 300
VERIFIED_MAX = 10_000


def _password_matches(user: ApiUser | None, password: str) -> bool:
    if user is None:
        check_password_hash(_dummy(), password)  # an unknown login costs what a real one does
        return False
    proof = hmac.new(current_app.config["SECRET_KEY"].encode(), b"\0".join(
        (user.login_id.encode(), user.password_hash.encode(), password.encode())),
        hashlib.sha256).digest()
    moment = time.monotonic()
    if _verified.get(proof, 0) > moment:
        return True
    if not check_password_hash(user.password_hash, password):
        return False
    if len(_verified) >= VERIFIED_MAX:
        _verified.clear()
    _verified[proof] = moment + VERIFIED_SECONDS
    return True


def authenticate(login_id: str | None, password: str | None, permission: str | None) -> ApiUser:
    """The API user making this request, or ``Refused`` saying why not.

    :param permission: the ApiUser.PERMISSIONS entry the endpoint needs; None when being
        a valid user is enough (ShipWorks' getmodule, getstore, getstatuscodes)
    """
    address = request.remote_addr or ""
    login_id = (login_id or "").strip()
    password = password or ""
    blocked = _failures_exceeded(address)
    if blocked:
        raise Refused(blocked)
    user = None
    if login_id and len(login_id) <= LOGIN_ID_MAX:
        user = db.session.scalar(select(ApiUser).where(ApiUser.login_id == login_id))
    outside = user is not None and not address_allowed(user.ip_allowlist, address)
    password_ok = _password_matches(None if outside else user, password[:PASSWORD_MAX * 4])
    if outside:
        _count_failure(address)
        raise Refused(Refusal("IP_NOT_ALLOWED",
                              f"Requests from IP address {address} are not allowed for this "
                              "API user."))
    if user is None or not password_ok or not password or len(password) > PASSWORD_MAX:
        _count_failure(address)
        raise Refused(Refusal("AUTH", "Invalid login credentials."))
    if not user.active:
        raise Refused(Refusal("DISABLED", "This API user is disabled."))
    if permission and permission not in permissions_of(user):
        raise Refused(Refusal("NOT_PERMITTED",
                              f"This API user is not permitted to use "
                              f"{PERMISSION_LABELS[permission]}."))
    over = _limit_hit(_rate("API_RATE_LIMIT", DEFAULT_RATE_LIMIT), "api-user", str(user.id))
    if over:
        raise Refused(over)
    _touch(user)
    return user


def _touch(user: ApiUser) -> None:
    """Record when the user was last seen (at most once a minute); committed with the call."""
    at = now()
    db.session.execute(update(ApiUser).where(
        ApiUser.id == user.id,
        or_(ApiUser.last_used_at.is_(None), ApiUser.last_used_at < at - LAST_USED_RESOLUTION))
        .values(last_used_at=at))


def log_call(endpoint: str, user: ApiUser | None, outcome: str) -> None:
    """One log line per call: who, from where, which parameters (never secrets), outcome."""
    params = {k: v for k, v in request.values.items() if k not in SECRET_PARAMS}
    login = user.login_id if user else "-"
    log.info("api %s by %s from %s %s: %s", endpoint, login, request.remote_addr,
             params, outcome)
