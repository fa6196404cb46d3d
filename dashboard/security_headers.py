"""HTTP security headers on every answer, set in a few lines rather than a library.

- ``Content-Security-Policy``: scripts, styles, images and form targets from this site
  only; no plugins, no ``<base>``, no framing (``frame-ancestors``). Inline ``style``
  attributes stay allowed (``style-src-attr``: a few layout tweaks in templates; they cannot
  run code), inline scripts do not: page scripts live in ``static/``.
- ``X-Frame-Options: DENY`` for browsers without CSP 2, ``X-Content-Type-Options:
  nosniff``, ``Referrer-Policy: same-origin`` (a page URL never leaves the site).
- ``Strict-Transport-Security`` when the request came over HTTPS (directly, or through a
  proxy ``PROXY_COUNT`` trusts).
"""
from __future__ import annotations

from flask import request

CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"


def init_app(app) -> None:
    @app.after_request
    def _security_headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
