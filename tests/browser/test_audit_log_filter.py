"""Admin › Audit log in a real browser: the "Who" filter takes an admin's email or "cli"
(changes made with flask commands), and the browser lets both through."""
from pathlib import Path

import pytest
from testkit import PASSWORD

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_who_filter_finds_cli_changes_and_an_admins(app, live_server, page,
                                                     sandbox_account, admin):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "create", "sam@example.com"]).exit_code == 0
    account_id = sandbox_account()
    admin.post(f"/admin/plugins/accounts/{account_id}/toggle", {},
               form_page="/admin/plugins/sandbox")

    page.goto(live_server + "/")
    page.fill("input[name=email]", "admin@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.goto(live_server + "/admin/audit/")
    assert page.locator("tr[data-audit]").count() == 2

    page.fill("input[name=actor]", "cli")
    page.click("button:has-text('Filter')")
    page.wait_for_url("**actor=cli**")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / "audit-log.png")
    rows = page.locator("tr[data-audit]")
    assert rows.count() == 1 and "created" in rows.first.inner_text()

    page.fill("input[name=actor]", "admin@example.com")
    page.click("button:has-text('Filter')")
    page.wait_for_url("**actor=admin%40example.com**")
    assert page.locator("tr[data-audit]").count() == 1
    assert "deactivated" in page.locator("tr[data-audit]").first.inner_text()
