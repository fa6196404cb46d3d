"""The pull-house pages in a real browser: activate the ShipWorks tile, create its API user
on the setup page (a bad allow-list first), read the one-time password, then the list, the
edit, rotate and delete pages and the API help. Screenshots go to test-artifacts/."""
import shutil
from pathlib import Path

import pytest
from testkit import PASSWORD

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser_page(app):
    from playwright.sync_api import sync_playwright

    from simulators.common import serve
    base_url, stop = serve(app)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15000)
        yield base_url, page
        context.close()
        browser.close()
    stop()


def test_shipworks_tile_to_api_user_in_a_browser(browser_page, make_user):
    base_url, page = browser_page
    SHOTS.mkdir(exist_ok=True)
    make_user("merchant@example.com", "admin", "Mia Merchant")
    page.goto(base_url + "/login")
    page.fill("input[name=email]", "merchant@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")

    page.goto(base_url + "/admin/api-users/")
    assert "No API users yet" in page.locator(".empty").inner_text()
    page.screenshot(path=SHOTS / "api-users-empty.png", full_page=True)

    page.goto(base_url + "/admin/plugins/")
    page.click("a.tile[data-key=shipworks]")
    page.get_by_role("link", name="Activate", exact=True).click()
    page.fill("input[name=title]", "ShipWorks HQ")
    page.click("button:has-text('Create')")
    assert "step 2 of 2" in page.locator("h1").inner_text()
    page.fill("textarea[name=ip_allowlist]", "my office")
    page.click("button:has-text('Create API user')")
    assert "is not an IP address" in page.locator(".field-error").first.inner_text()
    page.screenshot(path=SHOTS / "api-users-setup-error.png", full_page=True)
    page.fill("textarea[name=ip_allowlist]", "203.0.113.7\n127.0.0.1")
    page.click("button:has-text('Create API user')")
    password = page.locator("[data-field=password]").inner_text()
    assert len(password) >= 20
    assert page.locator("[data-field=module_url]").inner_text().endswith("/shipworks/")
    page.screenshot(path=SHOTS / "api-users-credentials.png", full_page=True)

    page.get_by_role("link", name="Done").click()
    listing = page.locator("table").inner_text()
    assert "ShipWorks HQ" in listing and password not in page.content()
    page.screenshot(path=SHOTS / "api-users-list.png", full_page=True)
    page.get_by_role("link", name="Edit").click()
    page.screenshot(path=SHOTS / "api-users-edit.png", full_page=True)
    page.go_back()
    page.get_by_role("link", name="Rotate password").click()
    page.screenshot(path=SHOTS / "api-users-rotate.png", full_page=True)
    page.click("button:has-text('Rotate password')")
    assert page.locator("[data-field=password]").inner_text() != password
    page.goto(base_url + "/admin/api-users/")
    page.get_by_role("link", name="Delete").click()
    page.screenshot(path=SHOTS / "api-users-delete.png", full_page=True)
    page.goto(base_url + "/admin/api-users/help")
    assert page.locator(".endpoint").count() == 3
    page.screenshot(path=SHOTS / "api-help.png", full_page=True)
