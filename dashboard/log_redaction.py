"""Logs never hold a secret that travelled in a URL.

Konnektive-style API calls may carry ``password`` in the query string, and each house
account's webhook URL ends in its secret token; both would otherwise be written in clear
by the access log and by any log line quoting a URL. ``redact`` rewrites such text:

- the values of secret query parameters (``SECRET_PARAMS``, any case) become ``[redacted]``;
- the token segment of ``/webhooks/<house>/<token>`` becomes ``[redacted]``.

``install`` applies it to every log record the process makes (the standard library's
``setLogRecordFactory`` hook, so no handler can miss it), and ``GunicornLogger`` to
gunicorn's access log atoms (``scripts/run`` passes ``--logger-class``), where it also
sends the app's own log lines to gunicorn's error log.
"""
from __future__ import annotations

import logging
import re

from gunicorn.glogging import Logger

REDACTED = "[redacted]"
#: query parameters whose values are secrets (matched whole, in any case)
SECRET_PARAMS = ("password", "passwd", "pwd", "pass", "secret", "token", "api_key", "apikey",
                 "api_secret", "access_token", "signature")
_QUERY = re.compile(r"(?i)((?:^|[?&;\s])(?:%s)=)[^&;\s\"']*" % "|".join(SECRET_PARAMS))
_WEBHOOK = re.compile(r"(/webhooks/[A-Za-z0-9_-]+/)[^/?\s\"']+")
#: request and environment atoms of the access log that may hold a URL
_URL_ATOMS = ("r", "U", "q", "f", "{raw_uri}e", "{path_info}e", "{query_string}e",
              "{request_uri}e", "{referer}i")
#: request headers that are credentials, should a log format name them
_SECRET_HEADERS = ("{authorization}i", "{cookie}i", "{webhook-signature}i")


def redact(text: str) -> str:
    """``text`` with URL secrets replaced (see the module docstring)."""
    if "=" in text:
        text = _QUERY.sub(rf"\1{REDACTED}", text)
    if "/webhooks/" in text:
        text = _WEBHOOK.sub(rf"\1{REDACTED}", text)
    return text


_installed_factory = None


def install() -> None:
    """Redact every log record of this process (once; later calls do nothing)."""
    global _installed_factory
    current = logging.getLogRecordFactory()
    if current is _installed_factory:
        return

    def factory(*args, **kwargs):
        record = current(*args, **kwargs)
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return record

    _installed_factory = factory
    logging.setLogRecordFactory(factory)


class GunicornLogger(Logger):
    """gunicorn's logger with URL secrets redacted from the access log, and the app's
    ``dashboard`` log lines written to gunicorn's error log."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        install()
        app_log = logging.getLogger("dashboard")
        app_log.handlers[:] = list(self.error_log.handlers)
        app_log.propagate = False

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in _URL_ATOMS:
            if isinstance(atoms.get(name), str):
                atoms[name] = redact(atoms[name])
        for name in _SECRET_HEADERS:
            if name in atoms:
                atoms[name] = REDACTED
        return atoms
