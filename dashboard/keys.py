"""Where the session secret and the credential keys come from.

``SECRET_KEY`` and ``CREDENTIAL_KEYS`` are read from the environment, or from the files
that ``SECRET_KEY_FILE`` and ``CREDENTIAL_KEYS_FILE`` name (a secrets mount). With the
embedded default (a SQLite database under ``instance/``, one machine) a missing key is
generated into the instance folder on first run. Any other database means several hosts
may share it, and a key generated per host would sign sessions and encrypt credentials the
other hosts cannot read: there the app refuses to start without both keys.
"""
from __future__ import annotations

from pathlib import Path

from dashboard.database import is_sqlite

NAMES = ("SECRET_KEY", "CREDENTIAL_KEYS")


class MissingKeys(RuntimeError):
    """The keys the app needs are not configured (or their file cannot be read)."""


def load(app) -> None:
    """Fill the keys from their files where only a file is named; raise ``MissingKeys``
    when a named file cannot be read, or when outside the embedded default a key is
    absent. Writes nothing."""
    for name in NAMES:
        path = app.config.get(f"{name}_FILE")
        if app.config.get(name) or not path:
            continue
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise MissingKeys(f"{name}_FILE names {path}, which cannot be read "
                              f"({exc.strerror}).") from None
        values = [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]
        if not values:
            raise MissingKeys(f"{name}_FILE names {path}, which is empty.")
        app.config[name] = ",".join(values)
    if is_sqlite(app):
        return
    missing = [name for name in NAMES if not app.config.get(name)]
    if missing:
        raise MissingKeys(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set. With a "
            "database other than the embedded SQLite every host must use the same keys, so "
            "none is generated: set SECRET_KEY and CREDENTIAL_KEYS in the environment, or "
            "SECRET_KEY_FILE and CREDENTIAL_KEYS_FILE naming files that hold them. Make them "
            "with: python -c \"import secrets; print(secrets.token_hex(32))\" and python -c "
            "\"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())\"")
