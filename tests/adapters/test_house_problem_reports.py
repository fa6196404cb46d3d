"""A bad order reads the same way by polling and by the house's webhook for it: the body
the simulator says the house sends when its warehouse holds or raises the order, parsed by
the adapter, names the same problem as the next tracking check (real HTTP)."""
from __future__ import annotations

import pytest
import requests

from adapters.base import SentOrder
from adapters.shipbob import ShipBobHouse
from adapters.shipmonk import ShipMonkHouse
from simulators import shipbob, shipmonk

HOUSES = {
    "shipmonk": (ShipMonkHouse, shipmonk.create_app,
                 {"api_key": "sm-api-key", "store_id": "7001"}),
    **{f"shipbob-{version}": (ShipBobHouse, shipbob.create_app,
                              {"token": "sb-personal-access-token", "channel_id": "401",
                               "api_version": version}) for version in ("2026-01", "1.0")},
}


class House:
    """A simulator on 127.0.0.1 and an adapter of one account pointed at it."""

    def __init__(self, root: str, adapter):
        self.root = root
        self.adapter = adapter

    def control(self, action: str, body: dict) -> dict:
        response = requests.post(f"{self.root}/_control/{action}", json=body, timeout=5)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(params=list(HOUSES))
def house(request, clock, serve_app):
    adapter_cls, create_app, credentials = HOUSES[request.param]
    root = serve_app(create_app(clock=clock))
    return House(root, adapter_cls(credentials, root, timeout=5))


def _webhook_tracking(adapter, body):
    if isinstance(adapter, ShipMonkHouse):
        return adapter.status_change_tracking(body)
    return adapter.webhook_tracking(body)


@pytest.mark.parametrize("change", [{"sku": "NO-SUCH-SKU"}, {"sku": "SOLDOUT-1"},
                                    {"postal_code": "1234"}],
                         ids=["unknown-sku", "no-stock", "bad-zip"])
def test_does_the_webhook_name_the_problem_polling_finds(house, make_order, change):
    house.control("processing", {"delay": 600})
    adapter = house.adapter
    order = make_order(**change)
    [outcome] = adapter.send([order])
    sent = SentOrder(order.key, outcome.house_reference, order.order_number)
    assert adapter.fetch_tracking([sent]) == []  # the warehouse has not looked yet
    body = house.control("process", {"key": order.key})
    by_webhook = _webhook_tracking(adapter, body)
    [by_polling] = adapter.fetch_tracking([sent])
    assert by_webhook.problem is not None and by_webhook.problem == by_polling.problem
    assert by_webhook.key == order.key


def test_are_the_webhook_bodies_the_houses_documented_ones(house, make_order):
    adapter = house.adapter
    order = make_order(sku="NO-SUCH-SKU")
    adapter.send([order])
    body = house.control("process", {"key": order.key})
    if isinstance(adapter, ShipMonkHouse):
        shipmonk.CONTRACT.check_webhook("orderStatusChange", body)
    else:
        assert isinstance(adapter, ShipBobHouse)
        shipbob.CONTRACT.check_webhook("order.shipment.exception", body)
        shipbob.CONTRACT.check_schema("Orders.ShipmentViewModel", body)
