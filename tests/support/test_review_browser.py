"""Support's path in a real browser: a Sandbox rejection shows on the board, support opens
it, fixes the address, resends, and the next dispatch run gets it to Pending. And a
tracking CSV previewed with its errors, then applied."""
from pathlib import Path

import pytest
from testkit import PASSWORD

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _log_in(page, live_server, email):
    page.goto(live_server + "/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")


def test_rejected_address_is_fixed_resent_and_reaches_pending(app, live_server, page,
                                                              make_user, sandbox_account,
                                                              product, place):
    SHOTS.mkdir(exist_ok=True)
    from dashboard.services.dispatch import dispatch
    account = sandbox_account("Sandbox East")
    shoe = product("SHOE-TRAIL-42", account_id=account, name="Trail Running Shoe")
    order_id, [fid] = place([(shoe, 1)], postal_code="00000")
    with app.app_context():
        assert dispatch().failed == 1
    make_user("sam@example.com", "support", "Sam Support")

    _log_in(page, live_server, "sam@example.com")
    assert page.locator("[data-total=failed]").inner_text() == "1"
    page.screenshot(path=SHOTS / "support-board.png", full_page=True)
    page.get_by_role("link", name="Review failed (1)").click()
    row = page.locator(f"tr[data-fulfillment='{fid}']")
    assert "Address" in row.locator("[data-reason]").inner_text()
    assert "does not deliver to" in row.locator(".house-message").inner_text()
    assert "Correct the shipping address" in row.locator(".resolution").inner_text()
    page.screenshot(path=SHOTS / "support-review-list.png", full_page=True)
    # select-all is a script file (the CSP allows no inline handler), and it works
    page.get_by_label("Select all on this page").check()
    assert row.locator("input[name=ids]").is_checked()
    page.get_by_label("Select all on this page").uncheck()
    assert not row.locator("input[name=ids]").is_checked()
    row.get_by_role("link", name="Open").click()

    page.fill("input[name=postal_code]", "2220")
    page.click("button:has-text('Save address')")
    assert "Enter a US ZIP code" in page.locator(".field-error").first.inner_text()
    page.screenshot(path=SHOTS / "support-review-bad-zip.png", full_page=True)
    page.fill("input[name=postal_code]", "22202")
    page.click("button:has-text('Save address')")
    assert "Address saved" in page.locator(".flash.success").inner_text()
    page.screenshot(path=SHOTS / "support-review-fixed.png", full_page=True)
    page.get_by_role("button", name="Resend").click()
    assert "back in Hold" in page.locator(".flash.success").inner_text()

    with app.app_context():
        assert dispatch().sent == 1
    page.goto(f"{live_server}/orders/{order_id}")
    assert page.locator(f"#f{fid} [data-status]").get_attribute("data-status") == "pending"
    timeline = page.locator(f"#f{fid} .timeline").inner_text()
    assert "Sam Support" in timeline and "“00000” → “22202”" in timeline
    page.screenshot(path=SHOTS / "support-order-resent.png", full_page=True)


def test_tracking_csv_preview_shows_errors_then_applies_valid_rows(app, live_server, page,
                                                                  make_user, sandbox_account,
                                                                  product, place, tmp_path):
    SHOTS.mkdir(exist_ok=True)
    account = sandbox_account("Sandbox East")
    shoe = product("SHOE-1", account_id=account)
    order_id, [fid] = place([(shoe, 1)])
    make_user("sam@example.com", "support", "Sam Support")
    csv_file = tmp_path / "tracking.csv"
    csv_file.write_text("orderId,fulfillmentId,tracking,carrier,method\n"
                        f"{order_id},{fid},9400100000000000000001,usps,Priority\n"
                        f"424242,{fid},9400100000000000000002,usps,Priority\n")
    _log_in(page, live_server, "sam@example.com")
    page.goto(live_server + "/imports/")
    page.set_input_files("input[name=file]", str(csv_file))
    page.click("button:has-text('Upload and preview')")
    assert "Unknown order 424242." in page.locator("[data-line='3']").inner_text()
    page.screenshot(path=SHOTS / "support-import-preview.png", full_page=True)
    page.check("input[name=valid_only]")
    page.get_by_role("button", name="Apply").click()
    assert "1 moved to Pending Shipment" in page.locator(".flash.success").inner_text()
    page.goto(live_server + "/fulfillments/?status=pending_shipment")
    assert page.locator(f"tr[data-fulfillment='{fid}']").count() == 1
    page.screenshot(path=SHOTS / "support-fulfillments.png", full_page=True)
