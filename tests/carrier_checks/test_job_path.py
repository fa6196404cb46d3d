"""Each carrier through the whole job path: a Pending Shipment record, a carrier account
pointing at the carrier's simulator, ``check_carriers``, and what the record says after."""
from datetime import timedelta

import pytest

from adapters.base import Package

from .conftest import CARRIERS

TOKEN_CARRIERS = [c for c in CARRIERS if c.key != "dhl_express"]


@pytest.fixture
def tracked(running, carrier_account, shipped):
    """A record shipped with the running carrier, whose account points at its simulator."""
    carrier = running.carrier
    account_id = carrier_account(carrier.key, running.sim)
    fid = shipped(Package(carrier.number, carrier=carrier.name))
    return running, fid, account_id


@pytest.mark.parametrize(("journey", "status"), [
    ("in_transit", "shipped"),
    ("out_for_delivery", "shipped"),
    ("delivered", "delivered"),
    ("returned", "returned"),
])
def test_the_carrier_moves_the_record(tracked, check, seen, journey, status):
    """Does the carrier's word move a Pending Shipment record to the matching status, and
    does the timeline say which carrier said it?"""
    running, fid, _ = tracked
    running.sim.register(running.carrier.number, journey)

    summary = check()

    after = seen(fid)
    assert after.status == status
    assert summary.checked == 1 and summary.moved == 1 and summary.errors == 0
    [shipment] = after.shipments
    assert shipment["status_source"] == f"carrier:{running.carrier.key}"
    assert shipment["done"] is (journey in ("delivered", "returned"))
    *_, (before, to, source, detail, applied) = after.events
    assert (before, to, source, applied) == ("pending_shipment", status, "carrier", True)
    assert detail == f"According to {running.carrier.name}: {shipment['carrier_detail']}"
    assert shipment["carrier_detail"]  # the carrier's own words


def test_delivered_is_not_asked_again(tracked, check, seen, clock):
    """Once delivered, is the package left alone at the next checks?"""
    running, fid, _ = tracked
    running.sim.register(running.carrier.number, "delivered")
    check()
    asked = len(running.sim.tracking_calls)

    clock.advance(hours=13)
    summary = check()

    assert summary.checked == 0 and len(running.sim.tracking_calls) == asked
    assert seen(fid).status == "delivered"


def test_exception_flags_for_support_and_clears_when_moving_on(tracked, check, seen, clock):
    """Does a delivery exception set the flag without moving the record, and does the
    next scan clear it and move the record on?"""
    running, fid, _ = tracked
    running.sim.register(running.carrier.number, "exception")

    check()

    flagged = seen(fid)
    assert flagged.status == "pending_shipment"
    assert flagged.carrier_exception == flagged.shipments[0]["carrier_detail"].rstrip(".") != ""
    assert flagged.events[-1][:2] == ("pending_shipment", "pending_shipment")
    assert flagged.events[-1][3] == f"Carrier exception, for support: {flagged.carrier_exception}"

    running.sim.register(running.carrier.number, "in_transit")
    clock.advance(minutes=15)
    check()

    cleared = seen(fid)
    assert cleared.status == "shipped" and cleared.carrier_exception == ""


def test_unknown_number_changes_nothing(tracked, check, seen, clock):
    """A number the carrier does not know yet: status unchanged, asked again later."""
    running, fid, _ = tracked

    check()

    after = seen(fid)
    assert after.status == "pending_shipment" and after.carrier_exception == ""
    [shipment] = after.shipments
    assert shipment["carrier_status"] == "pre_transit" and not shipment["done"]
    assert "found" in shipment["carrier_detail"].lower()
    assert shipment["next_check_at"] == clock.at + timedelta(minutes=15)


@pytest.mark.parametrize("running", TOKEN_CARRIERS, indirect=True, ids=lambda c: c.key)
def test_expired_token_is_refreshed(tracked, check, seen, clock):
    """When the carrier drops its token between checks, is a new one fetched and the
    package still followed?"""
    running, fid, _ = tracked
    running.sim.register(running.carrier.number, "in_transit")
    check()
    running.sim.expire_tokens()
    running.sim.register(running.carrier.number, "delivered")
    clock.advance(minutes=15)

    summary = check()

    assert summary.errors == 0 and seen(fid).status == "delivered"
    assert running.sim.token_requests == 2


def test_carrier_down_changes_nothing_and_is_retried(tracked, check, seen, clock, account_row):
    """A carrier answering 503: status unchanged, the account paused a few minutes, and the
    package asked about again at the next check."""
    running, fid, account_id = tracked
    running.sim.register(running.carrier.number, "delivered")
    running.sim.down = True

    summary = check()

    assert summary.errors == 1 and seen(fid).status == "pending_shipment"
    paused_until = account_row(account_id).paused_until
    assert clock.at < paused_until <= clock.at + timedelta(minutes=15)

    running.sim.down = False
    clock.advance(minutes=15)
    check()

    assert seen(fid).status == "delivered"
