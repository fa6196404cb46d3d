"""Constants and helpers the tests share (importable, unlike conftest modules)."""
from __future__ import annotations

from datetime import datetime, timedelta

SANDBOX_KEY = "sbx_feedfacecafe0001"
PASSWORD = "correct horse battery"

CUSTOMER = {"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com",
            "phone": "", "address1": "1 Navy Way", "address2": "", "city": "Arlington",
            "state": "VA", "postal_code": "22202", "country": "US"}


class Clock:
    """A clock a test sets and advances; the app and the Sandbox read it."""

    def __init__(self, start: datetime):
        self.at = start

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta) -> datetime:
        self.at += timedelta(**delta)
        return self.at


class Browserless:
    """A test client that logs in and posts forms with their CSRF token, like a browser."""

    def __init__(self, client):
        self.client = client

    def csrf(self, path: str) -> str:
        import re
        page = self.client.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, email: str, password: str = PASSWORD):
        token = self.csrf("/login")
        return self.client.post("/login", data={"email": email, "password": password,
                                                "csrf_token": token})

    def get(self, path, **kw):
        return self.client.get(path, **kw)

    def post(self, path, data=None, *, form_page: str | None = None, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf(form_page or path))
        return self.client.post(path, data=data, **kw)


