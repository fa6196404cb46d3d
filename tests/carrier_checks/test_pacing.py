"""A carrier that asks us to slow down, hangs, or refuses our credentials: the account is
paused, its packages keep their status and stay due, other carriers carry on."""
import logging
import time
from datetime import timedelta

from adapters.base import Package

UPS = ["1Z999AA10123456784", "1ZXF38300382722839", "1Z879E930346834440"]


def test_rate_limit_pauses_the_account_for_the_wait_the_carrier_asked(
        simulator, carrier_account, shipped, check, seen, clock, account_row):
    """On a 429 with Retry-After, is the account paused that long, are its other packages
    skipped (one request, not three), and is nothing asked before the wait is over?"""
    ups = simulator("ups")
    account_id = carrier_account("ups", ups)
    fids = [shipped(Package(n, carrier="UPS")) for n in UPS]
    for number in UPS:
        ups.register(number, "delivered")
    ups.retry_after = 600

    summary = check()

    assert ups.requests == 1 and summary.errors == 1  # the refused token request, no more
    assert account_row(account_id).paused_until == clock.at + timedelta(seconds=600)
    assert {seen(fid).status for fid in fids} == {"pending_shipment"}

    ups.retry_after = None
    asked = ups.requests
    clock.advance(minutes=5)
    assert check().checked == 0 and ups.requests == asked  # still paused

    clock.advance(minutes=10)
    assert check().checked == 3
    assert {seen(fid).status for fid in fids} == {"delivered"}


def test_a_paused_carrier_does_not_hold_up_the_others(
        simulator, carrier_account, shipped, check, seen):
    """With UPS asking us to wait, are FedEx packages still followed in the same run?"""
    ups, fedex = simulator("ups"), simulator("fedex")
    carrier_account("ups", ups)
    carrier_account("fedex", fedex)
    ups_fid = shipped(Package(UPS[0], carrier="UPS"))
    fedex_fid = shipped(Package("399368623212", carrier="FedEx"))
    ups.register(UPS[0], "delivered")
    fedex.register("399368623212", "delivered")
    ups.retry_after = 120

    check()

    assert seen(ups_fid).status == "pending_shipment"
    assert seen(fedex_fid).status == "delivered"


def test_a_hanging_carrier_cannot_hold_the_check(
        app, simulator, carrier_account, shipped, check, seen, account_row):
    """A carrier that does not answer: does the check give up after the HTTP timeout, keep
    the status, and pause the account?"""
    app.config["HTTP_TIMEOUT"] = 0.3
    fedex = simulator("fedex")
    account_id = carrier_account("fedex", fedex)
    fid = shipped(Package("399368623212", carrier="FedEx"))
    fedex.register("399368623212", "delivered")
    fedex.delay = 2.0

    started = time.monotonic()
    summary = check()
    took = time.monotonic() - started

    fedex.delay = 0
    assert took < 1.5
    assert summary.errors == 1 and seen(fid).status == "pending_shipment"
    assert account_row(account_id).paused_until is not None


def test_refused_credentials_pause_the_account_for_an_hour(
        simulator, carrier_account, shipped, check, seen, clock, account_row, caplog,
        monkeypatch):
    """Wrong credentials: the account is left alone for an hour rather than refused at
    every check, the record is unchanged, and the log names the carrier, not the secret."""
    # alembic's fileConfig, run by the session's migration, disables loggers created before it
    monkeypatch.setattr(logging.getLogger("dashboard.services.tracking"), "disabled", False)
    usps = simulator("usps")
    account_id = carrier_account("usps", usps, client_secret="wrong-secret-value")
    fid = shipped(Package("9400109104250532908587", carrier="USPS"))
    usps.register("9400109104250532908587", "delivered")

    check()

    assert seen(fid).status == "pending_shipment"
    assert account_row(account_id).paused_until == clock.at + timedelta(hours=1)
    assert "USPS refused the tracking credentials" in caplog.text
    assert "wrong-secret-value" not in caplog.text

