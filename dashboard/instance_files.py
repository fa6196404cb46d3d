"""The instance folder holds the secrets of an install (the SQLite database with webhook
tokens and password hashes, the secret key, the credential keys, the embedded Redis and its
socket): its folders are created 0700 and its files 0600, readable by the app's user only.
"""
from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
#: the umask for processes the app starts to write there (the embedded Redis)
UMASK = 0o077


def private_dir(path: str | os.PathLike) -> Path:
    """Create ``path`` (and missing parents) owner-only; an existing one is made so too."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(folder, DIR_MODE)
    return folder


def private_sqlite(url: str, instance_dir: str | os.PathLike) -> None:
    """Create the SQLite file of ``url`` owner-only before SQLite does (SQLite gives its
    -wal and -shm files the database's permissions); a database under the instance folder
    that exists already is made owner-only too."""
    path = url.split("///", 1)[1].split("?", 1)[0] if "///" in url else ""
    if not path or path == ":memory:":
        return
    database = Path(path)
    if not database.exists():
        database.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    elif Path(instance_dir).resolve() in database.resolve().parents:
        os.chmod(database, FILE_MODE)
