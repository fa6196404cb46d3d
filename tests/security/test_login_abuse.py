"""Password guessing at the dashboard login: 20 wrong passwords lock that login for a
while (the right password included), an address failing across many logins is turned
away too, and a known and an unknown email answer alike, in the same time."""
import statistics
import time

from testkit import PASSWORD, Browserless


def _attempt(app, email, password, addr="127.0.0.1"):
    c = Browserless(app.test_client())
    token = c.csrf("/login")
    return c.client.post("/login", data={"email": email, "password": password,
                                         "csrf_token": token},
                         environ_base={"REMOTE_ADDR": addr})


def test_twenty_wrong_passwords_lock_the_login(app, make_user):
    make_user("ada@example.com")
    for n in range(20):
        response = _attempt(app, "ada@example.com", f"guess number {n}", addr=f"10.0.0.{n}")
        assert response.status_code == 400, n
    locked = _attempt(app, "ADA@example.com", PASSWORD, addr="10.9.9.9")
    assert locked.status_code == 429
    assert "Too many failed logins for this login" in locked.get_data(as_text=True)
    assert _attempt(app, "other@example.com", "x", addr="10.9.9.9").status_code == 400


def test_the_lock_lifts_when_the_window_ends(app, make_user):
    # the window opens at the first failure; 8 s leave room for slow password checks
    app.config["LOGIN_ACCOUNT_LIMIT"] = "3 per 8 seconds"
    make_user("ada@example.com")
    for _ in range(3):
        _attempt(app, "ada@example.com", "wrong wrong wrong")
    locked_at = time.monotonic()
    assert _attempt(app, "ada@example.com", PASSWORD).status_code == 429
    while (status := _attempt(app, "ada@example.com", PASSWORD).status_code) == 429:
        assert time.monotonic() - locked_at < 12, "still locked after the window"
        time.sleep(0.5)  # a refused attempt while locked is not counted again
    assert status == 302


def test_an_address_guessing_across_logins_is_turned_away(app, make_user):
    app.config["LOGIN_ADDRESS_LIMIT"] = "5 per 15 minutes"
    make_user("ada@example.com")
    for n in range(5):
        assert _attempt(app, f"user{n}@example.com", "x", addr="192.0.2.9").status_code == 400
    response = _attempt(app, "ada@example.com", PASSWORD, addr="192.0.2.9")
    assert response.status_code == 429
    assert "this address" in response.get_data(as_text=True)
    assert _attempt(app, "ada@example.com", PASSWORD, addr="192.0.2.10").status_code == 302


def test_known_and_unknown_emails_answer_alike_in_the_same_time(app, make_user):
    """Before, a known email cost a scrypt check (~200 ms) and an unknown one none
    (~8 ms): the timing told which emails have accounts."""
    make_user("ada@example.com")
    app.config["LOGIN_ACCOUNT_LIMIT"] = app.config["LOGIN_ADDRESS_LIMIT"] = "1000 per minute"
    client = app.test_client()
    token = Browserless(client).csrf("/login")

    def timed(email):
        start = time.perf_counter()
        response = client.post("/login", data={"email": email, "password": "wrong guess",
                                               "csrf_token": token})
        return time.perf_counter() - start, response

    timed("nobody@example.com")  # warm up (the dummy hash is made once)
    known, unknown = [], []
    for _ in range(6):
        for email, into in (("ada@example.com", known), ("nobody@example.com", unknown)):
            seconds, response = timed(email)
            assert response.status_code == 400
            assert "do not match an active account" in response.get_data(as_text=True)
            into.append(seconds)
    ratio = statistics.median(unknown) / statistics.median(known)
    print(f"login timing: known {statistics.median(known) * 1000:.0f} ms, unknown "
          f"{statistics.median(unknown) * 1000:.0f} ms, ratio {ratio:.2f}")
    assert 0.67 < ratio < 1.5
