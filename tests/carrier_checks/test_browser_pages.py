"""Admin > Carriers and an order's packages in a real browser, with screenshots of each page
in test-artifacts/."""
from pathlib import Path

import pytest
from browser.conftest import live_server, page  # noqa: F401 (fixtures)
from testkit import PASSWORD

from adapters.base import Package

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_connect_a_carrier_and_follow_its_packages(app, live_server, page, make_user,  # noqa: F811
                                                    simulator, shipped, check):
    SHOTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    make_user("merchant@example.com", "admin", "Mia Merchant")
    ups = simulator("ups")
    page.goto(live_server + "/login")
    page.fill("input[name=email]", "merchant@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")

    page.goto(live_server + "/admin/carriers/")
    page.screenshot(path=SHOTS / "carriers.png", full_page=True)
    page.click("a.tile[data-key=ups]")
    page.screenshot(path=SHOTS / "carrier-empty.png", full_page=True)
    page.get_by_role("link", name="Connect", exact=True).click()
    page.fill("input[name=cred_client_id]", ups.credentials["client_id"])
    page.click("button:has-text('Connect')")
    assert page.locator(".field-error").inner_text() == "Client Secret is required."
    page.click("summary:has-text('Advanced settings')")
    page.screenshot(path=SHOTS / "carrier-form-errors.png", full_page=True)
    page.fill("input[name=cred_client_secret]", ups.credentials["client_secret"])
    page.fill("input[name=cred_base_url]", ups.url)
    page.click("button:has-text('Connect')")
    assert "is connected" in page.locator(".flash.success").inner_text()
    page.click("button:has-text('Test connection')")
    assert page.locator(".flash.success").inner_text().startswith("Works:")
    page.screenshot(path=SHOTS / "carrier-connected.png", full_page=True)
    page.goto(live_server + "/admin/carriers/")
    assert "Tracking" in page.locator("a.tile[data-key=ups]").inner_text()
    page.screenshot(path=SHOTS / "carriers-connected.png", full_page=True)
    page.click("a.tile[data-key=ups]")
    page.get_by_role("link", name="Edit", exact=True).click()
    assert page.input_value("input[name=cred_client_secret]") == ""
    page.screenshot(path=SHOTS / "carrier-edit.png", full_page=True)

    ups.register("1Z999AA10123456784", "delivered")
    ups.register("1ZXF38300382722839", "exception")
    fid = shipped(Package("1Z999AA10123456784", carrier="UPS"),
                  Package("1ZXF38300382722839", carrier="ups_walleted"),
                  Package("9400109104250532908587", carrier="stamps_com"))
    check()
    page.goto(f"{live_server}/fulfillments/{fid}")
    packages = page.locator("table.packages")
    assert packages.locator("tr[data-shipment]").count() == 3
    assert "Track at UPS" in packages.inner_text()
    packages.scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "order-packages.png", full_page=True)
