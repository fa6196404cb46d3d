"""The "API base URL" of house and carrier accounts is not a way into the internal network:
official hosts only unless the operator allows custom URLs, no redirects followed, Test
connection never echoes a body, and a new base URL needs the secrets entered again."""
import pytest
from flask import Flask, redirect
from sqlalchemy import select

from simulators.common import serve

SECRET_PAGE = "INTERNAL-ADMIN-PANEL token=abc123"


@pytest.fixture
def internal():
    """Stand-ins for internal services on loopback; each counts the calls it gets."""
    stops, hits = [], []

    def start(answer):
        app = Flask("internal")

        @app.route("/<path:path>", methods=["GET", "POST"])
        def anything(path):
            hits.append((app.name, path))
            return answer()
        root, stop = serve(app)
        stops.append(stop)
        return root
    start.hits = hits
    yield start
    for stop in stops:
        stop()


def _activate(admin, base_url, **changes):
    return admin.post("/admin/plugins/shipstation/activate", {
        "title": "ShipStation East", "cred_api_key": "ss-api-key",
        "cred_api_secret": "ss-api-secret", "cred_store_id": "310001",
        "cred_base_url": base_url, **changes})


def _accounts(app):
    from dashboard.extensions import db
    from dashboard.models import HouseAccount
    with app.app_context():
        return db.session.scalars(select(HouseAccount)).all()


def _test_connection(admin, account_id):
    return admin.post(f"/admin/plugins/accounts/{account_id}/test",
                      form_page="/admin/plugins/shipstation",
                      follow_redirects=True).get_data(as_text=True)


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "http://169.254.169.254/latest",
                                 "http://ssapi.shipstation.com", "https://ssapi.shipstation.com:8443",
                                 "https://ssapi.shipstation.com.evil.example"])
def test_a_base_url_off_the_official_hosts_is_refused(app, admin, url):
    app.config["ALLOW_CUSTOM_BASE_URLS"] = False
    response = _activate(admin, url)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "official API hosts (https://ssapi.shipstation.com)" in page
    assert "ALLOW_CUSTOM_BASE_URLS" in page
    assert _accounts(app) == []


def test_the_official_host_is_accepted(app, admin):
    app.config["ALLOW_CUSTOM_BASE_URLS"] = False
    assert _activate(admin, "https://ssapi.shipstation.com").status_code == 302
    assert _activate(admin, "").status_code == 302


def test_a_stored_custom_url_is_not_called_once_the_setting_is_off(app, admin, internal):
    root = internal(lambda: SECRET_PAGE)
    assert _activate(admin, root).status_code == 302  # the setting is on in tests
    app.config["ALLOW_CUSTOM_BASE_URLS"] = False
    [account] = _accounts(app)
    page = _test_connection(admin, account.id)
    assert "can only point at its official API hosts" in page
    assert internal.hits == []


def test_test_connection_shows_status_and_reason_never_the_body(app, admin, internal):
    root = internal(lambda: (SECRET_PAGE, 500))
    assert _activate(admin, root).status_code == 302
    [account] = _accounts(app)
    page = _test_connection(admin, account.id)
    assert "HTTP 500 INTERNAL SERVER ERROR — the house had a server error" in page
    assert "INTERNAL-ADMIN-PANEL" not in page and "abc123" not in page
    assert internal.hits


@pytest.mark.parametrize("body", ['{"stores": "not a list"}', "[1, 2, 3]", '"text"', "{}"])
def test_an_answer_of_the_wrong_shape_is_a_clear_failure(app, admin, internal, body):
    root = internal(lambda: (body, 200, {"Content-Type": "application/json"}))
    assert _activate(admin, root).status_code == 302
    [account] = _accounts(app)
    page = _test_connection(admin, account.id)
    assert "Test connection to “ShipStation East” failed" in page


def test_a_redirect_is_not_followed(app, admin, internal):
    target = internal(lambda: SECRET_PAGE)
    root = internal(lambda: redirect(target + "/stolen", 302))
    assert _activate(admin, root).status_code == 302
    [account] = _accounts(app)
    page = _test_connection(admin, account.id)
    assert "redirect" in page and "not followed" in page
    assert [path for _name, path in internal.hits] == ["stores"]  # never /stolen


def test_a_new_base_url_needs_the_secrets_again(app, admin, internal):
    from dashboard import credentials
    first = internal(lambda: "[]")
    second = internal(lambda: "[]")
    assert _activate(admin, first).status_code == 302
    [account] = _accounts(app)
    edit = f"/admin/plugins/accounts/{account.id}/edit"
    form = {"title": "ShipStation East", "cred_api_key": "ss-api-key", "cred_api_secret": "",
            "cred_store_id": "310001", "cred_base_url": second}
    refused = admin.post(edit, form)
    assert refused.status_code == 400
    assert refused.get_data(as_text=True).count("enter this secret again") == 1
    [unchanged] = _accounts(app)
    assert unchanged.credentials_encrypted == account.credentials_encrypted
    # the same URL with blank secrets keeps them, as before
    assert admin.post(edit, {**form, "cred_base_url": first}).status_code == 302
    saved = admin.post(edit, {**form, "cred_api_secret": "new-secret"})
    assert saved.status_code == 302
    with app.app_context():
        stored = credentials.decrypt(_accounts(app)[0].credentials_encrypted)
    assert stored["base_url"] == second and stored["api_secret"] == "new-secret"


def test_a_carrier_account_follows_the_same_policy(app, admin):
    app.config["ALLOW_CUSTOM_BASE_URLS"] = False
    response = admin.post("/admin/carriers/ups/connect", {
        "title": "UPS", "cred_client_id": "id", "cred_client_secret": "secret",
        "cred_base_url": "http://127.0.0.1:9"})
    assert response.status_code == 400
    assert "official API hosts (https://onlinetools.ups.com, https://wwwcie.ups.com)" in \
        response.get_data(as_text=True)
