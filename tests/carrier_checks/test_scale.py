"""10,000 Pending Shipment records: asked about in full carrier batches, and delivered ones
never again."""
import math

import pytest
from sqlalchemy import func, insert, select

RECORDS = 10_000


@pytest.fixture
def many_shipped(app, sandbox_account, clock):
    """``RECORDS`` FedEx packages, each the one package of a Pending Shipment record, due now;
    returns their tracking numbers."""
    from dashboard.extensions import db
    from dashboard.models import Fulfillment, Order, Shipment
    account_id = sandbox_account()
    numbers = [f"7{i:011d}" for i in range(RECORDS)]
    with app.app_context():
        order = Order(email="bulk@example.com", first_name="Bulk", last_name="Buyer",
                      address1="1 Main St", city="Austin", state="TX", postal_code="78701",
                      country="US")
        db.session.add(order)
        db.session.flush()
        db.session.execute(insert(Fulfillment.__table__), [
            {"reference": f"FFBULK{i:08d}", "order_id": order.id,
             "house_account_id": account_id, "status": "pending_shipment",
             "due_at": clock.at, "tracking_number": n, "carrier": "fedex",
             "shipped_at": clock.at, "next_check_at": clock.at, "outcome_unknown": False,
             "attempts": 1, "last_error": "", "failure_message": "", "carrier_exception": "",
             "tracking_stale": False, "is_reshipment": False, "rma_number": "",
             "ship_method": "", "created_at": clock.at, "updated_at": clock.at}
            for i, n in enumerate(numbers)])
        ids = dict(db.session.execute(select(Fulfillment.tracking_number, Fulfillment.id)).all())
        db.session.execute(insert(Shipment.__table__), [
            {"fulfillment_id": ids[n], "tracking_number": n, "carrier": "fedex",
             "ship_method": "", "shipped_at": clock.at, "carrier_status": "pre_transit",
             "carrier_detail": "", "status_source": "", "next_check_at": clock.at,
             "checks": 0, "done": False, "created_at": clock.at} for n in numbers])
        db.session.commit()
    return numbers


def _count(app, status):
    from dashboard.extensions import db
    from dashboard.models import Fulfillment
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Fulfillment)
                                 .where(Fulfillment.status == status))


@pytest.mark.slow
def test_ten_thousand_records_are_checked_in_batches(
        app, many_shipped, simulator, carrier_account, check, clock):
    """Are 10,000 FedEx packages asked about 30 to a request (334 requests), and at the next
    check only the ones still travelling, never a delivered one?"""
    fedex = simulator("fedex")
    carrier_account("fedex", fedex)
    delivered = set(many_shipped[::3])
    for number in many_shipped:
        fedex.register(number, "delivered" if number in delivered else "in_transit")

    summary = check()

    assert len(fedex.tracking_calls) == math.ceil(RECORDS / 30) == 334
    assert max(len(call) for call in fedex.tracking_calls) == 30
    assert sorted(n for call in fedex.tracking_calls for n in call) == sorted(many_shipped)
    assert summary.checked == RECORDS and summary.moved == RECORDS
    assert _count(app, "delivered") == len(delivered)
    assert _count(app, "shipped") == RECORDS - len(delivered)

    fedex.tracking_calls.clear()
    clock.advance(minutes=15)
    second = check()

    travelling = RECORDS - len(delivered)
    asked = [n for call in fedex.tracking_calls for n in call]
    assert second.checked == travelling == len(asked)
    assert len(fedex.tracking_calls) == math.ceil(travelling / 30)
    assert not delivered & set(asked)
