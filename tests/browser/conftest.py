"""A live server for the test's app and Playwright driving Debian's Chromium."""
import shutil
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def page(tmp_path):
    from playwright.sync_api import sync_playwright
    if not shutil.which("chromium") and not shutil.os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is not installed; scripts/test installs it")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.set_default_timeout(15000)
        # the pages must pass their Content-Security-Policy: Chromium reports a blocked
        # script, style or frame as a console error naming the policy
        violations = []
        page.on("console", lambda message: violations.append(message.text)
                if "Content Security Policy" in message.text else None)
        page.on("pageerror", lambda error: violations.append(str(error)))
        yield page
        context.close()
        browser.close()
        assert not violations, violations
