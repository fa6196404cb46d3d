"""Amazon MCF in a real browser: activate the tile with Login with Amazon credentials and the
simulator under Advanced settings, test the connection, assign the products, place an order
and follow it from Hold to Delivered on Amazon's own carrier; screenshots in test-artifacts/."""
from __future__ import annotations

from pathlib import Path

import pytest
from browser.conftest import live_server, page  # noqa: F401 (fixtures)
from houses_kit import CREDENTIALS
from rq import Queue, SimpleWorker
from testkit import PASSWORD

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _drain(app, redis_conn):
    from jobs.context import FlaskJob
    queue = Queue(app.config["RQ_QUEUE"], connection=redis_conn, job_class=FlaskJob)
    SimpleWorker([queue], connection=redis_conn, job_class=FlaskJob).work(burst=True)


def test_can_a_merchant_ship_through_amazon_mcf(app, live_server, page, make_user,  # noqa: F811
                                                 product, simulator, redis_conn, clock):
    from jobs.tracking import check_tracking
    SHOTS.mkdir(exist_ok=True)
    sim = simulator("amazon_mcf")
    make_user("merchant@example.com", "admin", "Mia Merchant")
    product("WIDGET-1", name="Widget", price="19.90")

    page.goto(live_server + "/login")
    page.fill("input[name=email]", "merchant@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.goto(live_server + "/admin/plugins")
    page.click("a.tile[data-key=amazon_mcf]")
    page.get_by_role("link", name="Activate", exact=True).click()
    page.fill("input[name=title]", "Amazon US")
    for name, value in CREDENTIALS["amazon_mcf"].items():
        field = f"[name=cred_{name}]"
        if page.locator(f"select{field}").count():
            page.select_option(f"select{field}", value)
        else:
            page.fill(f"input{field}", value)
    page.click("summary:has-text('Advanced settings')")
    page.fill("input[name=cred_base_url]", sim.api_url)
    page.fill("input[name=cred_token_url]", sim.token_url)
    page.screenshot(path=SHOTS / "amazon-mcf-activate.png", full_page=True)
    page.click("button:has-text('Create')")
    assert "is active" in page.locator(".flash.success").inner_text()

    page.click("a.tile[data-key=amazon_mcf]")
    page.get_by_role("button", name="Test connection").click()
    assert "succeeded" in page.locator(".flash").first.inner_text()
    page.get_by_role("link", name="Assign to All Products").click()
    page.get_by_role("button", name="Assign to All Products").click()
    assert "1 product now ship" in page.locator(".flash.success").inner_text()

    page.get_by_role("link", name="Order Entry", exact=True).click()
    page.select_option("select[name='lines-0-product_id']", label="Widget (WIDGET-1) $19.90")
    for name, value in {"first_name": "Grace", "last_name": "Hopper",
                        "email": "grace@example.com", "address1": "1 Navy Way",
                        "city": "Arlington", "state": "VA", "postal_code": "22202"}.items():
        page.fill(f"input[name={name}]", value)
    page.click("button:has-text('Place order')")
    status = page.locator("[data-fulfillment] [data-status]")
    assert status.get_attribute("data-status") == "hold"
    page.get_by_role("button", name="Send now").click()
    _drain(app, redis_conn)
    page.reload()
    assert status.get_attribute("data-status") == "pending"

    [reference] = sim.house.orders
    for _ in range(3):  # Planning, Processing, Complete: one package on Amazon's carrier
        sim.control("advance", {"key": reference})
    clock.advance(minutes=6)
    with app.app_context():
        check_tracking()  # the house's package, and Amazon's word that it is on its way
    page.reload()
    assert status.get_attribute("data-status") == "shipped"
    [number] = [p["trackingNumber"] for p in
                sim.house.orders[reference]["shipments"][0]["fulfillmentShipmentPackage"]]
    sim.control("deliver", {"key": reference, "tracking_number": number})
    clock.advance(minutes=16)
    with app.app_context():
        check_tracking()
    page.reload()
    assert status.get_attribute("data-status") == "delivered"
    page.screenshot(path=SHOTS / "amazon-mcf-delivered.png", full_page=True)
    timeline = page.locator(".timeline").inner_text()
    for step in ("Hold", "Pending", "Pending Shipment", "Shipped", "Delivered", number):
        assert step in timeline
    assert sim.house.violations == []
