"""The one redirect guard the login page and the review actions share (``local_path``): the
stricter rule of the two guards it replaced, shown on the login page here and on a review
action in ``tests/support/test_review.py``."""
import pytest
from testkit import PASSWORD, Browserless

from dashboard.safe_redirect import local_path

HOSTILE = [
    "https://evil.example/x",       # absolute URL
    "http:/evil.example",
    "//evil.example/x",             # scheme-relative
    "/\\evil.example/x",            # browsers read the backslash as a slash
    "\\\\evil.example/x",
    "/\t/evil.example",             # browsers drop the tab: //evil.example
    "/x\r\nSet-Cookie: a=b",        # header injection
    "/x\nLocation: https://evil.example",
    "javascript:alert(1)",
    " /x",
    "x/y",
    "",
    None,
]


@pytest.mark.parametrize("target", HOSTILE)
def test_is_anything_but_a_local_path_refused(target):
    assert local_path(target) is None


@pytest.mark.parametrize("target", ["/", "/orders/5", "/review/?status=failed&q=a%2Fb",
                                    "/orders/5#f3", "/search?next=https://x.example"])
def test_is_a_local_path_kept(target):
    assert local_path(target) == target


@pytest.mark.parametrize("target", ["/\\evil.example/x", "https://evil.example/x",
                                    "/x\r\nSet-Cookie: a=b"])
def test_does_login_send_a_hostile_next_to_the_board(app, make_user, target):
    make_user("ada@example.com")
    c = Browserless(app.test_client())
    token = c.csrf("/login")
    response = c.client.post("/login", query_string={"next": target}, data={
        "email": "ada@example.com", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/"

