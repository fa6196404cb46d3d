"""Keys outside the embedded default: from the environment or files it names, else a
refusal to start that says what to set (and writes nothing)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from dashboard.app import create_app
from dashboard.keys import MissingKeys

ROOT = Path(__file__).resolve().parents[2]
#: never connected to: building the app does not touch the database
PG_URL = "postgresql://postgres@127.0.0.1:5432/no_such_database"


def _env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("SECRET_KEY", "CREDENTIAL_KEYS", "SECRET_KEY_FILE",
                        "CREDENTIAL_KEYS_FILE")}
    return {**env, "DATABASE_URL": PG_URL, "INSTANCE_DIR": str(tmp_path / "instance"),
            "FLASK_APP": "wsgi", "PYTHONPATH": str(ROOT), "REDIS_URL": "redis://127.0.0.1:9/0",
            **extra}


def test_postgresql_without_keys_refuses_to_start(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "flask", "routes"], cwd=ROOT,
                          env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "Refusing to start: SECRET_KEY and CREDENTIAL_KEYS are not set" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "instance").exists()  # nothing generated, nothing written


def test_postgresql_with_one_key_missing_names_it(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "flask", "routes"], cwd=ROOT,
                          env=_env(tmp_path, SECRET_KEY="s" * 64), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode != 0
    assert "CREDENTIAL_KEYS is not set" in proc.stderr


def test_keys_from_files_named_in_the_environment(tmp_path):
    key = Fernet.generate_key().decode()
    (tmp_path / "secret").write_text("s3cret-from-a-file\n")
    (tmp_path / "fernet").write_text(f"{key}\n{Fernet.generate_key().decode()}\n")
    proc = subprocess.run([sys.executable, "-m", "flask", "routes"], cwd=ROOT,
                          env=_env(tmp_path, SECRET_KEY_FILE=str(tmp_path / "secret"),
                                   CREDENTIAL_KEYS_FILE=str(tmp_path / "fernet")),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    app = create_app({"SQLALCHEMY_DATABASE_URI": PG_URL, "INSTANCE_DIR": str(tmp_path / "i"),
                      "SECRET_KEY": "", "CREDENTIAL_KEYS": "",
                      "SECRET_KEY_FILE": str(tmp_path / "secret"),
                      "CREDENTIAL_KEYS_FILE": str(tmp_path / "fernet")})
    assert app.config["SECRET_KEY"] == "s3cret-from-a-file"
    assert app.config["CREDENTIAL_KEYS"].split(",")[0] == key
    assert not (tmp_path / "i" / "secret_key").exists()


@pytest.mark.parametrize("content, message", [(None, "cannot be read"), ("\n", "is empty")])
def test_an_unreadable_or_empty_key_file_is_refused(tmp_path, content, message):
    path = tmp_path / "secret"
    if content is not None:
        path.write_text(content)
    with pytest.raises(MissingKeys, match=message):
        create_app({"SQLALCHEMY_DATABASE_URI": PG_URL, "INSTANCE_DIR": str(tmp_path / "i"),
                    "SECRET_KEY": "", "SECRET_KEY_FILE": str(path)})
    assert not (tmp_path / "i").exists()


def test_the_embedded_default_still_generates_its_keys(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'crm.sqlite'}",
                      "INSTANCE_DIR": str(tmp_path / "i"), "SECRET_KEY": "",
                      "CREDENTIAL_KEYS": ""})
    assert app.config["SECRET_KEY"] == (tmp_path / "i" / "secret_key").read_text().strip()
    assert (tmp_path / "i" / "credential.keys").exists()
