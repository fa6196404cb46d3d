"""Sessions end for real: both login cookies carry a server-side session token that
logout, a password change, deactivation and "Log out everywhere" replace, so a copied
cookie stops working. And the password page with its policy."""
import re

import pytest
from testkit import PASSWORD, Browserless

STRONG = "violet anchor tumbles quietly 47"


def _logged_in(app, email="ada@example.com", remember=True):
    c = Browserless(app.test_client())
    token = c.csrf("/login")
    response = c.client.post("/login", data={"email": email, "password": PASSWORD,
                                             "csrf_token": token,
                                             "remember": "y" if remember else ""})
    assert response.status_code == 302
    return c


def _cookies(c) -> dict[str, str]:
    return {name: c.client.get_cookie(name).value for name in ("session", "remember_token")
            if c.client.get_cookie(name) is not None}


def _replay(app, cookies: dict[str, str]):
    """A fresh browser holding only the copied cookies opens the board."""
    thief = app.test_client()
    for name, value in cookies.items():
        thief.set_cookie(name, value)
    return thief.get("/")


def _logout(c):
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      c.get("/").get_data(as_text=True)).group(1)
    assert c.client.post("/logout", data={"csrf_token": token}).status_code == 302


def test_copied_cookies_work_while_logged_in(app, make_user):
    """The control for the tests below: a copy of live cookies is a live session."""
    make_user("ada@example.com")
    cookies = _cookies(_logged_in(app))
    assert _replay(app, cookies).status_code == 200
    assert _replay(app, {"remember_token": cookies["remember_token"]}).status_code == 200


@pytest.mark.parametrize("which", ["remember_token", "session"])
def test_a_cookie_replayed_after_logout_gets_the_login_page(app, make_user, which):
    make_user("ada@example.com")
    c = _logged_in(app)
    cookies = _cookies(c)
    _logout(c)
    response = _replay(app, {which: cookies[which]})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_remember_cookie_changes_after_a_logout(app, make_user):
    """Before, the cookie was HMAC(user id): the same on every login, forever."""
    make_user("ada@example.com")
    c = _logged_in(app)
    first = _cookies(c)["remember_token"]
    _logout(c)
    assert _cookies(_logged_in(app))["remember_token"] != first


def test_deactivation_ends_every_session(app, make_user):
    make_user("ada@example.com")
    cookies = _cookies(_logged_in(app))
    result = app.test_cli_runner().invoke(args=["users", "deactivate", "ada@example.com"])
    assert result.exit_code == 0, result.output
    assert _replay(app, cookies).status_code == 302
    assert _replay(app, {"remember_token": cookies["remember_token"]}).status_code == 302


def test_log_out_everywhere_ends_other_browsers_too(app, make_user):
    make_user("ada@example.com")
    other = _cookies(_logged_in(app))
    c = _logged_in(app)
    response = c.post("/account/logout-everywhere", form_page="/account/password")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert _replay(app, other).status_code == 302
    assert c.get("/").status_code == 302


def test_changing_the_password_ends_other_sessions_and_keeps_this_one(app, make_user):
    make_user("ada@example.com")
    other = _cookies(_logged_in(app))
    c = _logged_in(app)
    response = c.post("/account/password", {"current": PASSWORD, "new": STRONG,
                                            "confirm": STRONG})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert c.get("/").status_code == 200
    assert _replay(app, other).status_code == 302
    fresh = Browserless(app.test_client())
    assert fresh.login("ada@example.com", PASSWORD).status_code == 400
    assert fresh.login("ada@example.com", STRONG).status_code == 302


@pytest.mark.parametrize("new, words", [
    ("short1!", "Use at least 10 characters."),
    ("password123", "This is a very common password."),  # long enough, but not secret
    ("Password123!", "similar to a commonly used password"),
    ("ada@example.com1", "easy to guess"),  # the user's own email
    ("qwertyuiop", "top-100 common password"),
    ("aaaaaaaaaaaa", "Repeats like"),
])
def test_weak_passwords_are_refused_with_a_reason(app, make_user, new, words):
    from dashboard.extensions import db
    from dashboard.models import User
    uid = make_user("ada@example.com")
    with app.app_context():
        before = db.session.get(User, uid).password_hash
    c = _logged_in(app)
    response = c.post("/account/password", {"current": PASSWORD, "new": new, "confirm": new})
    assert response.status_code == 400
    assert words in response.get_data(as_text=True).replace("&#34;", '"')
    with app.app_context():
        assert db.session.get(User, uid).password_hash == before
    assert c.get("/").status_code == 200


def test_the_current_password_is_required(app, make_user):
    make_user("ada@example.com")
    c = _logged_in(app)
    response = c.post("/account/password", {"current": "not it at all", "new": STRONG,
                                            "confirm": STRONG})
    assert response.status_code == 400
    assert "not your current password" in response.get_data(as_text=True)
    assert Browserless(app.test_client()).login("ada@example.com").status_code == 302


def test_the_cli_refuses_a_guessable_password(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "sam@example.com", "--password", "Password123!"])
    assert result.exit_code != 0
    ok = app.test_cli_runner().invoke(
        args=["users", "create", "sam@example.com", "--password", STRONG])
    assert ok.exit_code == 0, ok.output
