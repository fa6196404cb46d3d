"""The HTTP plumbing the push-house adapters share.

``HouseSession.call`` sends one request and returns the response for the adapter to read,
except when the answer cannot be about the request itself: then it raises
``HouseCallFailed`` (an ``AdapterError``) saying whether a retry may help, when, and whether
the house may have received the request:

- connection refused, DNS failure or connect timeout: transient, not received;
- read timeout or a connection dropped after sending: transient, maybe received;
- 5xx: transient, maybe received (the house may have processed it before failing);
- 429: transient, not received, ``retry_after`` from the house's header;
- 401/403: not transient, ``FailureReason.CREDENTIALS``.

Every other status comes back to the adapter, which knows the house's own error shapes;
``error_message`` turns any of those bodies into one readable sentence. ``get_own_url``
reads a full URL a house handed us (a webhook's resource) the same way, but only on the
account's own API origin and without following redirects.
"""
from __future__ import annotations

import math
import re
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Sequence
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from adapters.base import (
    AdapterError,
    FailureReason,
    Rejected,
    SharedAllowance,
    Transient,
)
from adapters.retry_after import retry_after_seconds

#: seconds to wait after a 429 whose answer names no time
DEFAULT_RATE_LIMIT_WAIT = 60.0

_REASON_WORDS = (
    # stock first: "insufficient inventory for SKU X" is a stock problem, not a SKU one
    (FailureReason.STOCK, ("stock", "inventory", "backorder")),
    (FailureReason.SKU, ("sku", "product")),
    (FailureReason.ADDRESS, ("address", "zip", "postal", "street", "city", "country",
                             "recipient", "ship_to", "shipto")),
    (FailureReason.CREDENTIALS, ("unauthorized", "unauthenticated", "forbidden", "store",
                                 "channel")),
)


class HouseCallFailed(AdapterError):
    """A call that got no answer about the request itself (see the module docstring)."""

    def __init__(self, message: str, *, transient: bool = True, retry_after: float = 300.0,
                 reason: FailureReason = FailureReason.OTHER, maybe_received: bool = False,
                 status: int | None = None):
        super().__init__(message, transient=transient, retry_after=retry_after, reason=reason)
        self.maybe_received = maybe_received
        self.status = status

    def outcome(self, key: str) -> Rejected | Transient:
        """What this failure means for the order ``key`` that was being sent."""
        if not self.transient:
            return Rejected(key, self.reason, str(self))
        return Transient(key, str(self), self.retry_after, self.maybe_received,
                         rate_limited=self.status == 429)


def reason_for(text: str) -> FailureReason:
    """The kind of problem a house's refusal describes, from its words."""
    lowered = text.lower()
    for reason, words in _REASON_WORDS:
        if any(word in lowered for word in words):
            return reason
    return FailureReason.OTHER


def error_message(response: requests.Response) -> str:
    """One sentence from whatever error body the house sent: ``message``/``Message``,
    ``ExceptionMessage``, problem-detail ``title`` and ``errors``/``ModelState`` maps
    (field names kept, they say what is wrong), Amazon's ``errors`` list, or the raw text."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:300] or f"HTTP {response.status_code} {response.reason}"
    parts: list[str] = []
    if isinstance(body, dict):
        for name in ("message", "Message", "ExceptionMessage", "title", "error"):
            if isinstance(body.get(name), str) and body[name] not in parts:
                parts.append(body[name])
        details = body.get("errors") or body.get("ModelState")
        if details is None and not parts:
            details = body  # ShipBob's 422s are a bare {field: [messages]} map
        if isinstance(details, dict):
            for field, messages in details.items():
                text = "; ".join(messages) if isinstance(messages, list) else str(messages)
                parts.append(f"{field}: {text}" if field else text)
        elif isinstance(details, list):  # Amazon's [{"code", "message", "details"}]
            parts.extend(" ".join(str(e[k]) for k in ("message", "details") if e.get(k))
                         for e in details if isinstance(e, dict))
    elif isinstance(body, list):
        parts.extend(str(item) for item in body)
    return " ".join(parts) or f"HTTP {response.status_code} {response.reason}"


def parse_time(value: Any) -> datetime | None:
    """A house's timestamp as naive UTC (ShipStation writes seven fractional digits, others
    an offset or ``Z``: Python 3.11's ``fromisoformat`` reads them all); dates alone are
    midnight. None for anything unreadable."""
    if not value or not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def utc_iso(moment: datetime) -> str:
    """Our naive-UTC time as an RFC 3339 ``date-time`` with its offset, as houses whose
    documents say ``format: date-time`` read it."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.isoformat(timespec="seconds")


def _not_sent(exc: requests.ConnectionError) -> bool:
    """True when the connection was never made, so the house cannot have the request."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


class ForeignURL(ValueError):
    """A URL a house handed us points outside the account's own API origin."""


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of ``url``, the port made explicit for http and https."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = -1  # an unreadable port never matches
    return scheme, (parts.hostname or "").lower(), port or {"http": 80, "https": 443}.get(scheme)


def same_origin(url: str, base_url: str) -> bool:
    """Whether ``url`` is on the scheme, host and port of ``base_url``; a URL carrying a
    user name or password never is (it would override the account's auth)."""
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        return False
    return parts.scheme.lower() in ("http", "https") and origin(url) == origin(base_url)


def house_host(url: str, hosts: re.Pattern[str] | None) -> bool:
    """Whether ``url`` is an https URL on the default port whose host fully matches
    ``hosts``, with no user name or password in it."""
    parts = urlsplit(url)
    if hosts is None or parts.username is not None or parts.password is not None:
        return False
    scheme, host, port = origin(url)
    return scheme == "https" and port == 443 and bool(hosts.fullmatch(host))


class HouseSession:
    """A ``requests.Session`` bound to one house account: base URL, auth, timeout, and
    the header that says when a rate limit lifts (``retry_after_header``)."""

    def __init__(self, house: str, base_url: str, *, timeout: float, retry_after_header: str,
                 auth: tuple[str, str] | None = None, headers: dict[str, str] | None = None,
                 remaining_header: str | None = None, limit_header: str | None = None,
                 pace: Callable[[float], None] | None = None, max_pace: float = 0.0,
                 allowance: SharedAllowance | None = None):
        self.house = house
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry_after_header = retry_after_header
        #: with ``remaining_header`` and ``retry_after_header`` the house says how many calls
        #: are left and when they refill; at 0 the next call first waits (``pace``) for the
        #: refill, up to ``max_pace`` seconds, instead of running into a 429
        self.remaining_header = remaining_header
        #: with ``limit_header`` too, the first call of a window dates the window's end
        #: more precisely than the reset header, which the house rounds up to whole seconds
        self.limit_header = limit_header
        self.pace = pace
        self.max_pace = max_pace
        #: when given, the headers feed this allowance shared with the account's other
        #: clients and each call first takes from it, instead of pacing on our own count
        self.allowance = allowance
        self._refill_at: float | None = None
        self._window_end: float | None = None
        self._sent_at = 0.0
        #: (status, reason phrase) of the last answer, for a report that must not quote
        #: the house's body (Test connection)
        self.last_status: tuple[int, str] | None = None
        self.session = requests.Session()
        self.session.auth = auth
        self.session.headers.update({"Accept": "application/json", **(headers or {})})

    def call(self, method: str, path: str, *, json: Any = None,
             params: dict[str, Any] | Sequence[tuple[str, Any]] | None = None,
             data: dict[str, str] | None = None) -> requests.Response:
        """Send one request (a JSON body, or a form in ``data``); raises ``HouseCallFailed``
        as the module docstring says."""
        return self._request(method, self.base_url + path, json=json, params=params, data=data)

    def get_own_url(self, url: str, *, params: dict[str, Any] | None = None,
                    house_hosts: re.Pattern[str] | None = None) -> requests.Response:
        """GET a full URL the house handed us (a webhook's resource), with this account's
        auth, only when it is on the account's own API origin (or an https origin whose
        host fully matches ``house_hosts``, the house's other API hosts), and without
        following redirects (a redirect could carry the credentials elsewhere).

        :raise ForeignURL: the URL is on none of those origins
        """
        if not (same_origin(url, self.base_url) or house_host(url, house_hosts)):
            raise ForeignURL(f"{url[:200]} is not on {self.house}'s API host "
                             f"{origin(self.base_url)}; it was not fetched.")
        return self._request("GET", url, params=params)

    def _request(self, method: str, url: str, *, json: Any = None, params: Any = None,
                 data: Any = None) -> requests.Response:
        """One call; a redirect is never followed (it could carry the credentials to
        another host) and counts as a refusal."""
        self._wait_for_refill()
        self._sent_at, self._sent_wall = time.monotonic(), time.time()
        try:
            response = self.session.request(method, url, json=json, params=params, data=data,
                                            timeout=self.timeout, allow_redirects=False)
        except requests.ConnectionError as exc:
            if _not_sent(exc):
                raise HouseCallFailed(f"Could not reach {self.house} at {self.base_url}: "
                                      "the connection was refused or timed out.",
                                      retry_after=60.0) from exc
            raise HouseCallFailed(f"The connection to {self.house} broke before it answered; "
                                  "the request may have been received.",
                                  retry_after=60.0, maybe_received=True) from exc
        except requests.Timeout as exc:
            raise HouseCallFailed(f"{self.house} did not answer within {self.timeout:g} s; the "
                                  "request may have been received.", retry_after=60.0,
                                  maybe_received=True) from exc
        except requests.RequestException as exc:
            raise HouseCallFailed(f"The request to {self.house} failed: {exc}",
                                  transient=False) from exc
        self._note_allowance(response)
        status = response.status_code
        self.last_status = (status, response.reason or "")
        if 300 <= status < 400:
            raise HouseCallFailed(f"{self.house} answered with a redirect (HTTP {status}); it "
                                  "was not followed.", transient=False, status=status)
        if status in (401, 403):
            raise HouseCallFailed(f"{self.house} refused the credentials (HTTP {status}): "
                                  f"{error_message(response)}", transient=False,
                                  reason=FailureReason.CREDENTIALS, status=status)
        if status == 429:
            raise HouseCallFailed(f"{self.house} rate limit reached: {error_message(response)}",
                                  retry_after=self._retry_after(response), status=status)
        if status >= 500:
            raise HouseCallFailed(f"{self.house} server error (HTTP {status}): "
                                  f"{error_message(response)}", maybe_received=True,
                                  retry_after=self._retry_after(response, default=300.0),
                                  status=status)
        return response

    def _note_allowance(self, response: requests.Response) -> None:
        if not (self.remaining_header and (self.allowance or (self.pace and self.max_pace))):
            return
        try:
            remaining = int(response.headers[self.remaining_header])
            reset = float(response.headers[self.retry_after_header])
        except (KeyError, ValueError):
            return
        try:
            limit = int(response.headers[self.limit_header or ""])
        except (KeyError, ValueError):
            limit = None
        if self.allowance is not None:
            self.allowance.observe(self._sent_wall, remaining, limit, reset)
            return
        first_of_window = limit is not None and remaining == limit - 1
        if first_of_window:
            self._window_end = self._sent_at + reset
        if remaining > 0:
            self._refill_at = None
            return
        # the reset is rounded up to whole seconds, so now + reset is never too early; the
        # window dated by its first call is as safe and closer
        latest = time.monotonic() + reset
        known = self._window_end if self._window_end and self._window_end <= latest else latest
        self._refill_at = known + 0.05

    def _wait_for_refill(self) -> None:
        if self.allowance is not None:
            self._take_shared()
            return
        if self._refill_at is None:
            return
        wait = self._refill_at - time.monotonic()
        self._refill_at = None
        if 0 < wait <= self.max_pace + 0.05:
            self.pace(wait)

    def _take_shared(self) -> None:
        """Wait (up to ``max_pace`` in all) until the shared allowance gives us a call; past
        that, send anyway and let the house's 429 say how long to wait."""
        give_up = time.monotonic() + self.max_pace
        while (wait := self.allowance.take()) > 0:
            if not self.pace or time.monotonic() + wait > give_up + 0.05:
                return
            self.pace(wait)

    def _retry_after(self, response: requests.Response,
                     default: float = DEFAULT_RATE_LIMIT_WAIT) -> float:
        for header in (self.retry_after_header, "Retry-After"):
            seconds = retry_after_seconds(response.headers.get(header))
            if seconds is not None:
                return seconds
        found = re.search(r"in (\d+(?:\.\d+)?) seconds", response.text)
        return float(found.group(1)) if found else default


def _seconds_from(value: str | None) -> float | None:
    """A ``Retry-After`` value as seconds from now: a number of seconds, or an HTTP date
    (RFC 9110; ShipMonk sends one), rounded up so a wait is never too short."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return float(max(math.ceil(moment.timestamp() - time.time()), 0))


def read_json(response: requests.Response, house: str) -> Any:
    """The JSON body of a successful answer; a 2xx that is not JSON (a proxy's page) is
    treated as a broken call that may have gone through."""
    try:
        return response.json()
    except ValueError as exc:
        raise HouseCallFailed(f"{house} answered HTTP {response.status_code} without JSON.",
                              maybe_received=True, status=response.status_code) from exc


def refusal_error(response: requests.Response, house: str, doing: str) -> AdapterError:
    """An ``AdapterError`` for a 4xx the adapter has no better reading of."""
    message = error_message(response)
    return AdapterError(f"{house} refused to {doing} (HTTP {response.status_code}): {message}",
                        transient=False, reason=reason_for(message))
