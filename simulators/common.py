"""What every simulated house shares: a real HTTP server, rate limiting, injected faults,
creation counting, the product catalogue and the ``/_control/`` hooks.

A house module subclasses ``SimulatedHouse`` for its own auth, error bodies and order store,
then calls ``install(app, house)``. Control hooks (JSON in, JSON out, never rate limited):

- ``POST /_control/reset``: forget every order, counter, fault and rate-limit hit;
- ``POST /_control/fail`` ``{"mode": "error"|"slow"|"timeout_after_accept", "count": 1,
  "status": 500, "delay": 2.0, "operation": null}``: the next ``count`` API requests (to
  the route named ``operation`` only, when given) answer with the house's server error, are
  held ``delay`` seconds before being handled, or are handled and then held ``delay``
  seconds before the answer leaves (a client timeout after the house accepted);
- ``POST /_control/rate-limit`` ``{"enabled": true, "limit": 40, "window": 60}``;
- ``POST /_control/stock`` ``{"SKU": quantity, ...}``: set what the warehouse holds;
- ``POST /_control/ship`` ``{"key": ..., "packages": [{"tracking_number", "carrier",
  "service", ...}]}`` and ``POST /_control/deliver`` ``{"key", "tracking_number"}``;
- ``GET /_control/creations``: ``{key: number of orders created under it}``;
- ``POST /_control/processing`` ``{"delay": seconds}``: how long after an order arrives the
  warehouse looks at it (houses that hold bad orders: ``process``); 0, the default, means at
  the next read; ``POST /_control/process`` ``{"key"}``: look at it now;
- ``GET /_control/contract-violations``: the answers this simulator gave that broke its house's
  document (see below).

A house with a ``contract`` (``simulators.contract.Contract``) has every API request checked
against its house's document after auth and the rate limit: a request the document rejects gets
the house's own error (``contract_error``). Every answer to a checked request is checked too; one
the document rejects is recorded, logged and replaced by a 500 naming the violation, and
``serve()``'s ``stop`` raises ``ContractViolation`` for it, so the test that caused it fails.
"""
from __future__ import annotations

import argparse
import logging
import math
import re
import threading
import time
from abc import ABC, abstractmethod
from collections import Counter, deque
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from flask import Blueprint, Flask, Response, g, jsonify, request
from werkzeug.serving import WSGIRequestHandler, make_server

from simulators.contract import Contract, ContractViolation

#: what a simulated warehouse stocks unless told otherwise: SKU -> units on hand
DEFAULT_PRODUCTS = {"WIDGET-1": 500, "GADGET-2": 200, "SOLDOUT-1": 0}

#: where a request handler leaves the request headers whose names contain "_"
UNDERSCORE_HEADERS = "simulators.underscore_headers"

_POSTAL_CODES = {
    "US": re.compile(r"\d{5}(-\d{4})?"),
    "CA": re.compile(r"[A-Z]\d[A-Z] ?\d[A-Z]\d", re.IGNORECASE),
    "GB": re.compile(r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}", re.IGNORECASE),
}

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    """Now, timezone-aware in UTC: the simulators write their houses' timestamps from it."""
    return datetime.now(timezone.utc)


def postal_code_ok(country: str, code: str) -> bool:
    """Whether ``code`` can be a postal code of ``country`` (checked for US, CA and GB;
    elsewhere any non-empty code passes). ZIP 00000 never exists."""
    code = (code or "").strip()
    if not code or code == "00000":
        return False
    pattern = _POSTAL_CODES.get((country or "").upper())
    return bool(pattern.fullmatch(code)) if pattern else True


# ---------------------------------------------------------------- rate limiting


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    #: seconds until the window ends (fixed) or a slot frees (sliding), rounded up
    reset: int


class RateLimiter:
    """Counts each caller's requests in a fixed window (which starts at its first request)
    or a sliding one. ``clock`` returns seconds; tests pass a fake one to move time."""

    def __init__(self, limit: int, window: float, *, sliding: bool = False, enabled: bool = True,
                 clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self.sliding = sliding
        self.enabled = enabled
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        #: requests answered and requests refused with 429, since the last reset
        self.allowed = self.refused = 0

    def configure(self, *, enabled: bool | None = None, limit: int | None = None,
                  window: float | None = None) -> None:
        with self._lock:
            if enabled is not None:
                self.enabled = enabled
            if limit is not None:
                self.limit = limit
            if window is not None:
                self.window = window
            self._hits.clear()

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
            self.allowed = self.refused = 0

    def hit(self, caller: str) -> RateDecision:
        """Count one request by ``caller`` unless it is over the limit."""
        with self._lock:
            now = self.clock()
            hits = self._hits.setdefault(caller, deque())
            if self.sliding:
                while hits and hits[0] <= now - self.window:
                    hits.popleft()
            elif hits and now >= hits[0] + self.window:
                hits.clear()
            allowed = not self.enabled or len(hits) < self.limit
            if allowed:
                hits.append(now)
                self.allowed += 1
            else:
                self.refused += 1
            reset = hits[0] + self.window - now if hits else self.window
            return RateDecision(allowed, self.limit, max(self.limit - len(hits), 0),
                                math.ceil(reset))


# ---------------------------------------------------------------- faults


@dataclass
class Fault:
    mode: str
    count: int = 1
    status: int = 500
    delay: float = 2.0
    #: only requests to this route (its endpoint's name) meet the fault; None: any request
    operation: str | None = None


class Faults:
    """Failures armed for the next N API requests."""

    MODES = ("error", "slow", "timeout_after_accept")

    def __init__(self) -> None:
        self._armed: Fault | None = None
        self._lock = threading.Lock()

    def arm(self, fault: Fault) -> None:
        if fault.mode not in self.MODES:
            raise ValueError(f"mode must be one of {', '.join(self.MODES)}")
        if fault.count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._armed = fault

    def clear(self) -> None:
        with self._lock:
            self._armed = None

    def take(self, operation: str | None = None) -> Fault | None:
        """The fault for this request to ``operation``, if one is armed for it; uses one of
        its count."""
        with self._lock:
            fault = self._armed
            if fault is None or fault.operation not in (None, operation):
                return None
            fault.count -= 1
            if fault.count == 0:
                self._armed = None
            return fault


# ---------------------------------------------------------------- the house


class SimulatedHouse(ABC):
    """State and behaviour common to the simulated houses.

    Subclasses name the caller (``caller``), shape the house's own error answers and keep
    their orders; everything a test may want to reach in for lives on the instance, which
    ``install`` stores as ``app.extensions["house"]``.
    """

    #: the house's own API document; None: traffic is not checked
    contract: Contract | None = None

    def __init__(self, *, rate_limit: int, rate_window: float, rate_limited: bool = True,
                 sliding_window: bool = False, products: dict[str, int] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.lock = threading.RLock()
        self.limiter = RateLimiter(rate_limit, rate_window, sliding=sliding_window,
                                   enabled=rate_limited, clock=clock)
        self.faults = Faults()
        #: seconds every API answer takes, like a real house over the internet (0: none)
        self.latency = 0.0
        self._initial_products = dict(DEFAULT_PRODUCTS if products is None else products)
        self.products = dict(self._initial_products)
        #: our key -> how many orders were created under it (updates do not count)
        self.creations: Counter[str] = Counter()
        #: answers that broke the house's document (kept across ``reset``, reported by ``stop``)
        self.contract_violations: list[str] = []
        self.clock = clock
        #: seconds after its arrival the warehouse looks at an order (``process``)
        self.process_delay = 0.0
        #: our key -> house clock time the warehouse looks at that order
        self.due: dict[str, float] = {}

    def reset(self) -> None:
        with self.lock:
            self.products = dict(self._initial_products)
            self.creations.clear()
            self.faults.clear()
            self.limiter.reset()
            self.due.clear()
            self.process_delay = 0.0

    def stock_problem(self, sku: str, quantity: int) -> str | None:
        """"unknown" for a SKU the warehouse does not carry, "stock" when it holds fewer
        than ``quantity``, None when the line can be filled."""
        if sku not in self.products:
            return "unknown"
        return "stock" if self.products[sku] < quantity else None

    # hooks for the house modules

    @abstractmethod
    def caller(self, req) -> str | None:
        """Who is calling (the rate-limit identity), or None when auth fails."""

    @abstractmethod
    def unauthorized(self) -> Response:
        """The house's own answer to a request without valid credentials."""

    @abstractmethod
    def too_many_requests(self, decision: RateDecision) -> Response:
        """The house's own answer (status, headers, body) to a request over its limit."""

    def rate_headers(self, decision: RateDecision) -> dict[str, str]:
        """Headers every authenticated answer carries."""
        return {}

    @abstractmethod
    def server_error(self, status: int) -> Response:
        """The house's own 5xx answer, for the ``error`` fault."""

    @abstractmethod
    def ship(self, key: str, packages: list[dict[str, Any]]) -> dict[str, Any]:
        """Ship the order under ``key`` in ``packages``; raises LookupError or ValueError."""

    def deliver(self, key: str, tracking_number: str) -> dict[str, Any]:
        """Record delivery of one package, where the house reports deliveries."""
        raise ValueError("This house reports no deliveries; carriers do.")

    def schedule(self, key: str) -> None:
        """Have the warehouse look at the order under ``key`` once ``process_delay`` passed."""
        self.due[key] = self.clock() + self.process_delay

    def process_due(self) -> None:
        """The warehouse looks at every order whose time has come (call before a read)."""
        now = self.clock()
        for key, due in list(self.due.items()):
            if due <= now:
                self.process(key)

    def process(self, key: str) -> dict[str, Any]:
        """The warehouse looks at the order under ``key``: it goes on, or is held the way the
        house holds a bad order. Returns what the house's webhook for that change carries."""
        raise ValueError("This house does not hold orders.")

    def contract_path(self, req) -> str | None:
        """The path of ``req`` as the house's document spells it, or None for a request
        the document does not describe (checked by the house module's own code)."""
        return req.path

    def contract_query(self, req):
        """The query of ``req`` as the document spells its names."""
        return req.args

    def contract_error(self, problems: list[str]) -> Response:
        """The house's own answer to a request its document rejects."""
        return json_error(400, {"errors": problems})


def json_error(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def install(app: Flask, house: SimulatedHouse) -> Flask:
    """Put ``house`` in front of every API route of ``app``: faults, auth, rate limit,
    rate headers, and the ``/_control/`` hooks."""
    app.extensions["house"] = house

    @app.before_request
    def _gate():
        if request.path.startswith("/_control/"):
            return None
        if house.latency:
            time.sleep(house.latency)
        operation = request.url_rule.endpoint.rpartition(".")[2] if request.url_rule else None
        g.fault = fault = house.faults.take(operation)
        if fault and fault.mode == "error":
            return house.server_error(fault.status)
        if fault and fault.mode == "slow":
            time.sleep(fault.delay)
        caller = house.caller(request)
        if caller is None:
            return house.unauthorized()
        g.rate = decision = house.limiter.hit(caller)
        if not decision.allowed:
            return house.too_many_requests(decision)
        path = house.contract_path(request) if house.contract is not None else None
        if path is not None:
            headers = dict(request.headers)
            headers.update(request.environ.get(UNDERSCORE_HEADERS, {}))
            problems = house.contract.request_problems(
                request.method, path, query=house.contract_query(request), headers=headers,
                body=request.get_data(cache=True), content_type=request.content_type)
            if problems:
                return house.contract_error(problems)
            g.contract_path = path  # the answer to a conforming request is checked too
        return None

    @app.after_request
    def _finish(response: Response) -> Response:
        decision = g.get("rate")
        if decision is not None and house.limiter.enabled:  # no limit, no limit headers
            response.headers.update(house.rate_headers(decision))
        path = g.get("contract_path")
        if path is not None and not response.is_streamed:
            try:
                house.contract.check_response(
                    request.method, path, response.status_code, response.get_data(),
                    query=house.contract_query(request), headers=dict(response.headers),
                    content_type=response.content_type or "application/json")
            except ContractViolation as violation:
                log.error("%s", violation)
                house.contract_violations.append(str(violation))
                response = json_error(500, {"contract_violation": str(violation)})
        fault = g.get("fault")
        if fault and fault.mode == "timeout_after_accept":
            time.sleep(fault.delay)
        return response

    app.register_blueprint(_control_blueprint(house))
    return app


def control_blueprint(name: str) -> Blueprint:
    """A blueprint of control hooks under ``/_control/``: an unknown order (LookupError)
    answers 404, a bad request (ValueError) 400, each with ``{"error": ...}``."""
    bp = Blueprint(name, __name__, url_prefix="/_control")

    @bp.errorhandler(LookupError)
    def _unknown(exc):
        return json_error(404, {"error": str(exc).strip("'\"")})

    @bp.errorhandler(ValueError)
    def _bad(exc):
        return json_error(400, {"error": str(exc)})

    return bp


def _control_blueprint(house: SimulatedHouse) -> Blueprint:
    bp = control_blueprint("control")

    @bp.post("/reset")
    def reset():
        house.reset()
        return {"ok": True}

    @bp.post("/fail")
    def fail():
        body = request.get_json(force=True)
        house.faults.arm(Fault(mode=body.get("mode", ""), count=int(body.get("count", 1)),
                               status=int(body.get("status", 500)),
                               delay=float(body.get("delay", 2.0)),
                               operation=body.get("operation")))
        return {"ok": True}

    @bp.post("/rate-limit")
    def rate_limit():
        body = request.get_json(force=True)
        house.limiter.configure(enabled=body.get("enabled"), limit=body.get("limit"),
                                window=body.get("window"))
        return {"enabled": house.limiter.enabled, "limit": house.limiter.limit,
                "window": house.limiter.window}

    @bp.post("/stock")
    def stock():
        with house.lock:
            house.products.update({sku: int(n) for sku, n in request.get_json(force=True).items()})
            return dict(house.products)

    @bp.post("/ship")
    def ship():
        body = request.get_json(force=True)
        with house.lock:
            return house.ship(body["key"], list(body.get("packages") or []))

    @bp.post("/deliver")
    def deliver():
        body = request.get_json(force=True)
        with house.lock:
            return house.deliver(body["key"], body["tracking_number"])

    @bp.post("/processing")
    def processing():
        house.process_delay = float(request.get_json(force=True).get("delay", 0))
        return {"delay": house.process_delay}

    @bp.post("/process")
    def process():
        with house.lock:
            return house.process(request.get_json(force=True)["key"])

    @bp.get("/creations")
    def creations():
        with house.lock:
            return dict(house.creations)

    @bp.get("/contract-violations")
    def contract_violations():
        return {"violations": list(house.contract_violations)}

    @bp.get("/stats")
    def stats():
        """Requests answered and refused for the rate limit since the last reset."""
        return {"allowed": house.limiter.allowed, "refused_429": house.limiter.refused,
                "limit": house.limiter.limit, "window": house.limiter.window,
                "rate_limited": house.limiter.enabled}

    return bp


# ---------------------------------------------------------------- serving


class _RequestHandler(WSGIRequestHandler):
    """Werkzeug's handler, but headers with "_" in their names (ShipBob's
    ``shipbob_channel_id``), which werkzeug drops, are kept under ``UNDERSCORE_HEADERS``."""

    def make_environ(self):
        environ = super().make_environ()
        environ[UNDERSCORE_HEADERS] = {k.lower(): v for k, v in self.headers.items() if "_" in k}
        return environ


class _QuietRequestHandler(_RequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        """Tests serve hundreds of requests; their access log is noise."""


def serve(app, port: int = 0) -> tuple[str, Callable[[], None]]:
    """Serve ``app`` over real HTTP on 127.0.0.1 in a background thread.

    Returns the base URL and a ``stop`` function. Port 0 picks a free port. ``stop`` raises
    ``ContractViolation`` if the simulator gave answers its house's document rejects.
    """
    server = make_server("127.0.0.1", port, app, threaded=True,
                         request_handler=_QuietRequestHandler)
    # a handler held by a timeout_after_accept fault must not hold up stop()
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="simulator", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join()
        house = getattr(app, "extensions", {}).get("house")
        if house is not None and house.contract_violations:
            raise ContractViolation("\n\n".join(house.contract_violations))

    return f"http://127.0.0.1:{server.server_port}", stop


def main(create_app: Callable[..., Flask], *, prog: str, default_port: int, api_path: str,
         credentials: str, argv: list[str] | None = None) -> None:
    """Run one simulator in the foreground: ``python -m simulators.<house> --port N``."""
    parser = argparse.ArgumentParser(description=f"A local simulator of the {prog} API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port)
    parser.add_argument("--latency", type=float, default=0.0,
                        help="seconds every API answer takes, as over the internet")
    parser.add_argument("--no-rate-limit", action="store_true",
                        help="answer every request, however many")
    parser.add_argument("--unchecked", action="store_true",
                        help="skip the checks against the house's document, so an answer costs "
                             "only what the house does (benchmarks against an instant house)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    app = create_app(rate_limited=not args.no_rate_limit)
    app.extensions["house"].latency = args.latency
    if args.unchecked:
        app.extensions["house"].contract = None
    server = make_server(args.host, args.port, app, threaded=True,
                         request_handler=_RequestHandler)
    log.info("%s simulator on http://%s:%d%s (%s); control hooks under /_control/",
             prog, args.host, server.server_port, api_path, credentials)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
