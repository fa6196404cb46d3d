"""House and carrier credentials, encrypted at rest with MultiFernet.

Keys come from ``CREDENTIAL_KEYS`` (comma-separated, newest first, so a key is rotated by
putting a new one in front) or, when unset, from a key generated once into the instance
folder. Keys never live in the database. Decrypted values exist only in memory, for the
adapter call or the admin's edit form, and are never logged.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class CredentialKeyError(RuntimeError):
    """The stored credentials cannot be read with the configured keys."""


def _load_keys(app) -> list[bytes]:
    configured = app.config.get("CREDENTIAL_KEYS") or ""
    if configured:
        return [k.strip().encode() for k in configured.split(",") if k.strip()]
    path = Path(app.config["INSTANCE_DIR"]) / "credential.keys"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(Fernet.generate_key() + b"\n")
    return [line.strip() for line in path.read_bytes().splitlines() if line.strip()]


def init_app(app) -> None:
    """(Re)load the keys; ``flask keys`` calls it again after changing the key file."""
    app.extensions["credential_fernet"] = MultiFernet([Fernet(k) for k in _load_keys(app)])


def newest_key(app) -> bytes:
    """The key new tokens are encrypted with (the first one)."""
    return _load_keys(app)[0]


def _fernet() -> MultiFernet:
    return current_app.extensions["credential_fernet"]


def encrypt(values: dict[str, str]) -> str:
    return _fernet().encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict[str, str]:
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        raise CredentialKeyError(
            "Stored credentials cannot be decrypted with the configured CREDENTIAL_KEYS.") from None


def rotate(token: str) -> str:
    """Re-encrypt under the newest key."""
    return _fernet().rotate(token.encode()).decode()
