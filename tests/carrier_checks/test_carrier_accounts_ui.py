"""Admin > Carriers: tiles, connect, credentials at rest, edit, test connection, deactivate,
delete, and who may see any of it."""
import pytest
from sqlalchemy import select

from .conftest import CARRIERS


def _accounts(app):
    from dashboard.extensions import db
    from dashboard.models import CarrierAccount
    with app.app_context():
        return db.session.scalars(select(CarrierAccount)).all()


def _stored(app, account):
    from dashboard import credentials
    with app.app_context():
        return credentials.decrypt(account.credentials_encrypted)


def _connect(admin, key="ups", form_page=None, **overrides):
    data = {"title": "UPS main", "cred_client_id": "client-123",
            "cred_client_secret": "s3cret-value-123", "cred_base_url": ""}
    data.update(overrides)
    return admin.post(f"/admin/carriers/{key}/connect", data, form_page=form_page)


def test_tiles_show_the_four_carriers_and_not_the_sandbox(admin):
    page = admin.get("/admin/carriers/").get_data(as_text=True)
    for carrier in CARRIERS:
        assert f'data-key="{carrier.key}"' in page and carrier.name in page
    assert 'data-key="sandbox"' not in page
    assert page.count("Not connected") == 4


@pytest.mark.parametrize("path", ["/admin/carriers/sandbox", "/admin/carriers/sandbox/connect",
                                  "/admin/carriers/ontrac", "/admin/carriers/ups/edit"])
def test_sandbox_unknown_carriers_and_missing_accounts_are_404(admin, path):
    assert admin.get(path).status_code == 404


@pytest.mark.parametrize("carrier", CARRIERS, ids=lambda c: c.key)
def test_connect_form_asks_what_the_tracker_declares(admin, carrier):
    """Does each carrier's form show its tracker's fields, the base URL under Advanced?"""
    from adapters import CARRIERS as REGISTRY
    page = admin.get(f"/admin/carriers/{carrier.key}/connect").get_data(as_text=True)
    for spec in REGISTRY[carrier.key].fields:
        assert f'name="cred_{spec.name}"' in page and spec.label in page
    assert page.index("Advanced settings") < page.index('name="cred_base_url"')
    assert f'name="cred_{carrier.secret}" type="password"' in page


def test_connect_stores_credentials_encrypted(admin, app):
    response = _connect(admin, cred_base_url="http://127.0.0.1:9/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/carriers/ups"
    [account] = _accounts(app)
    assert (account.carrier_key, account.title, account.active) == ("ups", "UPS main", True)
    assert "s3cret-value-123" not in account.credentials_encrypted
    assert _stored(app, account) == {"client_id": "client-123",
                                     "client_secret": "s3cret-value-123",
                                     "base_url": "http://127.0.0.1:9/"}
    page = admin.get("/admin/carriers/ups").get_data(as_text=True)
    assert "is connected" in page and "UPS main" in page and "Test connection" in page
    assert "s3cret-value-123" not in page


@pytest.mark.parametrize(("field", "value", "message"), [
    ("cred_client_id", "", "Client ID is required"),
    ("cred_client_secret", "", "Client Secret is required"),
    ("title", "", "Give the account a title"),
    ("cred_base_url", "ftp://ups.example.com", "Enter a full http:// or https:// URL"),
])
def test_bad_input_is_marked_and_saves_nothing(admin, app, field, value, message):
    response = _connect(admin, **{field: value})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'<div class="field-error">{message}' in page
    assert "s3cret-value-123" not in page  # a typed secret is not sent back either
    assert _accounts(app) == []


def test_a_second_account_for_a_carrier_is_refused(admin, app):
    _connect(admin)
    response = _connect(admin, title="Another", form_page="/admin/carriers/ups")
    assert response.status_code == 302
    assert [a.title for a in _accounts(app)] == ["UPS main"]
    assert "already has an account" in admin.get("/admin/carriers/ups").get_data(as_text=True)


def test_edit_never_renders_the_secret_and_blank_keeps_it(admin, app):
    _connect(admin)
    form = admin.get("/admin/carriers/ups/edit").get_data(as_text=True)
    assert "s3cret-value-123" not in form and 'value="client-123"' in form
    assert "Leave blank to keep the stored value" in form

    response = admin.post("/admin/carriers/ups/edit", {
        "title": "UPS renamed", "cred_client_id": "client-456", "cred_client_secret": "",
        "cred_base_url": ""})

    assert response.status_code == 302
    [account] = _accounts(app)
    assert account.title == "UPS renamed"
    assert _stored(app, account)["client_secret"] == "s3cret-value-123"
    assert _stored(app, account)["client_id"] == "client-456"


def test_bad_edit_changes_nothing(admin, app):
    _connect(admin)
    response = admin.post("/admin/carriers/ups/edit", {
        "title": "Renamed", "cred_client_id": "", "cred_client_secret": "new-secret",
        "cred_base_url": ""}, form_page="/admin/carriers/ups/edit")
    assert response.status_code == 400 and "Client ID is required" in response.get_data(True)
    [account] = _accounts(app)
    assert account.title == "UPS main" and _stored(app, account)["client_id"] == "client-123"


def test_saving_lifts_a_pause(admin, app, clock):
    from dashboard.extensions import db
    _connect(admin)
    [account] = _accounts(app)
    with app.app_context():
        db.session.get(type(account), account.id).paused_until = clock.at.replace(year=2030)
        db.session.commit()
    assert "Paused until" in admin.get("/admin/carriers/ups").get_data(as_text=True)
    admin.post("/admin/carriers/ups/edit", {"title": "UPS main", "cred_client_id": "client-123",
                                            "cred_client_secret": "", "cred_base_url": ""})
    assert _accounts(app)[0].paused_until is None


def test_deactivate_hands_tracking_to_the_house_and_activate_takes_it_back(admin, app):
    from dashboard.services.carrier_accounts import tracker_for
    _connect(admin)
    response = admin.post("/admin/carriers/ups/toggle", form_page="/admin/carriers/ups")
    assert response.status_code == 302 and not _accounts(app)[0].active
    with app.app_context():
        assert tracker_for("ups") is None
    page = admin.get("/admin/carriers/ups").get_data(as_text=True)
    assert "UPS tracking is off" in page and "Deactivated" in page
    admin.post("/admin/carriers/ups/toggle", form_page="/admin/carriers/ups")
    with app.app_context():
        assert tracker_for("ups").key == "ups"


def test_delete_asks_first(admin, app):
    _connect(admin)
    confirm = admin.get("/admin/carriers/ups/delete")
    assert confirm.status_code == 200 and "Delete “UPS main”" in confirm.get_data(True)
    assert len(_accounts(app)) == 1  # asking deleted nothing
    response = admin.post("/admin/carriers/ups/delete")
    assert response.status_code == 302 and _accounts(app) == []
    assert "Deleted “UPS main”" in admin.get("/admin/carriers/ups").get_data(True)


def test_forms_need_the_csrf_token(admin, app):
    response = admin.client.post("/admin/carriers/ups/connect", data={
        "title": "UPS", "cred_client_id": "a", "cred_client_secret": "b"})
    assert response.status_code == 400 and _accounts(app) == []


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/admin/carriers/"), ("get", "/admin/carriers/ups"),
    ("get", "/admin/carriers/ups/connect"), ("post", "/admin/carriers/ups/connect"),
    ("get", "/admin/carriers/ups/edit"), ("post", "/admin/carriers/ups/toggle"),
    ("get", "/admin/carriers/ups/delete"), ("post", "/admin/carriers/ups/delete"),
    ("post", "/admin/carriers/ups/test"),
])
def test_support_staff_get_403_and_change_nothing(admin, support, app, method, path):
    _connect(admin)
    response = (support.get(path) if method == "get"
                else support.post(path, {"title": "Taken over"}, form_page="/"))
    assert response.status_code == 403
    [account] = _accounts(app)
    assert account.active and account.title == "UPS main"


def test_anonymous_visitors_are_sent_to_log_in(app):
    response = app.test_client().get("/admin/carriers/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# ---------------------------------------------------------------- test connection


def _connect_to(admin, running, **overrides):
    carrier = running.carrier
    data = {"title": f"{carrier.name} main", "cred_base_url": running.sim.url,
            **{f"cred_{k}": v for k, v in running.sim.credentials.items()}}
    data.update(overrides)
    assert admin.post(f"/admin/carriers/{carrier.key}/connect", data).status_code == 302


def _test_connection(admin, key):
    response = admin.post(f"/admin/carriers/{key}/test", form_page=f"/admin/carriers/{key}",
                          follow_redirects=True)
    return response.get_data(as_text=True)


def test_test_connection_works(admin, running):
    _connect_to(admin, running)
    page = _test_connection(admin, running.carrier.key)
    assert '<div class="flash success" role="status">Works:' in page
    assert running.sim.requests >= 1


def test_test_connection_reports_bad_credentials(admin, running):
    _connect_to(admin, running, **{f"cred_{running.carrier.secret}": "wrong-secret-value"})
    page = _test_connection(admin, running.carrier.key)
    assert '<div class="flash error" role="status">Bad credentials:' in page
    assert "wrong-secret-value" not in page


def test_test_connection_reports_an_unreachable_carrier(admin, running):
    _connect_to(admin, running)
    running.sim.down = True
    page = _test_connection(admin, running.carrier.key)
    assert '<div class="flash error" role="status">Unreachable:' in page
    assert "Check the API base URL" in page
