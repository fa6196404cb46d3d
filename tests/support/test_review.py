"""Failed review: reasons with resolutions, address and account repairs, resend, cancel,
bulk resend and reship — each an event with the staff member's name, each refused
cleanly when the status rules or the input say no."""
import re

import pytest
from sqlalchemy import func, select

FIXED = {"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com",
         "address1": "1 Navy Way", "city": "Arlington", "state": "VA",
         "postal_code": "22202", "country": "US"}


def _staff_events(f):
    return [(e.from_status, e.to_status, e.actor, e.detail) for e in f.events
            if e.source == "staff"]


def test_list_shows_reason_house_message_and_resolution(support, failed):
    failed("address", "Address could not be validated: 1 Navy Way")
    failed("sku", "Product with SKU SHOE-UNKNOWN does not exist")
    failed("credentials", "401 Unauthorized")
    page = support.get("/review/").get_data(as_text=True)
    assert page.count("data-fulfillment=") == 3
    assert "Address could not be validated: 1 Navy Way" in page
    assert "Correct the shipping address below, then Resend." in page
    assert "Map the SKU to the house&#39;s code in the account&#39;s SKU mappings" in page
    assert "an admin must update the account&#39;s credentials" in page
    only_sku = support.get("/review/?reason=sku").get_data(as_text=True)
    assert only_sku.count("data-fulfillment=") == 1 and 'data-reason="sku"' in only_sku


def test_empty_review_says_there_is_nothing_to_do(support, record):
    record("delivered")
    assert "Nothing to review" in support.get("/review/").get_data(as_text=True)


def test_address_fix_saves_and_records_who_changed_what(support, failed, get):
    order_id, fid = failed(postal_code="00000")
    response = support.post(f"/review/{fid}/address", FIXED, form_page=f"/review/{fid}")
    assert response.status_code == 302
    f = get(fid)
    assert f.order.postal_code == "22202" and f.status == "failed"
    [(_, to, actor, detail)] = _staff_events(f)
    assert to == "failed" and actor == "Sam Support"
    assert "ZIP / postal code “00000” → “22202”" in detail


def test_address_with_a_bad_zip_is_refused_next_to_the_field(support, failed, get):
    _, fid = failed(postal_code="00000")
    response = support.post(f"/review/{fid}/address", {**FIXED, "postal_code": "2220"},
                            form_page=f"/review/{fid}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(r'has-error.*?postal_code.*?Enter a US ZIP code', page, re.S)
    f = get(fid)
    assert f.order.postal_code == "00000" and _staff_events(f) == []


def test_address_of_a_record_at_the_house_cannot_change(support, record, get):
    _, fid = record("pending", postal_code="10001")
    support.post(f"/review/{fid}/address", FIXED, form_page=f"/review/{fid}")
    assert get(fid).order.postal_code == "10001"


def test_change_account_only_to_another_active_account(app, support, failed, sandbox_account,
                                                       get):
    from dashboard.extensions import db
    from dashboard.models import HouseAccount
    west, dead = sandbox_account("Sandbox West"), sandbox_account("Old House")
    with app.app_context():
        db.session.get(HouseAccount, dead).active = False
        db.session.commit()
    _, fid = failed("stock")
    page = support.get(f"/review/{fid}").get_data(as_text=True)
    assert "Sandbox West" in page and "Old House" not in page
    refused = support.post(f"/review/{fid}/account", {"house_account_id": dead},
                           form_page=f"/review/{fid}")
    assert refused.status_code == 400
    assert "Choose another active house account" in refused.get_data(as_text=True)
    original = get(fid).house_account_id
    assert original != dead
    assert support.post(f"/review/{fid}/account", {"house_account_id": west},
                        form_page=f"/review/{fid}").status_code == 302
    f = get(fid)
    assert f.house_account_id == west
    assert _staff_events(f)[0][3] == "House account changed from “Sandbox East” to “Sandbox West”."


def test_resend_moves_failed_to_hold_due_now(support, failed, get, clock):
    _, fid = failed()
    clock.advance(hours=3)
    response = support.post(f"/review/{fid}/resend", form_page=f"/review/{fid}")
    assert response.status_code == 302
    f = get(fid)
    assert f.status == "hold" and f.due_at == clock()
    assert f.failure_reason is None
    assert _staff_events(f) == [("failed", "hold", "Sam Support", "Resent after review.")]
    page = support.get(response.headers["Location"]).get_data(as_text=True)
    assert "is back in Hold. It is sent in the next run" in page


def test_resend_of_a_delivered_record_is_refused_and_changes_nothing(support, record, get):
    _, fid = record("delivered")
    response = support.post(f"/review/{fid}/resend", form_page="/review/")
    page = support.get(response.headers["Location"]).get_data(as_text=True)
    assert "was not resent: it is Delivered, and only Failed records can be resent" in page
    f = get(fid)
    assert f.status == "delivered" and _staff_events(f) == []


def test_cancel_asks_first_then_cancels(support, failed, get):
    _, fid = failed()
    confirm = support.get(f"/review/{fid}/cancel").get_data(as_text=True)
    assert "This cannot be undone" in confirm and get(fid).status == "failed"
    support.post(f"/review/{fid}/cancel")
    f = get(fid)
    assert f.status == "cancelled"
    assert _staff_events(f) == [("failed", "cancelled", "Sam Support", "Cancelled by staff.")]


def test_cancel_of_a_shipped_record_is_refused(support, record, get):
    _, fid = record("shipped")
    assert "cannot be cancelled here" in support.get(f"/review/{fid}/cancel").get_data(
        as_text=True)
    support.post(f"/review/{fid}/cancel", form_page=f"/review/{fid}/reship")
    assert get(fid).status == "shipped"


def test_bulk_resend_of_selected_counts_moved_and_refused(support, failed, record, get):
    a, b = failed()[1], failed()[1]
    delivered = record("delivered")[1]
    response = support.post("/review/resend", {"ids": [a, b, delivered, 999999], "all": "0"},
                            form_page="/review/")
    page = support.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 resent to Hold." in page
    assert "2 refused: 1 is Delivered, 1 no longer exists. Only Failed records can be " \
           "resent." in page
    assert [get(i).status for i in (a, b, delivered)] == ["hold", "hold", "delivered"]
    assert _staff_events(get(a))[0][2] == "Sam Support"


def test_bulk_resend_of_all_filtered_moves_only_what_the_filters_select(support, failed, get):
    address = [failed("address")[1] for _ in range(3)]
    stock = failed("stock")[1]
    response = support.post("/review/resend", {"all": "1", "reason": "address"},
                            form_page="/review/")
    page = support.get(response.headers["Location"]).get_data(as_text=True)
    assert "3 resent to Hold." in page
    assert [get(i).status for i in address] == ["hold"] * 3 and get(stock).status == "failed"


def test_bulk_resend_with_nothing_selected_says_so(support, failed):
    failed()
    response = support.post("/review/resend", {"all": "0"}, form_page="/review/")
    assert "select at least one" in support.get(response.headers["Location"]).get_data(
        as_text=True)


def test_reship_creates_a_new_hold_record_with_the_same_items(app, support, record, get):
    order_id, fid = record("delivered")
    support.post(f"/review/{fid}/reship", {"note": "lost in transit"})
    from dashboard.extensions import db
    from dashboard.models import Fulfillment
    with app.app_context():
        new_id = db.session.scalar(select(Fulfillment.id).where(Fulfillment.reship_of_id == fid))
    original, new = get(fid), get(new_id)
    assert new.status == "hold" and new.is_reshipment and new.order_id == order_id
    assert new.reference != original.reference and new.reference.startswith("FF")
    assert [(i.sku, i.quantity, i.order_item_id) for i in new.items] == \
        [(i.sku, i.quantity, i.order_item_id) for i in original.items]
    assert original.status == "delivered"
    assert _staff_events(original) == [("delivered", "delivered", "Sam Support",
                                        f"Reshipped as {new.reference}. Why: lost in transit")]
    assert _staff_events(new) == [(None, "hold", "Sam Support",
                                   f"Reshipment of {original.reference}. Why: lost in transit")]
    page = support.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "Reshipment" in page and f"Reshipped as {new.reference}" in page


def test_reship_of_a_failed_record_is_refused(app, support, failed):
    _, fid = failed()
    assert "only what the house already shipped" in support.get(
        f"/review/{fid}/reship").get_data(as_text=True)
    support.post(f"/review/{fid}/reship", form_page=f"/review/{fid}/reship")
    from dashboard.extensions import db
    from dashboard.models import Fulfillment
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Fulfillment)) == 1


def test_order_page_offers_the_actions_each_status_allows(support, record, failed):
    order_id, fid = failed()
    page = support.get(f"/orders/{order_id}").get_data(as_text=True)
    assert f'action="/review/{fid}/resend"' in page and f"/review/{fid}/cancel" in page
    assert f"/review/{fid}/reship" not in page
    order_id, fid = record("shipped")
    page = support.get(f"/orders/{order_id}").get_data(as_text=True)
    assert f"/review/{fid}/reship" in page and f"/review/{fid}/resend" not in page


def test_review_pages_need_a_login(app, failed, get):
    _, fid = failed()
    client = app.test_client()
    for path in ("/review/", f"/review/{fid}", f"/review/{fid}/cancel"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.post(f"/review/{fid}/resend").status_code in (302, 400)
    assert get(fid).status == "failed"


@pytest.mark.parametrize(("target", "lands"), [
    ("/review/?status=failed", "/review/?status=failed"),
    ("//evil.example/x", None),
    ("/\\evil.example/x", None),
    ("javascript:alert(1)", None),
    ("/x\r\nLocation: https://evil.example", None),
])
def test_does_a_resend_go_back_only_to_a_local_page(support, failed, target, lands):
    _, fid = failed()
    response = support.post(f"/review/{fid}/resend", {"next": target},
                            form_page=f"/review/{fid}")
    assert response.status_code == 302
    assert response.headers["Location"] == (lands or f"/review/{fid}")
