"""Where the app may send a house's or carrier's credentials: the outbound URL policy.

An account's "API base URL" is an admin setting, and without limits it is a server-side
request forgery: any host and port of the internal network, with the stored secret
attached. So, by default, a base URL must be ``https://`` on one of the official hosts the
adapter declares (``official_hosts``); any other URL (a local simulator, a staging proxy)
needs the operator setting ``ALLOW_CUSTOM_BASE_URLS`` (environment variable of the same
name), which an admin cannot turn on from the dashboard. The rule is checked when the form
is saved and again whenever a client is built, so turning the setting off stops accounts
that already point elsewhere.

Changing the base URL of a saved account requires its secrets to be entered again: a blank
secret would otherwise follow the account to the new host.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app

from adapters.base import AdapterError, CredentialField, FailureReason, FieldKind

BASE_URL = "base_url"


class BaseURLRefused(AdapterError):
    """An account's base URL is outside the policy; nothing is sent."""

    def __init__(self, message: str):
        super().__init__(message, transient=False, reason=FailureReason.CREDENTIALS)


def custom_allowed() -> bool:
    return bool(current_app.config.get("ALLOW_CUSTOM_BASE_URLS"))


def problem(adapter_cls, url: str) -> str | None:
    """None when ``url`` may be used as ``adapter_cls``'s base URL, else why not."""
    if not url or custom_allowed():
        return None
    parts = urlsplit(url)
    hosts = getattr(adapter_cls, "official_hosts", ())
    if parts.scheme == "https" and (parts.hostname or "").lower() in hosts \
            and parts.port in (None, 443):
        return None
    allowed = ", ".join(f"https://{host}" for host in hosts) or "none"
    return (f"{adapter_cls.name} accounts can only point at its official API hosts "
            f"({allowed}). Another URL needs the server setting ALLOW_CUSTOM_BASE_URLS, "
            "which the operator turns on.")


class RefusingClient:
    """Stands in for the client of an account whose stored base URL the policy refuses:
    its class attributes read as usual, and every call raises ``BaseURLRefused`` (an
    ``AdapterError``, which dispatch, tracking and Test connection already report)."""

    def __init__(self, client_cls, message: str):
        self._cls = client_cls
        self._error = BaseURLRefused(message)

    def __getattr__(self, name: str):
        value = getattr(self._cls, name)
        if callable(value) and not isinstance(value, type):
            def refuse(*_args, **_kwargs):
                raise self._error
            return refuse
        return value


def build(client_cls, values: dict[str, str], **kwargs):
    """``client_cls(values, base_url=..., **kwargs)`` (a house adapter or carrier
    tracker) when its stored base URL passes the policy, else a ``RefusingClient``."""
    url = values.get(BASE_URL) or None
    message = problem(client_cls, url or "")
    if message:
        return RefusingClient(client_cls, message)
    return client_cls(values, base_url=url, **kwargs)


def secrets_to_reenter(fields: tuple[CredentialField, ...], stored: dict[str, str],
                       submitted: dict[str, str]) -> list[str]:
    """Names of the secret fields left blank while the base URL changes: each must be
    entered again, or it would be sent to the new host unseen."""
    if not stored or (stored.get(BASE_URL) or "") == (submitted.get(BASE_URL) or "").strip():
        return []
    return [spec.name for spec in fields if spec.kind is FieldKind.SECRET
            and stored.get(spec.name) and not (submitted.get(spec.name) or "").strip()]
