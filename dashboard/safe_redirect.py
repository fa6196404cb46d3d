"""The one rule for where the dashboard may send someone after a form: a path on this site.

A ``next`` the browser carries (the login page's, or the page an action was posted from) is
attacker-controlled: an open redirect after login is a phishing aid. Two guards with
different rules used to check it; this one keeps the stricter of them:

- it must be a path: it starts with ``/`` and has no scheme or host (``https://evil``,
  ``javascript:…`` and ``//evil`` are refused), as the login guard required;
- it holds no backslash, since browsers read ``/\\evil`` as ``//evil`` (the review guard
  refused it, the login guard let it through);
- it holds no control characters: browsers drop tabs and line breaks from URLs, so
  ``/\\t/evil`` becomes ``//evil``, and a CR/LF has no place in a ``Location`` header.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

_UNSAFE = re.compile(r"[\x00-\x1f\x7f\\]")


def local_path(target: str | None) -> str | None:
    """``target`` when it is a path on this site by the rule above, else None."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if _UNSAFE.search(target):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target
