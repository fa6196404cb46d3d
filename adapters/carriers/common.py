"""What every karrio-backed carrier tracker shares.

karrio speaks each carrier's tracking API and hands back normalised ``TrackingDetails`` plus
``Message`` objects; failures arrive as messages, never as exceptions. This module turns that
into our plain data: one ``CarrierEvent`` per number asked about, or an ``AdapterError`` when
the carrier cannot answer (transient) or refuses the credentials (not transient).

OAuth tokens live in one karrio ``Cache`` per connection (carrier, server, credentials) kept
for the life of the process, so a tracker built for each check reuses the token of the one
before. karrio refreshes a token shortly before the expiry the carrier announced; a carrier
that drops a token earlier answers 401, and the tracker then forgets the token, fetches a new
one and asks once more.

karrio gives its HTTP calls no timeout and drops the response headers; each fetch therefore
hands karrio a ``CallWatch`` (``adapters.carriers.karrio_http``, where the one patch and its
reason live) that applies the tracker's timeout, so a carrier that hangs cannot hold a check
forever, and notes the ``Retry-After`` of a 429, so a carrier's rate limit pauses us for as
long as the carrier asks.
"""
from __future__ import annotations

import hashlib
import re
import threading
from abc import abstractmethod
from datetime import datetime
from typing import Callable, ClassVar, Sequence

import attr
import karrio.lib as karrio_lib
import karrio.sdk as karrio
from karrio.core.models import Message, TrackingDetails, TrackingRequest

from adapters.base import (
    AdapterError,
    CarrierEvent,
    CarrierStatus,
    CarrierTracker,
    FailureReason,
)
from adapters.carriers.karrio_http import DEFAULT_TIMEOUT, CallWatch

#: karrio's normalised tracking statuses, as our records see them
KARRIO_STATUSES: dict[str, CarrierStatus] = {
    "pending": CarrierStatus.PRE_TRANSIT,
    "picked_up": CarrierStatus.IN_TRANSIT,
    "in_transit": CarrierStatus.IN_TRANSIT,
    "out_for_delivery": CarrierStatus.IN_TRANSIT,
    "delivery_delayed": CarrierStatus.IN_TRANSIT,
    "ready_for_pickup": CarrierStatus.IN_TRANSIT,
    "delivered": CarrierStatus.DELIVERED,
    "return_to_sender": CarrierStatus.RETURNED,
    "delivery_failed": CarrierStatus.EXCEPTION,
    "on_hold": CarrierStatus.EXCEPTION,
    "cancelled": CarrierStatus.EXCEPTION,
    "unknown": CarrierStatus.UNKNOWN,
}

#: the code karrio gives a message made from an exception it caught (no carrier answer)
INTERNAL_ERROR = "SHIPPING_SDK_INTERNAL_ERROR"
_URLOPEN = re.compile(r"^<urlopen error (?:\[Errno -?\d+\] )?(.*)>$")

#: one token cache per connection key, for the life of the process
_caches: dict[str, karrio_lib.Cache] = {}
_caches_lock = threading.Lock()


def with_base_url(settings_class: type) -> type:
    """A subclass of a karrio ``Settings`` class whose ``server_url`` is ``base_url`` when one
    is given, and the carrier's own server otherwise."""

    @attr.s(auto_attribs=True)
    class Settings(settings_class):
        base_url: str = ""

        @property
        def server_url(self):
            return self.base_url.rstrip("/") or super().server_url

    Settings.__name__ = Settings.__qualname__ = f"{settings_class.__qualname__}WithBaseURL"
    return Settings


def chunks(numbers: Sequence[str], size: int) -> list[Sequence[str]]:
    """``numbers`` in runs of at most ``size``, in order."""
    return [numbers[i:i + size] for i in range(0, len(numbers), size)]


def _normal(number: str) -> str:
    return "".join(number.split()).upper()


class KarrioTracker(CarrierTracker):
    """A carrier tracker that asks karrio; subclasses declare the carrier's specifics."""

    #: the karrio gateway name ("ups", "fedex", ...)
    karrio_carrier: ClassVar[str]
    #: the karrio ``Settings`` class, made to accept ``base_url`` by ``with_base_url``
    settings_class: ClassVar[type]
    #: whether the carrier hands out OAuth tokens that may need refreshing
    uses_token: ClassVar[bool] = True
    #: carrier message codes meaning the carrier has no record of the number
    not_found_codes: ClassVar[frozenset[str]] = frozenset()
    #: carrier message codes meaning the credentials or the token were refused
    auth_codes: ClassVar[frozenset[str]] = frozenset()
    #: a sample number in the carrier's format that Test connection asks about: any answer,
    #: "not found" included, shows the credentials work
    probe_number: ClassVar[str]

    def __init__(self, credentials: dict[str, str], base_url: str | None = None,
                 *, clock: Callable[[], datetime] | None = None,
                 timeout: float = DEFAULT_TIMEOUT):
        super().__init__(credentials, base_url, clock=clock)
        self.timeout = timeout

    @abstractmethod
    def karrio_settings(self) -> dict[str, str]:
        """The karrio ``Settings`` arguments built from the merchant's credentials."""

    def carrier_status(self, detail: TrackingDetails) -> CarrierStatus | None:
        """Where karrio's normalised status misreads this carrier, the status read from the
        latest event; None to take karrio's."""
        return None

    def track(self, tracking_numbers: Sequence[str]) -> list[CarrierEvent]:
        events: list[CarrierEvent] = []
        for batch in chunks(list(tracking_numbers), self.batch_size):
            events.extend(self._track_batch(batch))
        return events

    # ---------------------------------------------------------------- karrio

    def _server(self) -> str:
        return self.base_url or self.credentials.get("base_url") or ""

    def _connection_key(self) -> str:
        secrets = "\0".join(f"{k}={v}" for k, v in sorted(self.karrio_settings().items()))
        digest = hashlib.sha256(secrets.encode()).hexdigest()
        return f"{self.karrio_carrier}|{self._server()}|{digest}"

    def _cache(self) -> karrio_lib.Cache:
        with _caches_lock:
            return _caches.setdefault(self._connection_key(), karrio_lib.Cache())

    def _forget_token(self) -> None:
        with _caches_lock:
            _caches[self._connection_key()] = karrio_lib.Cache()

    def _fetch(self, numbers: Sequence[str]) -> tuple[list[TrackingDetails], list[Message]]:
        """karrio's answer for ``numbers``. Raises a transient ``AdapterError`` when the carrier
        answered 429 (with the wait it asked for) or did not answer within the timeout."""
        settings = self.settings_class(**self.karrio_settings(), base_url=self._server())
        watch = CallWatch(self.timeout)
        gateway = karrio.gateway[self.karrio_carrier].create(settings, tracer=watch,
                                                             cache=self._cache())
        details, messages = (karrio.Tracking.fetch(
            TrackingRequest(tracking_numbers=list(numbers))).from_(gateway).parse())
        if watch.retry_after is not None:
            raise AdapterError(
                f"{self.name} is limiting our tracking requests (HTTP 429); asking again in "
                f"{watch.retry_after:.0f} s.", retry_after=watch.retry_after)
        if watch.timed_out:
            raise AdapterError(f"{self.name} did not answer within {self.timeout:g} s.")
        return details or [], messages or []

    # ---------------------------------------------------------------- mapping

    def _is_auth(self, message: Message) -> bool:
        text = message.message or ""
        return str(message.code) in self.auth_codes or text.startswith(("HTTP 401", "HTTP 403"))

    def _is_not_found(self, message: Message) -> bool:
        return (str(message.code) in self.not_found_codes
                or "not found" in (message.message or "").lower())

    def _track_batch(self, numbers: Sequence[str]) -> list[CarrierEvent]:
        details, messages = self._fetch(numbers)
        if self.uses_token and any(self._is_auth(m) for m in messages):
            self._forget_token()
            details, messages = self._fetch(numbers)
        refused = [m for m in messages if self._is_auth(m)]
        if refused:
            asked = " and ".join(f.label for f in self.fields if not f.advanced)
            raise AdapterError(
                f"{self.name} refused the tracking credentials: {_texts(refused)}. Check the "
                f"{asked}, and that the account may use the tracking API.",
                transient=False, reason=FailureReason.CREDENTIALS)

        found = {_normal(d.tracking_number): d for d in details if d.tracking_number}
        not_found = [m for m in messages if self._is_not_found(m)]
        errors = [m for m in messages if m.level not in ("warning", "info")
                  and not self._is_not_found(m)]
        events = []
        for number in numbers:
            detail = found.get(_normal(number))
            if detail is not None:
                events.append(self._event(number, detail))
                continue
            reason = self._not_found_for(number, numbers, not_found)
            if reason is None or errors:
                raise AdapterError(
                    f"{self.name} tracking is unavailable: "
                    f"{_texts(errors) or f'its answer held no tracking for {number}'}.")
            events.append(CarrierEvent(number, CarrierStatus.UNKNOWN, reason.message or
                                       "Tracking number not found."))
        return events

    @staticmethod
    def _not_found_for(number: str, batch: Sequence[str],
                       not_found: list[Message]) -> Message | None:
        """The not-found message about ``number``: one naming it, or the only one there is
        when the batch asked about this number alone."""
        for message in not_found:
            named = (message.details or {}).get("tracking_number")
            if (named and _normal(named) == _normal(number)) or number in (message.message or ""):
                return message
        return not_found[0] if not_found and len(batch) == 1 else None

    def _event(self, number: str, detail: TrackingDetails) -> CarrierEvent:
        status = self.carrier_status(detail) or KARRIO_STATUSES.get(
            str(detail.status or "unknown"), CarrierStatus.UNKNOWN)
        latest = detail.events[0] if detail.events else None
        return CarrierEvent(number, status,
                            description=(latest.description or "") if latest else "",
                            occurred_at=_when(latest.timestamp) if latest else None)


def _texts(messages: list[Message]) -> str:
    """The messages as one sentence: the carrier's words and code; for a failure karrio
    caught (``SHIPPING_SDK_INTERNAL_ERROR``), the connection error or the parsing error."""
    texts = []
    for message in messages:
        text = message.message or "error"
        if message.code == INTERNAL_ERROR:
            connection = _URLOPEN.match(text)
            texts.append(f"could not connect: {connection.group(1)}" if connection
                         else f"no readable answer ({text})")
        else:
            texts.append(f"{text} ({message.code})" if message.code else text)
    return "; ".join(dict.fromkeys(texts))


def _when(timestamp: str | None) -> datetime | None:
    """The event's time as the carrier's local scan time (karrio marks it UTC regardless)."""
    if not timestamp:
        return None
    try:
        return datetime.fromisoformat(timestamp).replace(tzinfo=None)
    except ValueError:
        return None
