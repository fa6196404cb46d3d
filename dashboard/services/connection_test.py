"""Test connection for house accounts: one cheap authenticated call, reported as the
house's HTTP status and a short reason of our own — never the body of the answer, which
for a misdirected base URL could be an internal service's page."""
from __future__ import annotations

from adapters.base import AdapterError

#: at most this much of an adapter's own sentence is shown
MAX_SENTENCE = 200
#: errors a client raises on an answer of the wrong shape (a list where an object belongs)
SHAPE_ERRORS = (AttributeError, TypeError, KeyError, ValueError, IndexError)


def _short_reason(status: int) -> str:
    if status in (401, 403):
        return "the credentials were refused"
    if status == 404:
        return "there is no such API at this base URL"
    if status == 429:
        return "its rate limit is reached; try again in a minute"
    if 300 <= status < 400:
        return "it answered with a redirect, which is not followed"
    if status >= 500:
        return "the house had a server error; try again later"
    return "the request was refused"


def report(adapter, title: str) -> tuple[str, str]:
    """(flash category, sentence) for a Test connection of ``adapter``."""
    try:
        problem = adapter.check_credentials()
    except AdapterError as exc:
        problem = str(exc)
    except SHAPE_ERRORS:
        problem = "it answered in a shape its API does not use"
    if not problem:
        return "success", f"Test connection to “{title}” succeeded."
    http = getattr(adapter, "http", None)
    status = getattr(http, "last_status", None)
    if status and not 200 <= status[0] < 300:
        code, phrase = status
        return "error", (f"Test connection to “{title}” failed: the house answered HTTP "
                         f"{code} {phrase[:40]} — {_short_reason(code)}.")
    sentence = problem if len(problem) <= MAX_SENTENCE else problem[:MAX_SENTENCE] + "…"
    return "error", f"Test connection to “{title}” failed: {sentence}"
