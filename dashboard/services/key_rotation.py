"""Rotating the credential encryption key: ``flask keys rotate`` and ``flask keys drop-old``.

``rotate`` puts a new Fernet key in front (in ``instance/credential.keys``; with
``CREDENTIAL_KEYS`` set, the operator puts the new key first there and runs
``rotate --no-add``), then re-encrypts every stored credential (house and carrier
accounts) under the newest key, in batches of ``BATCH`` rows, one commit per batch, and
checks each row decrypts with the newest key alone. When nothing is left under an older
key it says so: ``drop-old`` then removes the older keys from the key file (refusing while
any row still needs one).
"""
from __future__ import annotations

import os
from pathlib import Path

import click
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select, update

from dashboard import credentials
from dashboard.extensions import db
from dashboard.models import CarrierAccount, HouseAccount

BATCH = 200
#: the tables holding encrypted credentials
ENCRYPTED = (HouseAccount, CarrierAccount)

keys = AppGroup("keys", help="The keys that encrypt stored credentials.")


def _key_file() -> Path:
    return Path(current_app.config["INSTANCE_DIR"]) / "credential.keys"


def _write_keys(path: Path, lines: list[bytes]) -> None:
    """Replace the key file atomically, readable by its owner only."""
    temporary = path.with_suffix(".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(b"".join(line + b"\n" for line in lines))
    os.replace(temporary, path)


def _file_keys() -> list[bytes]:
    if current_app.config.get("CREDENTIAL_KEYS"):
        raise click.ClickException(
            "The keys come from CREDENTIAL_KEYS: put a new key (python -c 'from "
            "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())') in "
            "front there, restart, and run `flask keys rotate --no-add`; remove the old "
            "key from CREDENTIAL_KEYS when this command says it can go.")
    credentials.init_app(current_app)  # creates the file on a fresh install
    return [line.strip() for line in _key_file().read_bytes().splitlines() if line.strip()]


def reencrypt_all() -> tuple[int, int]:
    """Re-encrypt every stored credential under the newest key, batch by batch; returns
    (rows re-encrypted, rows the newest key alone still cannot read: 0 means the older
    keys can be dropped)."""
    newest = Fernet(credentials.newest_key(current_app))
    done = unreadable = 0
    for model in ENCRYPTED:
        after = 0
        while True:
            rows = db.session.execute(
                select(model.id, model.credentials_encrypted).where(model.id > after)
                .order_by(model.id).limit(BATCH)).all()
            if not rows:
                break
            after = rows[-1].id
            for row in rows:
                if not row.credentials_encrypted:
                    continue
                token = credentials.rotate(row.credentials_encrypted)
                db.session.execute(update(model).where(model.id == row.id)
                                   .values(credentials_encrypted=token))
                try:
                    newest.decrypt(token.encode())
                except InvalidToken:
                    unreadable += 1
                done += 1
            db.session.commit()
    return done, unreadable


def rows_needing_old_keys() -> int:
    """Stored credentials the newest key alone cannot read."""
    newest = Fernet(credentials.newest_key(current_app))
    count = 0
    for model in ENCRYPTED:
        for token in db.session.scalars(select(model.credentials_encrypted)):
            try:
                newest.decrypt(token.encode())
            except InvalidToken:
                count += 1
    return count


@keys.command("rotate")
@click.option("--add/--no-add", default=True, show_default=True,
              help="Add a new key in front first (instance key file only).")
def rotate(add: bool):
    """Re-encrypt every stored credential under the newest key."""
    if add:
        lines = _file_keys()
        _write_keys(_key_file(), [Fernet.generate_key()] + lines)
        credentials.init_app(current_app)
        click.echo(f"Added a new key in front of {len(lines)} older key(s).")
    done, unreadable = reencrypt_all()
    click.echo(f"Re-encrypted {done} stored credential(s) under the newest key.")
    if unreadable:
        raise click.ClickException(f"{unreadable} row(s) are still not readable with the "
                                   "newest key alone; keep the old keys.")
    click.echo("Nothing needs the older keys any more: they can be dropped "
               "(`flask keys drop-old`, or remove them from CREDENTIAL_KEYS).")


@keys.command("drop-old")
def drop_old():
    """Remove every key but the newest from the key file, once nothing needs them."""
    lines = _file_keys()
    if len(lines) < 2:
        click.echo("Only one key is in use; nothing to drop.")
        return
    needing = rows_needing_old_keys()
    if needing:
        raise click.ClickException(f"{needing} stored credential(s) still need an older key; "
                                   "run `flask keys rotate --no-add` first.")
    _write_keys(_key_file(), lines[:1])
    credentials.init_app(current_app)
    click.echo(f"Dropped {len(lines) - 1} older key(s); the newest key reads everything.")
