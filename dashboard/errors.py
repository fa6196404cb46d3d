"""Error pages: inside the layout for people, JSON for the houses and tools that call the
API and the webhooks (each in its blueprint's own shape). A 500 rolls the session back
first, so the page (and the next request on this connection) starts clean."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from dashboard.extensions import db

log = logging.getLogger(__name__)

#: what a person is told, by status code (the exception's own description otherwise)
SENTENCES = {
    400: "The request could not be understood. Go back, reload the page and try again.",
    403: "Your account may not open this page. Ask an admin if you need it.",
    404: "There is no such page or record. It may have been removed, or the link is wrong.",
    405: "This page cannot be used that way.",
    429: "Too many attempts in a short time. Wait a minute and try again.",
    500: "Something went wrong on our side and nothing was changed. Try again; if it keeps "
         "happening, tell an admin the time it happened.",
}


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _server_error)


def _http_error(exc: HTTPException):
    if exc.code is None or exc.code < 400:
        return exc  # redirects and the like pass through untouched
    if exc.code >= 500:
        return _server_error(exc)
    # a form whose CSRF token expired says so itself; other 400s get the plain sentence
    sentence = exc.description if exc.code == 400 and "CSRF" in (exc.description or "") \
        else SENTENCES.get(exc.code, exc.description)
    return _answer(exc, sentence)


def _server_error(exc: HTTPException):
    db.session.rollback()
    original = getattr(exc, "original_exception", None)
    if original is not None:
        log.error("unhandled error on %s %s", request.method, request.path,
                  exc_info=(type(original), original, original.__traceback__))
    return _answer(exc, SENTENCES[500])


def _answer(exc: HTTPException, sentence: str):
    code = exc.code or 500
    headers = dict(exc.get_headers()) if hasattr(exc, "get_headers") else {}
    headers.pop("Content-Type", None)
    if request.blueprint == "webhooks" or request.path.startswith("/webhooks/"):
        return jsonify(ok=False, error=sentence), code, headers
    if request.blueprint == "api" or request.accept_mimetypes.best == "application/json":
        return jsonify(result="ERROR", message=sentence), code, headers
    try:
        page = render_template("error.html", code=code, title=exc.name, sentence=sentence)
    except Exception:  # noqa: BLE001 (the layout itself failed, e.g. the database is down)
        log.exception("the error page could not be rendered")
        return f"{code} {exc.name}: {sentence}", code, {
            **headers, "Content-Type": "text/plain; charset=utf-8"}
    return page, code, headers
