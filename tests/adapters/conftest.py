"""Fixtures for the push-house adapters: each house's simulator served over real HTTP on
127.0.0.1, and what the conformance suite needs to know about each house.

A new push house joins the suite by adding its ``HouseCase`` to ``HOUSE_CASES``.
"""
from __future__ import annotations

import itertools
import socket
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable

import pytest
import requests

from adapters.base import Address, FailureReason, HouseAdapter, OrderLine, OrderPayload
from adapters.shipbob import ShipBobHouse
from adapters.shipmonk import ShipMonkHouse
from adapters.shipstation import ShipStationHouse
from simulators import shipbob, shipmonk, shipstation
from simulators.common import serve


@dataclass(frozen=True)
class HouseCase:
    """One house as the conformance suite drives it."""

    adapter: type[HouseAdapter]
    create_app: Callable[..., Any]
    credentials: dict[str, str]
    #: the key or token is wrong
    bad_credentials: dict[str, str]
    #: the key is right but the store or channel is not the account's
    wrong_account: dict[str, str]
    #: the house's API root below the server's root
    api_path: str = ""
    #: ``/_control/ship`` packages making several packages, and the tracking numbers the
    #: adapter must report for them (voided or otherwise dead ones left out)
    several_packages: tuple[dict[str, Any], ...] = ()
    expected_tracking: frozenset[str] = field(default_factory=frozenset)
    #: whether the house reports deliveries itself
    reports_delivery: bool = False
    #: the case's name in test ids (default: the adapter's key)
    label: str = ""
    #: for a house that accepts a bad order and then holds or refuses it (houses.md, "What
    #: real houses do with a bad order"): ``BAD_ORDERS`` id -> (reason, final) its tracking
    #: reports once its warehouse has looked; empty: it refuses bad orders at create time
    bad_order_problems: dict[str, tuple[FailureReason, bool]] = field(default_factory=dict)


HOUSE_CASES = [
    HouseCase(
        ShipStationHouse, shipstation.create_app,
        credentials={"api_key": "ss-api-key", "api_secret": "ss-api-secret",
                     "store_id": "310001"},
        bad_credentials={"api_key": "ss-api-key", "api_secret": "wrong",
                         "store_id": "310001"},
        wrong_account={"api_key": "ss-api-key", "api_secret": "ss-api-secret",
                       "store_id": "999999"},
        several_packages=(
            {"tracking_number": "1Z999AA10000000001", "via": "shipment"},
            {"tracking_number": "1Z999AA10000000002", "via": "fulfillment", "carrier": "ups"},
            {"tracking_number": "1Z999AA1VOIDED0003", "via": "shipment", "voided": True},
        ),
        expected_tracking=frozenset({"1Z999AA10000000001", "1Z999AA10000000002"}),
        reports_delivery=True,
        bad_order_problems={"unknown-sku": (FailureReason.SKU, True),
                            "sold-out": (FailureReason.STOCK, False),
                            "short-stock": (FailureReason.STOCK, False),
                            "bad-zip": (FailureReason.ADDRESS, True)},
    ),
    *(HouseCase(
        ShipBobHouse, shipbob.create_app, label=f"shipbob-{version}",
        credentials={"token": "sb-personal-access-token", "channel_id": "401",
                     "api_version": version},
        bad_credentials={"token": "expired-token", "channel_id": "401", "api_version": version},
        wrong_account={"token": "sb-personal-access-token", "channel_id": "402",
                       "api_version": version},
        several_packages=({"tracking_number": "9400100000000000000001"},
                          {"tracking_number": "9400100000000000000002"}),
        expected_tracking=frozenset({"9400100000000000000001", "9400100000000000000002"}),
        reports_delivery=True,
        bad_order_problems={"unknown-sku": (FailureReason.SKU, True),
                            "sold-out": (FailureReason.STOCK, False),
                            "short-stock": (FailureReason.STOCK, False),
                            "bad-zip": (FailureReason.ADDRESS, True)},
    ) for version in ("2026-01", "1.0")),
    HouseCase(
        ShipMonkHouse, shipmonk.create_app,
        credentials={"api_key": "sm-api-key", "store_id": "7001"},
        bad_credentials={"api_key": "revoked", "store_id": "7001"},
        wrong_account={"api_key": "sm-api-key", "store_id": "7002"},
        several_packages=({"tracking_number": "1ZSM0000000000001"},
                          {"tracking_number": "1ZSM0000000000002"}),
        expected_tracking=frozenset({"1ZSM0000000000001", "1ZSM0000000000002"}),
        bad_order_problems={"unknown-sku": (FailureReason.SKU, True),
                            "sold-out": (FailureReason.STOCK, False),
                            "short-stock": (FailureReason.STOCK, False),
                            "bad-zip": (FailureReason.ADDRESS, True)},
    ),
]


class FakeClock:
    """Seconds for the simulators' rate limiters; moves only when told."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RunningHouse:
    """A simulator serving on 127.0.0.1, and adapters pointed at it."""

    def __init__(self, case: HouseCase, app, root: str, clock: FakeClock):
        self.case = case
        self.app = app
        self.root = root
        self.clock = clock

    @property
    def state(self):
        return self.app.extensions["house"]

    @property
    def api_url(self) -> str:
        return self.root + self.case.api_path

    def adapter(self, credentials: dict[str, str] | None = None, *,
                timeout: float = 5.0) -> HouseAdapter:
        return self.case.adapter(credentials or self.case.credentials, self.api_url,
                                 timeout=timeout)

    def control(self, action: str, body: dict[str, Any] | None = None) -> Any:
        response = requests.post(f"{self.root}/_control/{action}", json=body or {}, timeout=5)
        assert response.status_code == 200, response.text
        return response.json()

    def creations(self) -> dict[str, int]:
        return requests.get(f"{self.root}/_control/creations", timeout=5).json()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=HOUSE_CASES, ids=lambda case: case.label or case.adapter.key)
def house(request, clock):
    case: HouseCase = request.param
    app = case.create_app(clock=clock)
    root, stop = serve(app)
    yield RunningHouse(case, app, root, clock)
    stop()


@pytest.fixture
def serve_app():
    """Serve any WSGI app for the test; returns its root URL."""
    stops = []

    def start(app) -> str:
        root, stop = serve(app)
        stops.append(stop)
        return root

    yield start
    for stop in stops:
        stop()


@pytest.fixture
def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


_numbers = itertools.count(1001)


@pytest.fixture
def make_order() -> Callable[..., OrderPayload]:
    """Orders with fresh keys; keyword arguments change the SKU, quantity or address."""

    def make(*, key: str | None = None, sku: str = "WIDGET-1", quantity: int = 1,
             postal_code: str = "60607", address1: str = "100 N Racine Ave") -> OrderPayload:
        number = next(_numbers)
        return OrderPayload(
            key=key or f"F-{number}-a1b2",
            order_number=f"#{number}",
            order_date=datetime(2025, 3, 4, 15, 30),
            ship_to=Address(name="Ada Lovelace", address1=address1, city="Chicago",
                            state="IL", postal_code=postal_code, country="US",
                            email="ada@example.com", phone="312-555-0100"),
            lines=(OrderLine(sku=sku, name="Widget", quantity=quantity,
                             unit_price=Decimal("19.90")),),
            ship_method="Ground",
            customer_email="ada@example.com",
        )

    return make
