"""``flask keys rotate`` re-encrypts every stored credential under a new key, in batches,
and says when the old key can go; ``flask keys drop-old`` removes it, after which the old
key really reads nothing and the app still reads everything."""
import os
from pathlib import Path

import pytest
from sqlalchemy import select


def _tokens(app):
    from dashboard.extensions import db
    from dashboard.models import CarrierAccount, HouseAccount
    with app.app_context():
        return (list(db.session.scalars(select(HouseAccount.credentials_encrypted)
                                        .order_by(HouseAccount.id)))
                + list(db.session.scalars(select(CarrierAccount.credentials_encrypted))))


@pytest.fixture
def app(app):
    """The embedded default: keys in ``instance/credential.keys``, the file ``flask keys``
    rotates (the suite's app gets its keys from the configuration, as hosts on PostgreSQL
    do; there the operator rotates them in the environment)."""
    from dashboard import credentials
    from dashboard.database import is_sqlite
    if not is_sqlite(app):
        pytest.skip("outside SQLite the keys come from CREDENTIAL_KEYS, not the instance file")
    key_file = Path(app.config["INSTANCE_DIR"]) / "credential.keys"
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(app.config["CREDENTIAL_KEYS"] + "\n")
    key_file.chmod(0o600)
    app.config["CREDENTIAL_KEYS"] = ""
    credentials.init_app(app)
    return app


@pytest.fixture
def stored(app, sandbox_account):
    from dashboard import credentials
    from dashboard.extensions import db
    from dashboard.models import CarrierAccount
    ids = [sandbox_account(f"Account {n}", warehouse=f"w{n}") for n in range(5)]
    with app.app_context():
        db.session.add(CarrierAccount(carrier_key="ups", title="UPS", credentials_encrypted=(
            credentials.encrypt({"client_id": "ups-id", "client_secret": "ups-secret"}))))
        db.session.commit()
    return ids


def test_rotate_then_drop_the_old_key(app, stored, monkeypatch):
    from dashboard import credentials
    from dashboard.app import create_app
    from dashboard.services import key_rotation
    monkeypatch.setattr(key_rotation, "BATCH", 2)  # 3 batches for the 5 house accounts
    key_file = Path(app.config["INSTANCE_DIR"]) / "credential.keys"
    [old_key] = key_file.read_bytes().split()
    before = _tokens(app)
    runner = app.test_cli_runner()

    rotated = runner.invoke(args=["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    assert "Re-encrypted 6 stored credential(s)" in rotated.output
    assert "can be dropped" in rotated.output
    assert all(a != b for a, b in zip(before, _tokens(app), strict=True))
    assert len(key_file.read_bytes().split()) == 2

    dropped = runner.invoke(args=["keys", "drop-old"])
    assert dropped.exit_code == 0, dropped.output
    [new_key] = key_file.read_bytes().split()
    assert new_key != old_key
    assert oct(os.stat(key_file).st_mode & 0o777) == "0o600"

    fresh = create_app({**app.config})  # reads the key file again: the new key only
    with fresh.app_context():
        values = [credentials.decrypt(t) for t in _tokens(app)]
    assert [v["warehouse"] for v in values[:5]] == [f"w{n}" for n in range(5)]
    assert values[5]["client_secret"] == "ups-secret"
    only_old = create_app({**app.config, "CREDENTIAL_KEYS": old_key.decode()})
    with only_old.app_context(), pytest.raises(credentials.CredentialKeyError):
        credentials.decrypt(_tokens(app)[0])


def test_the_old_key_is_kept_while_a_row_still_needs_it(app, stored):
    from cryptography.fernet import Fernet

    from dashboard.extensions import db
    from dashboard.models import HouseAccount
    key_file = Path(app.config["INSTANCE_DIR"]) / "credential.keys"
    [old_key] = key_file.read_bytes().split()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    with app.app_context():  # a row written by a process still on the old key alone
        account = db.session.get(HouseAccount, stored[0])
        account.credentials_encrypted = Fernet(old_key).encrypt(b'{"api_key": "x"}').decode()
        db.session.commit()
    refused = runner.invoke(args=["keys", "drop-old"])
    assert refused.exit_code != 0 and "still need an older key" in refused.output
    assert len(key_file.read_bytes().split()) == 2
    assert runner.invoke(args=["keys", "rotate", "--no-add"]).exit_code == 0
    assert runner.invoke(args=["keys", "drop-old"]).exit_code == 0


def test_keys_from_the_environment_are_not_rewritten(app, stored):
    from cryptography.fernet import Fernet

    from dashboard.app import create_app
    configured = create_app({**app.config, "CREDENTIAL_KEYS": Fernet.generate_key().decode()})
    result = configured.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code != 0 and "CREDENTIAL_KEYS" in result.output
