"""One suite every push-house adapter passes against its house's simulator.

The ``house`` fixture runs once per entry of ``conftest.HOUSE_CASES``; a new adapter
inherits every test here by being added there.
"""
from __future__ import annotations

from importlib import import_module

import pytest

from adapters.base import Accepted, AdapterError, FailureReason, Rejected, SentOrder, Transient

#: orders a warehouse cannot fill as sent, the reason support has to fix, and what the
#: house's words must name
BAD_ORDERS = pytest.mark.parametrize("kind, change, reason, named", [
    pytest.param(kind, change, reason, named, id=kind) for kind, change, reason, named in (
        ("unknown-sku", {"sku": "NO-SUCH-SKU"}, FailureReason.SKU, "NO-SUCH-SKU"),
        ("sold-out", {"sku": "SOLDOUT-1"}, FailureReason.STOCK, "SOLDOUT-1"),
        ("short-stock", {"quantity": 900}, FailureReason.STOCK, "WIDGET-1"),
        ("bad-zip", {"postal_code": "1234"}, FailureReason.ADDRESS, "1234"))])


def sent(order, outcome) -> SentOrder:
    return SentOrder(order.key, outcome.house_reference, order.order_number)


def test_does_the_adapter_declare_what_the_dashboard_needs(house):
    cls = house.case.adapter
    assert cls.mode == "push" and cls.batch_size >= 1
    assert cls.name and cls.description and cls.website.startswith("https://")
    assert cls.logo == f"{cls.key}.svg" and cls.webhook.kind == cls.key
    assert import_module(cls.simulator).create_app is house.case.create_app
    assert cls.default_base_url.startswith("https://")
    base_url = next(f for f in cls.fields if f.name == "base_url")
    assert base_url.advanced and not base_url.required
    assert base_url.check("ftp://example.com") and base_url.check(house.api_url) is None
    names = {f.name for f in cls.fields}
    assert set(house.case.credentials) <= names


def test_is_a_sent_order_accepted_and_created_once(house, make_order):
    order = make_order()
    [outcome] = house.adapter().send([order])
    assert isinstance(outcome, Accepted) and outcome.key == order.key
    assert outcome.house_reference
    assert house.creations() == {order.key: 1}
    assert house.adapter().lookup([order.key]) == {order.key: outcome}


def test_does_a_batch_give_one_outcome_per_order_in_order(house, make_order):
    if house.case.adapter.batch_size < 3:
        pytest.skip("the house takes fewer than three orders per call")
    if house.case.bad_order_problems:
        pytest.skip("the house accepts bad orders and holds or refuses them later")
    orders = [make_order(), make_order(sku="NO-SUCH-SKU"), make_order()]
    outcomes = house.adapter().send(orders)
    assert [o.key for o in outcomes] == [o.key for o in orders]
    assert [type(o) for o in outcomes] == [Accepted, Rejected, Accepted]
    assert outcomes[1].reason is FailureReason.SKU
    assert house.creations() == {orders[0].key: 1, orders[2].key: 1}


def test_does_a_resend_after_a_crash_reuse_the_order(house, make_order):
    order = make_order()
    [first] = house.adapter().send([order])
    # a new worker, knowing nothing of the first send, sends the same fulfillment again
    [again] = house.adapter().send([order])
    assert isinstance(again, Accepted) and again.house_reference == first.house_reference
    assert house.creations() == {order.key: 1}


def test_does_a_resend_of_an_order_shipped_since_read_as_accepted(house, make_order):
    order = make_order()
    [first] = house.adapter().send([order])
    house.control("ship", {"key": order.key, "packages": list(house.case.several_packages)})
    [again] = house.adapter().send([order])
    assert again == first
    assert house.creations() == {order.key: 1}


def test_does_a_timeout_after_the_house_accepted_leave_one_order(house, make_order):
    order = make_order()
    house.control("fail", {"mode": "timeout_after_accept", "delay": 1.5})
    [outcome] = house.adapter(timeout=0.5).send([order])
    assert isinstance(outcome, Transient) and outcome.maybe_received
    found = house.adapter().lookup([order.key])
    assert list(found) == [order.key]
    [again] = house.adapter().send([order])
    assert again == found[order.key]
    assert house.creations() == {order.key: 1}


@BAD_ORDERS
def test_is_a_refusal_rejected_with_its_reason_and_the_house_words(house, make_order, kind,
                                                                      change, reason, named):
    if house.case.bad_order_problems:
        pytest.skip("the house accepts bad orders and holds or refuses them later")
    order = make_order(**change)
    [outcome] = house.adapter().send([order])
    assert isinstance(outcome, Rejected)
    assert outcome.reason is reason
    assert named in outcome.message
    assert house.creations() == {}


@BAD_ORDERS
def test_is_a_bad_order_accepted_then_reported_with_its_reason(house, make_order, kind,
                                                               change, reason, named):
    """The house takes the order, then its warehouse holds or refuses it: tracking says
    so with a typed reason and the house's words, final or not as the house means it."""
    if not house.case.bad_order_problems:
        pytest.skip("the house refuses bad orders at create time")
    order = make_order(**change)
    [outcome] = house.adapter().send([order])
    assert isinstance(outcome, Accepted) and house.creations() == {order.key: 1}
    [info] = house.adapter().fetch_tracking([sent(order, outcome)])
    expected_reason, final = house.case.bad_order_problems[kind]
    assert info.problem is not None and not info.packages and not info.cancelled
    assert (info.problem.reason, info.problem.final) == (expected_reason, final)
    assert expected_reason is reason and named in info.problem.message


def test_is_a_server_error_transient_and_maybe_received(house, make_order):
    order = make_order()
    house.control("fail", {"mode": "error", "status": 503})
    [outcome] = house.adapter().send([order])
    assert isinstance(outcome, Transient) and outcome.maybe_received
    assert "503" in outcome.message
    [retried] = house.adapter().send([order])
    assert isinstance(retried, Accepted)
    assert house.creations() == {order.key: 1}


def test_is_a_refused_connection_transient_and_not_received(house, make_order,
                                                           closed_port_url):
    adapter = house.case.adapter(house.case.credentials, closed_port_url + house.case.api_path)
    [outcome] = adapter.send([make_order()])
    assert isinstance(outcome, Transient) and not outcome.maybe_received
    assert "reach" in adapter.check_credentials()


def test_does_a_rate_limit_give_the_house_retry_after(house, make_order):
    house.control("rate-limit", {"limit": 1, "window": 60})
    [first] = house.adapter().send([make_order()])
    assert isinstance(first, Accepted)
    house.clock.advance(17)
    [limited] = house.adapter().send([make_order()])
    assert isinstance(limited, Transient) and not limited.maybe_received
    # 43 s, or 44 where the house sends an HTTP date (whole seconds, rounded up)
    assert 43 <= limited.retry_after <= 44
    house.clock.advance(43)
    [later] = house.adapter().send([make_order()])
    assert isinstance(later, Accepted)


def test_does_tracking_report_every_package(house, make_order):
    order = make_order()
    [outcome] = house.adapter().send([order])
    before = house.adapter().fetch_tracking([sent(order, outcome)])
    assert all(not info.packages and not info.cancelled for info in before)
    house.control("ship", {"key": order.key, "packages": list(house.case.several_packages)})
    [info] = house.adapter().fetch_tracking([sent(order, outcome)])
    assert info.key == order.key and info.house_reference == outcome.house_reference
    assert not info.cancelled
    assert {p.tracking_number for p in info.packages} == house.case.expected_tracking
    assert len(info.packages) == len(house.case.expected_tracking)
    assert all(p.carrier and p.shipped_at for p in info.packages)
    assert all(p.delivered_at is None for p in info.packages)


def test_does_tracking_report_the_house_delivery(house, make_order):
    if not house.case.reports_delivery:
        pytest.skip("the house reports no deliveries; its carriers do")
    order = make_order()
    [outcome] = house.adapter().send([order])
    house.control("ship", {"key": order.key, "packages": list(house.case.several_packages)})
    delivered = sorted(house.case.expected_tracking)[-1]
    house.control("deliver", {"key": order.key, "tracking_number": delivered})
    [info] = house.adapter().fetch_tracking([sent(order, outcome)])
    by_number = {p.tracking_number: p for p in info.packages}
    assert by_number[delivered].delivered_at is not None
    assert all(p.delivered_at is None for n, p in by_number.items() if n != delivered)


def test_does_cancel_cancel_once_and_only_before_shipping(house, make_order):
    order, shipped = make_order(), make_order()
    adapter = house.adapter()
    [outcome] = adapter.send([order])
    adapter.cancel(sent(order, outcome))
    [info] = adapter.fetch_tracking([sent(order, outcome)])
    assert info.cancelled and not info.packages
    adapter.cancel(sent(order, outcome))  # cancelling twice is harmless
    assert house.creations()[order.key] == 1

    [other] = adapter.send([shipped])
    house.control("ship", {"key": shipped.key, "packages": list(house.case.several_packages)})
    with pytest.raises(AdapterError) as refused:
        adapter.cancel(sent(shipped, other))
    assert not refused.value.transient
    [still] = adapter.fetch_tracking([sent(shipped, other)])
    assert not still.cancelled and still.packages


def test_are_bad_credentials_refused_for_every_order(house, make_order):
    adapter = house.adapter(house.case.bad_credentials)
    problem = adapter.check_credentials()
    assert problem and "refused" in problem
    orders = [make_order() for _ in range(min(house.case.adapter.batch_size, 2))]
    outcomes = adapter.send(orders)
    assert [o.key for o in outcomes] == [o.key for o in orders]
    assert all(isinstance(o, Rejected) and o.reason is FailureReason.CREDENTIALS
               for o in outcomes)
    assert house.creations() == {}


def test_does_check_credentials_tell_a_wrong_store_or_channel(house):
    assert house.adapter().check_credentials() is None
    wrong = house.case.wrong_account
    problem = house.adapter(wrong).check_credentials()
    wrong_id = wrong.get("store_id") or wrong.get("channel_id")
    assert problem and wrong_id in problem


def test_is_an_unknown_key_absent_from_lookup_and_tracking(house):
    adapter = house.adapter()
    assert adapter.lookup(["F-never-sent"]) == {}
    assert adapter.fetch_tracking([SentOrder("F-never-sent", "1", "#0")]) == []


def test_an_adapter_missing_a_call_cannot_be_built():
    """The interface is a contract: a house that leaves out one of the five calls fails
    when it is built, not when dispatch first needs that call."""
    from adapters.base import HouseAdapter

    class Incomplete(HouseAdapter):
        key = name = description = website = "incomplete"

        def check_credentials(self):
            return None

        def send(self, orders):
            return []

    with pytest.raises(TypeError, match="abstract"):
        Incomplete({})
