"""Who may call the API: password, disabled users, IP allow-list (after ProxyFix only),
endpoint permissions, rate limits, constant-time checks, and logs without passwords.
Every refusal is HTTP 200 with result ERROR and changes nothing."""
import logging

import pytest
from pullkit import API_PASSWORD, DATES

INVALID = "Invalid login credentials."


@pytest.fixture
def setup(pull_account, api_user, held):
    account = pull_account()
    api_user([account])
    return held(account, 2)


@pytest.mark.parametrize("login, password", [
    ("house-east", "wrong-password"),
    ("nobody-here", API_PASSWORD),
    ("house-east", ""),
    ("", ""),
    ("x" * 33, API_PASSWORD),
    ("house-east", API_PASSWORD + "x" * 40),
])
def test_bad_credentials_are_refused_alike_and_change_nothing(setup, call, snapshot, login,
                                                              password):
    before = snapshot()
    answer = call("/fulfillment/query/", loginId=login, password=password, **DATES)
    assert answer == {"result": "ERROR", "message": INVALID}
    assert snapshot() == before


def test_an_unknown_login_costs_a_password_check_like_a_known_one(setup, call, monkeypatch):
    from dashboard.api import api_auth
    checked = []
    real = api_auth.check_password_hash
    monkeypatch.setattr(api_auth, "check_password_hash",
                        lambda h, p: checked.append(h) or real(h, p))
    call("/fulfillment/query/", loginId="nobody-here", password="guess", **DATES)
    call("/fulfillment/query/", loginId="house-east", password="guess", **DATES)
    assert len(checked) == 2
    assert checked[0].split("$")[0] == checked[1].split("$")[0]  # same method and cost


def test_a_disabled_user_is_refused(pull_account, api_user, held, call, snapshot):
    account = pull_account()
    api_user([account], active=False)
    held(account)
    before = snapshot()
    assert call("/fulfillment/query/", **DATES) == {
        "result": "ERROR", "message": "This API user is disabled."}
    assert snapshot() == before


def test_an_address_outside_the_allow_list_is_refused(setup, call, snapshot):
    before = snapshot()
    answer = call("/fulfillment/query/", remote_addr="198.51.100.7", **DATES)
    assert answer["result"] == "ERROR"
    assert answer["message"] == ("Requests from IP address 198.51.100.7 are not allowed for "
                                 "this API user.")
    assert snapshot() == before


def test_outside_the_allow_list_the_password_makes_no_difference(setup, call, monkeypatch):
    """The allow-list is checked first: from outside it, the right and a wrong password get
    the same answer (before, a wrong one said AUTH and the right one IP_NOT_ALLOWED, which
    confirmed a guessed password), and the user's own hash is never checked."""
    from dashboard.api import api_auth
    checked = []
    real = api_auth.check_password_hash
    monkeypatch.setattr(api_auth, "check_password_hash",
                        lambda h, p: checked.append(h) or real(h, p))
    right = call("/fulfillment/query/", remote_addr="198.51.100.7", **DATES)
    wrong = call("/fulfillment/query/", remote_addr="198.51.100.7", password="wrong-guess",
                 **DATES)
    assert right == wrong and "not allowed" in right["message"]
    assert checked and api_auth._dummy() in checked and len(set(checked)) == 1


def test_cidr_ranges_and_ipv6_are_allowed(pull_account, api_user, held, call):
    account = pull_account()
    api_user([account], allowlist="10.1.0.0/16\n2001:db8::/32")
    held(account)
    assert call("/fulfillment/query/", remote_addr="10.1.200.3", **DATES)["result"] == "SUCCESS"
    assert call("/fulfillment/query/", remote_addr="2001:db8::5", **DATES)["result"] == "SUCCESS"
    assert call("/fulfillment/query/", remote_addr="10.2.0.1", **DATES)["result"] == "ERROR"


def test_a_forwarded_header_is_ignored_without_proxyfix(setup, app):
    client = app.test_client()
    answer = client.post("/fulfillment/query/", data={
        "loginId": "house-east", "password": API_PASSWORD, **DATES},
        headers={"X-Forwarded-For": "127.0.0.1"},
        environ_base={"REMOTE_ADDR": "198.51.100.7"}).get_json()
    assert answer["result"] == "ERROR" and "198.51.100.7" in answer["message"]


def test_behind_one_proxy_the_forwarded_address_is_checked(setup, app):
    from dashboard.app import create_app
    proxied = create_app({**app.config, "PROXY_COUNT": 1})
    client = proxied.test_client()
    body = {"loginId": "house-east", "password": API_PASSWORD, **DATES}
    ok = client.post("/fulfillment/query/", data=body, headers={"X-Forwarded-For": "127.0.0.1"},
                     environ_base={"REMOTE_ADDR": "10.0.0.1"}).get_json()
    assert ok["result"] == "SUCCESS"
    # a client cannot prepend its own entry: only the last hop (the proxy's view) counts
    spoofed = client.post("/fulfillment/query/", data=body,
                          headers={"X-Forwarded-For": "127.0.0.1, 203.0.113.9"},
                          environ_base={"REMOTE_ADDR": "10.0.0.1"}).get_json()
    assert spoofed["result"] == "ERROR" and "203.0.113.9" in spoofed["message"]


@pytest.mark.parametrize("path, granted, name", [
    ("/order/query/", ("fulfillment_query", "fulfillment_update"), "Order Query"),
    ("/fulfillment/query/", ("order_query",), "Fulfillment Query"),
    ("/fulfillment/update/", ("order_query", "fulfillment_query"), "Update Fulfillment"),
])
def test_an_endpoint_not_granted_is_refused(pull_account, api_user, held, call, snapshot,
                                            path, granted, name):
    account = pull_account()
    api_user([account], permissions=granted)
    [fid] = held(account)
    before = snapshot()
    answer = call(path, fulfillmentId=str(fid), fulfillmentStatus="CANCELLED", **DATES)
    assert answer["result"] == "ERROR"
    assert answer["message"].startswith(f"This API user is not permitted to use {name}")
    assert snapshot() == before


def test_the_rate_limit_is_per_api_user(pull_account, api_user, held, call, app, snapshot):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    account = pull_account()
    api_user([account])
    api_user([account], login_id="house-west")
    held(account)
    for _ in range(3):
        assert call("/fulfillment/query/", **DATES)["result"] == "SUCCESS"
    before = snapshot()
    over = call("/fulfillment/query/", **DATES)
    assert over["result"] == "ERROR"
    assert over["message"].startswith("Rate limit exceeded: at most 3 per 1 minute.")
    assert snapshot() == before
    # another API user has its own count
    assert call("/fulfillment/query/", loginId="house-west", **DATES)["result"] == "SUCCESS"


def test_repeated_failed_logins_from_one_address_are_turned_away(setup, call, app):
    app.config["API_AUTH_FAILURE_LIMIT"] = "2 per minute"
    for _ in range(2):
        assert call("/order/query/", password="guess", **DATES)["message"] == INVALID
    blocked = call("/order/query/", **DATES)  # even the right password, for now
    assert blocked["result"] == "ERROR" and "Too many failed logins" in blocked["message"]
    # another address is not blocked: it gets the ordinary checks (here, the allow-list)
    other = call("/order/query/", remote_addr="127.0.0.2", **DATES)
    assert other["message"].startswith("Requests from IP address 127.0.0.2")


def test_calls_are_logged_without_the_password_and_last_use_is_kept(setup, call, caplog, app):
    from dashboard.extensions import db
    from dashboard.models import ApiUser
    with caplog.at_level(logging.INFO, logger="dashboard.api"):
        call("/fulfillment/query/", **DATES)
        call("/fulfillment/query/", password="wrong-" + API_PASSWORD, **DATES)
    text = caplog.text
    assert "/fulfillment/query/" in text and "house-east" in text and "127.0.0.1" in text
    assert API_PASSWORD not in text
    with app.app_context():
        user = db.session.query(ApiUser).filter_by(login_id="house-east").one()
        assert user.last_used_at is not None


def test_an_api_user_cannot_log_into_the_dashboard(setup, app):
    from testkit import Browserless
    client = Browserless(app.test_client())
    response = client.login("house-east", API_PASSWORD)
    assert response.status_code == 400
    assert app.test_client().get("/").status_code == 302
    after = client.get("/")
    assert after.status_code == 302 and "/login" in after.headers["Location"]


def test_nul_characters_are_refused_before_any_query(setup, call, snapshot):
    before = snapshot()
    answer = call("/fulfillment/update/", loginId="house-east\x00", fulfillmentId="1\x00",
                  fulfillmentStatus="CANCELLED")
    assert answer == {"result": "ERROR", "message": {
        "fulfillmentId": "must not contain a NUL character",
        "loginId": "must not contain a NUL character"}}
    assert snapshot() == before


def test_a_verified_password_is_remembered_but_a_wrong_one_never(app, monkeypatch):
    """scrypt runs once for a pull house's repeated calls, every time for wrong
    passwords, and again after the password is rotated."""
    from werkzeug.security import generate_password_hash

    from dashboard.api import api_auth
    from dashboard.extensions import db
    from dashboard.models import ApiUser
    calls = []
    real = api_auth.check_password_hash
    monkeypatch.setattr(api_auth, "check_password_hash",
                        lambda h, p: calls.append(p) or real(h, p))
    with app.app_context(), app.test_request_context():
        user = ApiUser(login_id="cache-user", password_hash=generate_password_hash("pw-1"))
        db.session.add(user)
        db.session.commit()
        assert api_auth._password_matches(user, "pw-1")
        assert api_auth._password_matches(user, "pw-1")
        assert len(calls) == 1
        assert not api_auth._password_matches(user, "wrong")
        assert not api_auth._password_matches(user, "wrong")
        assert len(calls) == 3
        user.password_hash = generate_password_hash("pw-2")
        assert not api_auth._password_matches(user, "pw-1")
        assert len(calls) == 4
