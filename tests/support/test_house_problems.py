"""A house's problem with an order it accepted, as support sees it: a hold on the status
board and in the failed review's "held at the house" list, a refusal among the failed,
each with the house's words on the timeline. The problem is made up here (any house's
adapter reports it the same way); ShipStation's own are in tests/houses."""
import pytest

from adapters.base import FailureReason, HouseProblem

HOLD = HouseProblem(FailureReason.STOCK, "Backordered at the warehouse: GADGET-9 (0 of 2).",
                    final=False)
REFUSAL = HouseProblem(FailureReason.REJECTED, "The 3PL refused the order: hazmat item.")


@pytest.fixture
def report(app):
    """Hand ``problem`` about fulfillment ``fid`` to the dashboard as tracking would."""
    def make(fid, problem):
        from dashboard.extensions import db
        from dashboard.services.house_problems import apply_problems
        with app.app_context():
            outcome = apply_problems({fid: problem}, source="tracking", actor="Sandbox East")
            db.session.commit()
        return outcome
    return make


def test_is_a_hold_on_the_board_and_in_the_held_list(support, record, report):
    _order, held = record("pending")
    _order, other = record("pending")
    assert report(held, HOLD) == (0, "1 held at the house: " + HOLD.message)
    board = support.get("/").get_data(as_text=True)
    assert 'data-stuck="held_at_house"' in board
    card = board[board.index('data-stuck="held_at_house"'):]
    assert 'data-count="1"' in card[:800] and "Held at the house" in card[:800]
    review = support.get("/review/").get_data(as_text=True)
    assert 'data-held-count="1"' in review and f'data-fulfillment="{held}"' not in review
    listed = support.get("/review/?held=1").get_data(as_text=True)
    assert f'data-fulfillment="{held}"' in listed and f'data-fulfillment="{other}"' not in listed
    assert HOLD.message in listed and 'data-reason="stock"' in listed
    assert "Resend selected" not in listed  # a held list has no bulk resend


def test_does_the_held_page_say_what_the_house_said_and_offer_resend_and_cancel(
        support, record, report):
    order_id, fid = record("pending")
    report(fid, HOLD)
    page = support.get(f"/review/{fid}").get_data(as_text=True)
    assert "Held at the house." in page and HOLD.message in page
    assert f"/review/{fid}/resend" in page and f"/review/{fid}/cancel" in page
    order_page = support.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "Held at the house" in order_page and HOLD.message in order_page


def test_is_a_refusal_failed_with_its_reason_and_the_house_words(app, support, record, report):
    from dashboard.extensions import db
    from dashboard.models import Fulfillment
    _order, fid = record("pending")
    failed, _said = report(fid, REFUSAL)
    assert failed == 1
    with app.app_context():
        f = db.session.get(Fulfillment, fid)
        assert (f.status, f.failure_reason, f.failure_message) == (
            "failed", "rejected", REFUSAL.message)
        last = f.events[-1]
        assert (last.from_status, last.to_status, last.source) == ("pending", "failed",
                                                                    "tracking")
        assert REFUSAL.message in last.detail
    review = support.get("/review/?reason=rejected").get_data(as_text=True)
    assert f'data-fulfillment="{fid}"' in review and "Rejected" in review
    assert "fulfillment provider refused" in review  # the resolution for the reason


def test_is_a_hold_written_once_and_a_hold_never_reopens_a_finished_record(
        app, record, report):
    from dashboard.extensions import db
    from dashboard.models import Fulfillment
    _order, fid = record("pending")
    report(fid, HOLD)
    report(fid, HOLD)
    _order, shipped = record("pending_shipment")
    assert report(shipped, HOLD)[1].startswith("0 held")
    assert report(shipped, REFUSAL)[0] == 0
    with app.app_context():
        assert sum("Held at the house" in e.detail
                   for e in db.session.get(Fulfillment, fid).events) == 1
        late = db.session.get(Fulfillment, shipped)
        assert (late.status, late.failure_reason) == ("pending_shipment", None)
