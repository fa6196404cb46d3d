"""The house page shows each push account's webhook URL and links to its mappings."""
from __future__ import annotations

import re

from houses_kit import CREDENTIALS


def _extras(page: str, account_id: int) -> str:
    match = re.search(rf'<tr class="account-extras" data-extras="{account_id}">(.*?)</tr>',
                      page, re.S)
    assert match, f"no extras row for account {account_id}"
    return match.group(1)


def test_does_the_page_show_the_webhook_url_to_paste(admin, house_account):
    account_id, token = house_account("shipstation", "http://127.0.0.1:9")
    extras = _extras(admin.get("/admin/plugins/shipstation").get_data(as_text=True),
                     account_id)
    assert f"http://localhost/webhooks/shipstation/{token}" in extras
    assert "SHIP_NOTIFY" in extras and "Not set up yet" not in extras
    assert f"/admin/accounts/{account_id}/skus" in extras
    assert f"/admin/accounts/{account_id}/profiles" in extras


def test_does_the_page_warn_while_the_webhook_credentials_are_missing(admin, house_account):
    ready, _ = house_account("shipbob", "http://127.0.0.1:9", title="Ready")
    bare, _ = house_account("shipbob", "http://127.0.0.1:9", title="Bare", webhook_secrets="")
    page = admin.get("/admin/plugins/shipbob").get_data(as_text=True)
    assert "Not set up yet" not in _extras(page, ready)
    assert "Not set up yet" in _extras(page, bare)
    for secret in CREDENTIALS["shipbob"]["webhook_secrets"].split():
        assert secret not in page


def test_does_a_house_without_a_webhook_route_show_no_url(admin, sandbox_account):
    account_id = sandbox_account()
    extras = _extras(admin.get("/admin/plugins/sandbox").get_data(as_text=True), account_id)
    assert "/webhooks/" not in extras and "SKU mappings" in extras


def test_is_the_webhook_url_kept_from_support_staff(support, house_account):
    _account_id, token = house_account("shipmonk", "http://127.0.0.1:9")
    response = support.get("/admin/plugins/shipmonk")
    assert response.status_code == 403 and token not in response.get_data(as_text=True)


def _selected_version(page: str) -> str:
    """The value of the selected option of the ShipBob API version field."""
    select = re.search(r'<select[^>]*name="cred_api_version".*?</select>', page, re.S)
    assert select, "no API version field"
    [chosen] = [re.search(r'value="([^"]+)"', attrs).group(1)
                for attrs in re.findall(r"<option([^>]*)>", select.group(0))
                if "selected" in attrs]
    return chosen


def test_does_a_new_shipbob_account_default_to_the_current_api_version(admin):
    page = admin.get("/admin/plugins/shipbob/activate").get_data(as_text=True)
    assert _selected_version(page) == "2026-01"


def test_does_a_shipbob_account_saved_before_the_version_setting_keep_1_0(app, admin,
                                                                         house_account):
    from dashboard import credentials
    from dashboard.extensions import db
    from dashboard.models import HouseAccount
    old, _ = house_account("shipbob", "http://127.0.0.1:9", title="Old")
    with app.app_context():
        account = db.session.get(HouseAccount, old)
        stored = credentials.decrypt(account.credentials_encrypted)
        stored.pop("api_version")
        account.credentials_encrypted = credentials.encrypt(stored)
        db.session.commit()
    page = admin.get(f"/admin/plugins/accounts/{old}/edit").get_data(as_text=True)
    assert _selected_version(page) == "1.0"
