"""The one patch karrio needs: a timeout on every carrier request, and the 429 karrio hides.

Why a patch: karrio's ``lib.request`` accepts a ``timeout``, but none of the carrier proxies
we use passes one (karrio 2026.1.32, ``karrio/mappers/{ups,fedex,usps,dhl_express}/proxy.py``)
and their ``Settings`` offer no timeout option, so urllib would wait as long as a carrier holds
the connection open. The other ways to give urllib a timeout are process-wide
(``socket.setdefaulttimeout``, ``urllib.request.install_opener``) and would change every other
socket or opener in the process. So the name ``urlopen`` in ``karrio.core.utils.helpers``,
which karrio calls for every request, is replaced once, at import, by ``_urlopen``. karrio also
turns an HTTP error into a message without its status or headers, so ``_urlopen`` notes a
429's ``Retry-After`` and a timeout for the tracker to read afterwards.

Which tracker a request belongs to is told through karrio's own hook, not by its URL: the
tracer given to ``gateway.create(settings, tracer=...)`` is called with each request just
before it is sent, in the thread that sends it. ``CallWatch`` is such a tracer; it leaves
itself with that thread, where ``_urlopen`` finds it. A context variable set by the caller
would not reach far enough: karrio sends UPS, FedEx and USPS requests from its own worker
threads, which do not inherit the caller's context. A retry karrio makes on its own (USPS
retries its token request) follows in the same thread, so it keeps the same watch. A request
no watch announced gets ``DEFAULT_TIMEOUT``.
"""
from __future__ import annotations

import threading
import urllib.request
from typing import Any
from urllib.error import HTTPError, URLError

import karrio.core.utils.helpers as karrio_http
import karrio.lib as karrio_lib

from adapters.retry_after import retry_after_seconds

#: seconds a carrier may take to answer one request, unless the tracker is given another
DEFAULT_TIMEOUT = 20.0
#: how long to wait after a 429 that names no readable Retry-After
DEFAULT_RETRY_AFTER = 60.0

#: the watch of the tracker whose request this thread sends
_thread = threading.local()


class CallWatch(karrio_lib.Tracer):
    """karrio's tracer for one tracker's calls: the timeout they get, and what the HTTP layer
    saw that karrio does not pass on. Records nothing else (karrio's tracer would keep every
    request and answer in memory)."""

    def __init__(self, timeout: float):
        super().__init__()
        self.timeout = timeout
        #: seconds the carrier asked us to wait, when it answered 429
        self.retry_after: float | None = None
        #: whether a request got no answer within the timeout
        self.timed_out = False

    def trace(self, data: Any, key: str, metadata: dict | None = None,
              format: str | None = None) -> Any:  # noqa: A002 - karrio's parameter name
        if key == "request":
            _thread.watch = self
        return data


def _urlopen(request, *args, timeout=None, **kwargs):
    """urllib's ``urlopen`` with the timeout of the watch that announced the request; notes a
    429's wait and a timeout on that watch."""
    watch: CallWatch | None = getattr(_thread, "watch", None)
    if timeout is None:
        timeout = watch.timeout if watch else DEFAULT_TIMEOUT
    try:
        # karrio builds the request on the account's http(s) base URL (url_validator)
        return urllib.request.urlopen(request, *args, timeout=timeout, **kwargs)  # noqa: S310
    except HTTPError as error:
        if error.code == 429 and watch is not None:
            wait = retry_after_seconds(error.headers.get("Retry-After"))
            watch.retry_after = DEFAULT_RETRY_AFTER if wait is None else wait
        raise
    except (TimeoutError, URLError) as error:
        if watch is not None and (isinstance(error, TimeoutError)
                                  or isinstance(error.reason, TimeoutError)):
            watch.timed_out = True
        raise


karrio_http.urlopen = _urlopen
