"""The merchant's path in a real browser: log in, activate the Sandbox, Assign to All
Products, place an order in Order Entry, and follow it from Hold to Delivered."""
from pathlib import Path

import pytest
from rq import Queue, SimpleWorker
from testkit import PASSWORD

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _drain(app, redis_conn):
    from jobs.context import FlaskJob
    queue = Queue(app.config["RQ_QUEUE"], connection=redis_conn, job_class=FlaskJob)
    SimpleWorker([queue], connection=redis_conn, job_class=FlaskJob).work(burst=True)


def test_activate_assign_order_and_follow_to_delivered(app, live_server, page, make_user,
                                                       product, redis_conn, clock):
    SHOTS.mkdir(exist_ok=True)
    make_user("merchant@example.com", "admin", "Mia Merchant")
    product("SHOE-TRAIL-42", name="Trail Running Shoe", price="89.00")
    product("SOCK-MERINO-3", name="Merino Socks", price="24.00")

    page.goto(live_server + "/")
    page.fill("input[name=email]", "merchant@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.locator("nav.admin-bar").get_by_role("link", name="Plugins", exact=True).click()
    page.screenshot(path=SHOTS / "plugins.png")
    page.click("a.tile[data-key=sandbox]")
    page.get_by_role("link", name="Activate", exact=True).click()
    page.fill("input[name=title]", "Sandbox East")
    page.fill("input[name=cred_api_key]", "not a key")
    page.click("button:has-text('Create')")
    assert page.locator(".field-error").first.inner_text().startswith("A Sandbox API key is")
    page.fill("input[name=title]", "Sandbox East")
    page.fill("input[name=cred_api_key]", "sbx_0123456789abcdef")
    page.fill("input[name=cred_ship_after]", "300")
    page.fill("input[name=cred_scan_after]", "600")
    page.fill("input[name=cred_deliver_after]", "1800")
    page.click("button:has-text('Create')")
    assert "is active" in page.locator(".flash.success").inner_text()
    assert "1 active account" in page.locator("a.tile[data-key=sandbox]").inner_text()

    page.click("a.tile[data-key=sandbox]")
    page.get_by_role("link", name="Assign to All Products").click()
    page.screenshot(path=SHOTS / "assign-confirm.png")
    page.get_by_role("button", name="Assign to All Products").click()
    assert "2 products now ship through" in page.locator(".flash.success").inner_text()

    page.get_by_role("link", name="Order Entry", exact=True).click()
    page.select_option("select[name='lines-0-product_id']",
                       label="Trail Running Shoe (SHOE-TRAIL-42) $89.00")
    page.fill("input[name='lines-0-quantity']", "2")
    for name, value in {"first_name": "Grace", "last_name": "Hopper",
                        "email": "grace@example.com", "address1": "1 Navy Way",
                        "city": "Arlington", "state": "VA", "postal_code": "22202"}.items():
        page.fill(f"input[name={name}]", value)
    page.screenshot(path=SHOTS / "order-entry.png", full_page=True)
    page.click("button:has-text('Place order')")
    assert "in Hold" in page.locator(".flash.success").inner_text()
    status = page.locator("[data-fulfillment] [data-status]")
    assert status.get_attribute("data-status") == "hold"

    page.get_by_role("button", name="Send now").click()
    _drain(app, redis_conn)
    page.reload()
    assert status.get_attribute("data-status") == "pending"

    from jobs.tracking import check_tracking
    # the Sandbox ships 5 minutes after sending; its carrier scans 10 minutes after shipping
    # and delivers after 30; the tracking job runs every 15 minutes
    for minutes, expected in ((6, "pending_shipment"), (15, "shipped"), (30, "delivered")):
        clock.advance(minutes=minutes)
        with app.app_context():
            check_tracking()
        page.reload()
        assert status.get_attribute("data-status") == expected
    page.screenshot(path=SHOTS / "order-delivered.png", full_page=True)
    timeline = page.locator(".timeline").inner_text()
    for step in ("Hold", "Pending", "Pending Shipment", "Shipped", "Delivered"):
        assert step in timeline
