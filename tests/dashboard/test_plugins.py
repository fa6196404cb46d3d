"""Admin > Plugins: tiles, Activate, credentials at rest, edit, assign, deactivate, delete."""
import pytest
from sqlalchemy import select
from testkit import SANDBOX_KEY


def _accounts(app):
    from dashboard.extensions import db
    from dashboard.models import HouseAccount
    with app.app_context():
        return db.session.scalars(select(HouseAccount)).all()


def _activate(admin, **overrides):
    data = {"title": "East", "cred_api_key": SANDBOX_KEY, "cred_warehouse": "east",
            "cred_ship_after": "60", "cred_scan_after": "60", "cred_deliver_after": "180"}
    data.update(overrides)
    return admin.post("/admin/plugins/sandbox/activate", data)


def test_listing_shows_a_tile_per_registered_house(admin):
    from adapters import HOUSES
    page = admin.get("/admin/plugins/").get_data(as_text=True)
    for key, cls in HOUSES.items():
        assert f'data-key="{key}"' in page and cls.name in page
    assert "Not activated" in page


def test_unknown_house_is_404(admin):
    assert admin.get("/admin/plugins/nosuchhouse").status_code == 404
    assert admin.get("/admin/plugins/nosuchhouse/activate").status_code == 404


def test_activate_stores_credentials_encrypted_and_shows_account(admin, app):
    response = _activate(admin)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/plugins/"
    [account] = _accounts(app)
    assert account.title == "East" and account.adapter_key == "sandbox" and account.active
    assert SANDBOX_KEY not in account.credentials_encrypted
    from dashboard import credentials
    with app.app_context():
        assert credentials.decrypt(account.credentials_encrypted)["api_key"] == SANDBOX_KEY
    listing = admin.get("/admin/plugins/").get_data(as_text=True)
    assert "1 active account" in listing
    tile = admin.get("/admin/plugins/sandbox").get_data(as_text=True)
    assert "East" in tile and "Assign to All Products" in tile and "Add Another Account" in tile


@pytest.mark.parametrize("field,value,message", [
    ("cred_api_key", "sk_live_123", "sbx_ followed by 16 hexadecimal digits"),
    ("cred_api_key", "", "API Key is required"),
    ("title", "", "Give the account a title"),
    ("cred_ship_after", "soon", "Ship after must be a number"),
    ("cred_warehouse", "moon", "Choose one of the listed values"),
])
def test_activate_with_bad_input_saves_nothing(admin, app, field, value, message):
    response = _activate(admin, **{field: value})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _accounts(app) == []


def test_secret_is_never_rendered_and_blank_keeps_it(admin, app):
    _activate(admin)
    [account] = _accounts(app)
    form = admin.get(f"/admin/plugins/accounts/{account.id}/edit").get_data(as_text=True)
    assert SANDBOX_KEY not in form
    assert "Leave blank to keep the stored value" in form
    response = admin.post(f"/admin/plugins/accounts/{account.id}/edit", {
        "title": "East renamed", "cred_api_key": "", "cred_warehouse": "west",
        "cred_ship_after": "5", "cred_scan_after": "5", "cred_deliver_after": "10"})
    assert response.status_code == 302
    from dashboard import credentials
    [account] = _accounts(app)
    with app.app_context():
        stored = credentials.decrypt(account.credentials_encrypted)
    assert account.title == "East renamed"
    assert stored["api_key"] == SANDBOX_KEY and stored["warehouse"] == "west"


def test_edit_with_bad_value_changes_nothing(admin, app):
    _activate(admin)
    [before] = _accounts(app)
    response = admin.post(f"/admin/plugins/accounts/{before.id}/edit", {
        "title": "Changed", "cred_api_key": "nope", "cred_warehouse": "east",
        "cred_ship_after": "60", "cred_scan_after": "60", "cred_deliver_after": "180"})
    assert response.status_code == 400
    [after] = _accounts(app)
    assert after.title == "East" and after.credentials_encrypted == before.credentials_encrypted


def test_assign_to_all_products_confirms_then_counts(admin, app, sandbox_account, product):
    account_id = sandbox_account()
    other = sandbox_account(title="West")
    product("A-1"), product("A-2", account_id=other), product("A-3", account_id=account_id)
    confirm = admin.get(f"/admin/plugins/accounts/{account_id}/assign-all")
    assert "2 to change, 1 already on it" in confirm.get_data(as_text=True)
    response = admin.post(f"/admin/plugins/accounts/{account_id}/assign-all", {},
                          follow_redirects=True)
    assert "2 products now ship through" in response.get_data(as_text=True)
    from dashboard.extensions import db
    from dashboard.models import Product
    with app.app_context():
        assert {p.house_account_id for p in db.session.scalars(select(Product))} == {account_id}


def test_delete_is_refused_while_fulfillments_are_open(admin, app, sandbox_account, product,
                                                        place):
    account_id = sandbox_account()
    pid = product("D-1", account_id=account_id)
    place([(pid, 1)])
    page = admin.get(f"/admin/plugins/accounts/{account_id}/delete").get_data(as_text=True)
    assert "cannot be deleted" in page
    response = admin.post(f"/admin/plugins/accounts/{account_id}/delete", {},
                          form_page=f"/admin/plugins/accounts/{account_id}/edit",
                          follow_redirects=True)
    assert "still has 1 open fulfillment" in response.get_data(as_text=True)
    assert len(_accounts(app)) == 1


def test_delete_unassigns_products(admin, app, sandbox_account, product):
    account_id = sandbox_account()
    pid = product("D-2", account_id=account_id)
    response = admin.post(f"/admin/plugins/accounts/{account_id}/delete", {},
                          follow_redirects=True)
    assert "Deleted" in response.get_data(as_text=True)
    assert _accounts(app) == []
    from dashboard.extensions import db
    from dashboard.models import Product
    with app.app_context():
        assert db.session.get(Product, pid).house_account_id is None


def test_deactivate_and_reactivate(admin, app, sandbox_account):
    account_id = sandbox_account()
    admin.post(f"/admin/plugins/accounts/{account_id}/toggle", {},
               form_page="/admin/plugins/sandbox")
    assert _accounts(app)[0].active is False
    admin.post(f"/admin/plugins/accounts/{account_id}/toggle", {},
               form_page="/admin/plugins/sandbox")
    assert _accounts(app)[0].active is True


def test_test_connection_reports_a_bad_key(admin, app, sandbox_account):
    good = sandbox_account()
    bad = sandbox_account(title="Broken", api_key="not-a-key")
    ok = admin.post(f"/admin/plugins/accounts/{good}/test", {},
                    form_page="/admin/plugins/sandbox", follow_redirects=True)
    assert "succeeded" in ok.get_data(as_text=True)
    failed = admin.post(f"/admin/plugins/accounts/{bad}/test", {},
                        form_page="/admin/plugins/sandbox", follow_redirects=True)
    text = failed.get_data(as_text=True)
    assert "failed: The API key was refused" in text
    assert "not-a-key" not in text


def test_credentials_survive_key_rotation(app):
    """A new key put in front of the old one still reads old tokens."""
    from cryptography.fernet import Fernet

    from dashboard import credentials
    from dashboard.app import create_app
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    first = create_app({**app.config, "CREDENTIAL_KEYS": old})
    with first.app_context():
        token = credentials.encrypt({"api_key": "x"})
    rotated = create_app({**app.config, "CREDENTIAL_KEYS": f"{new},{old}"})
    with rotated.app_context():
        assert credentials.decrypt(token) == {"api_key": "x"}
        assert credentials.decrypt(credentials.rotate(token)) == {"api_key": "x"}
    only_new = create_app({**app.config, "CREDENTIAL_KEYS": new})
    with only_new.app_context(), pytest.raises(credentials.CredentialKeyError):
        credentials.decrypt(token)
