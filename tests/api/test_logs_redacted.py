"""No secret from a URL reaches a log: the app served by gunicorn as ``scripts/run`` starts
it (the same logger class), an API call with the password in its query string and a
webhook call with its token in the path, then both logs are read."""
from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from pullkit import API_PASSWORD, DATES
from testkit import TEST_KEYS

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _webhook_account(app) -> str:
    from dashboard import credentials
    from dashboard.extensions import db
    from dashboard.models import HouseAccount
    with app.app_context():
        account = HouseAccount(adapter_key="shipstation", title="ShipStation East",
                               credentials_encrypted=credentials.encrypt(
                                   {"api_key": "k", "api_secret": "s", "store_id": "1"}))
        db.session.add(account)
        db.session.commit()
        return account.webhook_token


def test_gunicorn_and_app_logs_hold_no_password_or_webhook_token(app, pull_account, api_user,
                                                                 tmp_path):
    api_user([pull_account()])
    token = _webhook_account(app)
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "REDIS_URL": app.config["REDIS_URL"], "INSTANCE_DIR": app.config["INSTANCE_DIR"],
           **TEST_KEYS, "TZ": "UTC", "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--access-logfile", str(access), "--error-logfile", str(errors),
         "--logger-class", "dashboard.log_redaction.GunicornLogger", "wsgi:app"],
        cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # the worker imports the app first: a few seconds here
            try:
                requests.get(base + "/healthz", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.1)
        answer = requests.get(base + "/order/query/", params={
            "loginId": "house-east", "password": API_PASSWORD, **DATES}, timeout=10)
        # authenticated (no orders yet): a refused login would say "Invalid login credentials."
        assert answer.json()["message"] == "No orders matching those parameters could be found"
        hook = requests.post(f"{base}/webhooks/shipstation/{token}", json={}, timeout=10)
        assert hook.status_code == 400  # reached the account: the token was right
        requests.get(f"{base}/login?next=/x&Password={API_PASSWORD}", timeout=10)
    finally:
        server.terminate()
        server.wait(timeout=20)
    access_log, error_log = access.read_text(), errors.read_text()
    assert "GET /order/query/?loginId=house-east&password=[redacted]" in access_log
    assert "POST /webhooks/shipstation/[redacted] " in access_log
    assert "api /order/query/ by house-east" in error_log  # the app's own line is there
    for text in (access_log, error_log):
        assert API_PASSWORD not in text
        assert token not in text


def test_any_log_line_quoting_a_url_is_redacted(caplog):
    """The development server and any module logging a URL go through the same rule."""
    from dashboard import log_redaction
    log_redaction.install()
    with caplog.at_level(logging.INFO):
        logging.getLogger("werkzeug").info('127.0.0.1 "GET /order/query/?loginId=a&password='
                                           '%s HTTP/1.1" 200', "hunter2-secret")
        logging.getLogger("dashboard.x").info("fetched %s", "/webhooks/shipbob/tok-123?token=t")
    text = caplog.text
    assert "hunter2-secret" not in text and "tok-123" not in text and "token=t" not in text
    assert "password=[redacted]" in text and "/webhooks/shipbob/[redacted]" in text
