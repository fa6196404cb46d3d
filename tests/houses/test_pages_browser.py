"""The account page's webhook URL and the mapping pages in a real browser, with a
screenshot of each page at 1280 px in test-artifacts/."""
from __future__ import annotations

from pathlib import Path

import pytest
from browser.conftest import live_server, page  # noqa: F401 (fixtures)
from playwright.sync_api import expect
from testkit import PASSWORD

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_can_an_admin_copy_the_webhook_url_and_manage_mappings(app, live_server, page,  # noqa: F811
                                                               make_user, house_account,
                                                               product):
    SHOTS.mkdir(exist_ok=True)
    make_user("merchant@example.com", "admin", "Mia Merchant")
    account_id, token = house_account("shipbob", "http://127.0.0.1:9", title="ShipBob Main")
    house_account("shipbob", "http://127.0.0.1:9", title="ShipBob Returns", webhook_secrets="")
    product("TRAIL-42", name="Trail Running Shoe", account_id=account_id)
    product("SOCK-3", name="Merino Socks", account_id=account_id)

    page.goto(live_server + "/login")
    page.fill("input[name=email]", "merchant@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.goto(live_server + "/admin/plugins/shipbob")
    hook = page.locator(f"[data-webhook='{account_id}'] code.webhook-url")
    assert hook.inner_text().endswith(f"/webhooks/shipbob/{token}")
    assert page.locator(".field-error:has-text('Not set up yet')").count() == 1
    page.screenshot(path=SHOTS / "houses-account-page.png", full_page=True)

    page.locator(f"[data-extras='{account_id}']").get_by_role("link", name="SKU mappings").click()
    page.screenshot(path=SHOTS / "houses-sku-mappings-empty.png", full_page=True)
    page.fill("input[name=product_sku]", "NOPE-1")
    page.fill("input[name=house_sku]", "SB-1")
    page.click("button:has-text('Add mapping')")
    assert "No product has this SKU" in page.locator(".field-error").inner_text()
    page.screenshot(path=SHOTS / "houses-sku-mapping-error.png", full_page=True)
    page.fill("input[name=product_sku]", "TRAIL-42")
    page.fill("input[name=house_sku]", "SB-TRAIL-42-BLK")
    page.click("button:has-text('Add mapping')")
    assert "now goes to" in page.locator(".flash.success").inner_text()
    page.screenshot(path=SHOTS / "houses-sku-mappings.png", full_page=True)

    page.get_by_role("link", name="Ship profiles").click()
    page.screenshot(path=SHOTS / "houses-ship-profiles-empty.png", full_page=True)
    page.fill("input[name=name]", "Standard")
    page.fill("input[name=house_code]", "Standard")
    page.fill("input[name=carrier]", "USPS")
    page.fill("input[name=method]", "Ground Advantage")
    page.check("input[name=is_default]")
    page.click("button:has-text('Add profile')")
    page.fill("input[name=name]", "Express")
    page.fill("input[name=house_code]", "2-Day")
    page.fill("input[name=carrier]", "UPS")
    page.fill("input[name=method]", "2nd Day Air")
    page.fill("textarea[name=product_skus]", "SOCK-3")
    page.click("button:has-text('Add profile')")
    expect(page.locator("tr[data-profile]")).to_have_count(2)
    page.screenshot(path=SHOTS / "houses-ship-profiles.png", full_page=True)

    page.locator("tr[data-profile]:has-text('Express')").get_by_role("link",
                                                                      name="Delete").click()
    assert "1 product uses it" in page.locator(".card p").inner_text()
    page.screenshot(path=SHOTS / "houses-delete-profile.png", full_page=True)
    page.get_by_role("button", name="Delete profile").click()
    expect(page.locator("tr[data-profile]")).to_have_count(1)
