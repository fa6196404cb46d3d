"""Logging in, roles, CSRF and the login wall."""
import re

from testkit import PASSWORD


def test_every_page_needs_login(app):
    """Is each dashboard page closed to an anonymous visitor?"""
    client = app.test_client()
    for path in ("/", "/fulfillments/", "/orders/new", "/products/", "/admin/plugins/",
                 "/admin/plugins/sandbox", "/orders/1"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"]


def test_login_with_wrong_password_says_so_and_logs_nobody_in(app, make_user):
    from testkit import Browserless
    make_user("ada@example.com")
    c = Browserless(app.test_client())
    response = c.login("ada@example.com", "wrong password")
    assert response.status_code == 400
    assert "do not match an active account" in response.get_data(as_text=True)
    assert c.get("/").status_code == 302


def test_inactive_user_cannot_log_in(app, make_user):
    from testkit import Browserless

    from dashboard.extensions import db
    from dashboard.models import User
    uid = make_user("gone@example.com")
    with app.app_context():
        db.session.get(User, uid).active = False
        db.session.commit()
    c = Browserless(app.test_client())
    assert c.login("gone@example.com").status_code == 400


def test_login_redirects_only_to_same_site_paths(app, make_user):
    from testkit import Browserless
    make_user("ada@example.com")
    c = Browserless(app.test_client())
    token = c.csrf("/login")
    response = c.client.post("/login?next=//evil.example/x", data={
        "email": "ada@example.com", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_post_without_csrf_token_is_refused(admin):
    response = admin.client.post("/products/new", data={"name": "X", "sku": "X1",
                                                        "price": "1"})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_support_user_cannot_open_admin_pages(support, app, sandbox_account):
    account_id = sandbox_account()
    for path in ("/admin/plugins/", "/admin/plugins/sandbox", "/admin/plugins/sandbox/activate",
                 f"/admin/plugins/accounts/{account_id}/edit"):
        assert support.get(path).status_code == 403, path
    page = support.get("/").get_data(as_text=True)
    assert "admin-bar" not in page and "/admin/plugins/" not in page


def test_logout_ends_the_session(admin):
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      admin.get("/").get_data(as_text=True)).group(1)
    assert admin.client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert admin.get("/").status_code == 302


def test_cli_creates_users_with_roles(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "Sam@Example.com", "--role", "support"])
    assert result.exit_code == 0, result.output
    assert "Password:" in result.output
    again = runner.invoke(args=["users", "create", "sam@example.com"])
    assert again.exit_code != 0 and "already exists" in again.output
    bad = runner.invoke(args=["users", "create", "x@example.com", "--role", "boss"])
    assert bad.exit_code != 0
    from dashboard.extensions import db
    from dashboard.models import User
    with app.app_context():
        users = db.session.query(User).all()
        assert [(u.email, u.role) for u in users] == [("sam@example.com", "support")]


def test_health_check_needs_no_login_and_says_ok(app):
    response = app.test_client().get("/healthz")
    assert (response.status_code, response.get_data(as_text=True)) == (200, "ok")
