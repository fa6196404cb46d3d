"""The house documents as contracts: a deliberately wrong field is caught in a request (the
house's error), in an answer (a failing test) and in a webhook payload."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from flask import Flask

from simulators.common import SimulatedHouse, install, json_error, serve
from simulators.contract import CONTRACTS_DIR, Contract, ContractViolation

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "house-apis"

SHIPMONK = Contract("shipmonk-openapi-v1.024.json")
SHIPBOB = Contract("shipbob-openapi-2026-01.json", "shipbob-webhooks-asyncapi.yml")


def monk_order(**changes) -> dict:
    order = {"store_id": 7001, "order_number": "#1001", "order_key": "F-1",
             "ordered_at": "2025-03-04T15:30:00Z", "order_status": "unfulfilled",
             "requested_shipping_service": "Standard",
             "ship_to": {"name": "Ada Lovelace", "street1": "100 N Racine Ave", "city": "Chicago",
                         "state": "IL", "zip": "60607", "country": "US"},
             "items": [{"sku": "WIDGET-1", "name": "Widget", "quantity": 1}]}
    order.update(changes)
    return order


def test_a_conforming_request_has_no_problems():
    assert SHIPMONK.request_problems("post", "/v1/integrations/order",
                                     body=json.dumps(monk_order()).encode()) == []


def test_a_wrong_field_in_a_request_is_named():
    problems = SHIPMONK.request_problems(
        "post", "/v1/integrations/order", body=json.dumps(monk_order(store_id="7001")).encode())
    assert any("store_id" in line and "integer" in line for line in problems), problems


def test_a_request_outside_the_document_is_a_problem():
    assert SHIPMONK.request_problems("get", "/v1/integrations/nowhere")
    assert SHIPMONK.request_problems("delete", "/v1/integrations/order")


def test_a_wrong_field_in_an_answer_raises():
    with pytest.raises(ContractViolation, match="status"):
        SHIPMONK.check_response("get", "/v1/integrations/orders", 200,
                                json.dumps({"status": "ok", "data": None}).encode())


def test_an_undocumented_success_raises_but_the_houses_own_errors_pass():
    with pytest.raises(ContractViolation):
        SHIPMONK.check_response("post", "/v1/integrations/order", 201, b"{}")
    SHIPMONK.check_response("post", "/v1/integrations/order", 429, b'{"message": "slow down"}')
    assert SHIPMONK.documents_status("post", "/v1/integrations/order", 200)
    assert not SHIPMONK.documents_status("post", "/v1/integrations/order", 429)


def test_a_wrong_field_in_a_webhook_raises():
    with pytest.raises(ContractViolation, match="order_key"):
        SHIPMONK.check_webhook("orderStatusChange", {"order_key": 12})


def test_an_asyncapi_webhook_and_a_component_are_checked():
    assert SHIPBOB.webhook_schema_pointer("order.shipment.exception").endswith("/payload")
    SHIPBOB.check_webhook("order.shipment.exception", {"id": 1})
    with pytest.raises(ContractViolation):
        SHIPBOB.check_webhook("order.shipment.exception", ["not", "an", "object"])
    with pytest.raises(KeyError):
        SHIPBOB.check_schema("NoSuchModel", {})


class _TinyHouse(SimulatedHouse):
    """A house whose one route answers what the test tells it to."""

    contract = SHIPMONK

    def __init__(self):
        super().__init__(rate_limit=100, rate_window=60)
        self.answer: dict = {}

    def caller(self, req):
        return req.headers.get("Api-Key")

    def unauthorized(self):
        return json_error(401, {"message": "no key"})

    def too_many_requests(self, decision):
        return json_error(429, {"message": "slow down"})

    def server_error(self, status):
        return json_error(status, {"message": "boom"})

    def contract_error(self, problems):
        return json_error(422, {"message": "; ".join(problems)})

    def ship(self, key, packages):
        raise LookupError(key)


@pytest.fixture
def tiny():
    app = Flask(__name__)
    house = _TinyHouse()

    @app.get("/v1/integrations/orders")
    def orders():
        return house.answer

    install(app, house)
    root, stop = serve(app)
    yield root, house
    house.contract_violations.clear()  # the test below broke the contract on purpose
    stop()


def test_a_simulator_answers_a_request_the_document_rejects_with_the_houses_error(tiny):
    root, _house = tiny
    answer = requests.get(f"{root}/v1/integrations/orders", params={"storeId": "seven"},
                          headers={"Api-Key": "k"}, timeout=5)
    assert answer.status_code == 422 and "storeId" in answer.json()["message"]


def test_a_simulator_answer_the_document_rejects_is_a_500_and_fails_stop():
    app = Flask(__name__)
    house = _TinyHouse()
    house.answer = {"status": "ok", "data": None}
    app.add_url_rule("/v1/integrations/orders", "orders", lambda: house.answer)
    install(app, house)
    root, stop = serve(app)
    answer = requests.get(f"{root}/v1/integrations/orders", headers={"Api-Key": "k"}, timeout=5)
    assert answer.status_code == 500 and "status" in answer.json()["contract_violation"]
    assert requests.get(f"{root}/_control/contract-violations", timeout=5).json()["violations"]
    with pytest.raises(ContractViolation, match="GET /v1/integrations/orders"):
        stop()


@pytest.mark.skipif(not SHARED.is_dir(), reason="no shared/ beside the repository")
@pytest.mark.parametrize("name", sorted(p.name for p in CONTRACTS_DIR.iterdir()))
def test_the_copied_documents_match_the_product_reference(name):
    assert (CONTRACTS_DIR / name).read_bytes() == (SHARED / name).read_bytes()
