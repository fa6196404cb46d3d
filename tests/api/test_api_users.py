"""Admin › API Users: admins only, passwords generated and shown once, stored hashed,
allow-list and permission validation, edit, disable, rotate, delete, the pull-house setup
walk-through from the plugin tile, and the API help page."""
import re

import pytest
from pullkit import DATES
from sqlalchemy import select

PAGES = ["/admin/api-users/", "/admin/api-users/new", "/admin/api-users/help",
         "/admin/api-users/{uid}/edit", "/admin/api-users/{uid}/rotate",
         "/admin/api-users/{uid}/delete", "/admin/api-users/setup/{aid}"]


def _users(app):
    from sqlalchemy.orm import selectinload

    from dashboard.extensions import db
    from dashboard.models import ApiUser
    with app.app_context():
        return {u.login_id: u for u in db.session.scalars(
            select(ApiUser).options(selectinload(ApiUser.accounts)))}


def _password(page: str) -> str:
    match = re.search(r'data-field="password">([^<]+)<', page)
    assert match, "no password on the page"
    return match.group(1)


def _form(account, **overrides):
    data = {"login_id": "shipworks-east", "label": "ShipWorks at East", "accounts": [account],
            "permissions": ["fulfillment_query", "fulfillment_update"],
            "ip_allowlist": "203.0.113.7\n127.0.0.1\n10.0.0.0/8"}
    data.update(overrides)
    return data


@pytest.fixture
def account(pull_account):
    return pull_account()


@pytest.fixture
def existing(account, api_user, app):
    api_user([account])
    return _users(app)["house-east"].id


def test_support_staff_get_403_everywhere(support, account, existing):
    for path in PAGES:
        assert support.get(path.format(uid=existing, aid=account)).status_code == 403, path
    toggled = support.post(f"/admin/api-users/{existing}/toggle", form_page="/products/")
    assert toggled.status_code == 403


def test_anonymous_visitors_are_sent_to_login(app, account, existing):
    client = app.test_client()
    for path in PAGES:
        response = client.get(path.format(uid=existing, aid=account))
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_create_shows_the_password_once_and_stores_only_its_hash(admin, app, account, call):
    response = admin.post("/admin/api-users/new", _form(account))
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    password = _password(page)
    assert len(password) <= 32 and "&" not in password
    user = _users(app)["shipworks-east"]
    assert password not in user.password_hash and user.password_hash.startswith("scrypt:")
    assert user.ip_allowlist == "203.0.113.7\n127.0.0.1\n10.0.0.0/8"
    assert user.permissions == "fulfillment_query,fulfillment_update"
    assert [a.id for a in user.accounts] == [account] and user.created_by == "admin@example.com"
    # the list never shows it again
    listing = admin.get("/admin/api-users/").get_data(as_text=True)
    assert "shipworks-east" in listing and password not in listing
    # and it works against the API
    answer = call("/fulfillment/query/", loginId="shipworks-east", password=password, **DATES)
    assert answer["message"] == "No orders matching those parameters could be found"


@pytest.mark.parametrize("field, value, message", [
    ("login_id", "", "Login ID is required."),
    ("login_id", "x" * 33, "Use 3 to 32 characters."),
    ("login_id", "ship works", "Use letters, digits, dots, dashes and underscores only."),
    ("login_id", "HOUSE-EAST", "Another API user already has this login ID."),
    ("ip_allowlist", "", "Enter at least one IP address or range"),
    ("ip_allowlist", "127.0.0.1\n300.1.1.1", "“300.1.1.1” is not an IP address or CIDR range"),
    ("ip_allowlist", "10.0.0.0/33", "“10.0.0.0/33” is not an IP address or CIDR range"),
    ("permissions", [], "Choose at least one endpoint."),
    ("accounts", [], "Choose at least one house account."),
])
def test_bad_input_is_shown_next_to_the_field_and_saves_nothing(admin, app, account, existing,
                                                                field, value, message):
    response = admin.post("/admin/api-users/new", _form(account, **{field: value}),
                          form_page="/admin/api-users/new")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and "field-error" in page
    assert set(_users(app)) == {"house-east"}


def test_edit_disable_enable(admin, app, account, existing, call):
    response = admin.post(f"/admin/api-users/{existing}/edit", {
        "label": "East", "accounts": [account], "permissions": ["order_query"],
        "ip_allowlist": "127.0.0.1/32"})
    assert response.status_code == 302
    user = _users(app)["house-east"]
    assert user.permissions == "order_query" and user.ip_allowlist == "127.0.0.1/32"
    assert call("/fulfillment/query/", **DATES)["message"].startswith("This API user is not")
    bad = admin.post(f"/admin/api-users/{existing}/edit", {
        "label": "East", "accounts": [account], "permissions": ["order_query"],
        "ip_allowlist": "nowhere"})
    assert bad.status_code == 400 and _users(app)["house-east"].ip_allowlist == "127.0.0.1/32"

    admin.post(f"/admin/api-users/{existing}/toggle", form_page="/admin/api-users/")
    assert not _users(app)["house-east"].active
    assert call("/order/query/", **DATES)["message"] == "This API user is disabled."
    page = admin.get("/admin/api-users/").get_data(as_text=True)
    assert "Disabled" in page
    admin.post(f"/admin/api-users/{existing}/toggle", form_page="/admin/api-users/")
    assert _users(app)["house-east"].active


def test_toggle_without_csrf_changes_nothing(admin, app, existing):
    admin.client.post(f"/admin/api-users/{existing}/toggle")
    assert _users(app)["house-east"].active


def test_rotate_asks_first_then_replaces_the_password(admin, app, account, existing, call):
    from pullkit import API_PASSWORD
    confirm = admin.get(f"/admin/api-users/{existing}/rotate").get_data(as_text=True)
    assert "stops working at once" in confirm and 'data-field="password"' not in confirm
    response = admin.post(f"/admin/api-users/{existing}/rotate")
    assert response.headers["Cache-Control"] == "no-store"
    new = _password(response.get_data(as_text=True))
    assert new != API_PASSWORD
    assert call("/order/query/", **DATES)["message"] == "Invalid login credentials."
    assert call("/order/query/", password=new, **DATES)["result"] in ("SUCCESS", "ERROR")
    assert call("/order/query/", password=new, **DATES)["message"] != "Invalid login credentials."


def test_delete_asks_first(admin, app, existing, account):
    from dashboard.extensions import db
    from dashboard.models import HouseAccount
    confirm = admin.get(f"/admin/api-users/{existing}/delete")
    assert confirm.status_code == 200 and "Delete “house-east”?" in confirm.get_data(as_text=True)
    assert "house-east" in _users(app)
    response = admin.post(f"/admin/api-users/{existing}/delete")
    assert response.status_code == 302 and _users(app) == {}
    with app.app_context():
        assert db.session.get(HouseAccount, account) is not None  # the account stays


def test_activating_a_pull_house_walks_through_its_api_user(admin, app):
    response = admin.post("/admin/plugins/shipworks/activate", {"title": "ShipWorks HQ"},
                          form_page="/admin/plugins/shipworks/activate")
    assert response.status_code == 302
    assert re.fullmatch(r"/admin/api-users/setup/\d+", response.headers["Location"])
    setup = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Connect ShipWorks: step 2 of 2" in setup
    assert 'value="shipworks-' in setup  # a suggested login id
    checked = set(re.findall(r'<input checked[^>]*name="permissions"[^>]*value="(\w+)"', setup))
    assert checked == {"fulfillment_query", "fulfillment_update"}
    created = admin.post(response.headers["Location"], {
        "login_id": "shipworks-hq", "label": "HQ", "ip_allowlist": "127.0.0.1",
        "accounts": [response.headers["Location"].rsplit("/", 1)[1]],
        "permissions": ["fulfillment_query", "fulfillment_update"]})
    page = created.get_data(as_text=True)
    assert created.status_code == 200 and "What to enter in ShipWorks" in page
    assert 'data-field="module_url">http://localhost/shipworks/<' in page
    assert "shipworks-hq" in page and _password(page)
    assert "updateshipment" in page


def test_shipmonk_pull_setup_names_the_json_calls(admin, app, pull_account):
    account = pull_account(adapter_key="shipmonk_pull", title="ShipMonk import")
    page = admin.post(f"/admin/api-users/setup/{account}", {
        "login_id": "shipmonk-1", "ip_allowlist": "127.0.0.1", "accounts": [account],
        "permissions": ["order_query", "fulfillment_update"]}).get_data(as_text=True)
    assert 'data-field="base_url">http://localhost<' in page
    assert "/order/query/" in page and "/fulfillment/update/" in page
    assert "<code>/fulfillment/query/</code>" not in page  # not granted


def test_test_connection_of_a_pull_account_explains_instead_of_failing(admin, account):
    response = admin.post(f"/admin/plugins/accounts/{account}/test",
                          form_page="/admin/plugins/shipworks", follow_redirects=True)
    assert response.status_code == 200
    assert "ShipWorks calls this CRM, so there is no connection to test" in \
        response.get_data(as_text=True)


def test_setup_is_only_for_pull_houses(admin, sandbox_account):
    assert admin.get(f"/admin/api-users/setup/{sandbox_account()}").status_code == 404


def test_empty_list_says_what_to_do(admin):
    page = admin.get("/admin/api-users/").get_data(as_text=True)
    assert "No API users yet" in page and "/admin/plugins/" in page


def test_help_page_renders_the_openapi_description(admin, app):
    page = admin.get("/admin/api-users/help").get_data(as_text=True)
    spec = app.test_client().get("/api/openapi.json").get_json()
    for path, methods in spec["paths"].items():
        assert f"GET|POST {path}" in page
        for parameter in methods["get"]["parameters"]:
            assert f"<code>{parameter['name']}</code>" in page
    assert "trackingNumber=1Z999AA10123456784" in page
    assert "password" not in str(spec["servers"]) and spec["openapi"].startswith("3.0")


def test_help_page_says_what_a_client_can_rely_on(admin, app):
    page = admin.get("/admin/api-users/help").get_data(as_text=True)
    spec = app.test_client().get("/api/openapi.json").get_json()
    assert len(spec["x-guarantees"]) == 4
    assert "What your client can rely on" in page
    assert "each exactly once" in page and "That answer reports it as HOLD" in page
