"""Fixtures: an app on a fresh migrated database (SQLite by default, PostgreSQL when
TEST_DATABASE_URL names one), a real Redis (REDIS_URL, or an embedded one), a clock the
test moves, and logged-in clients. Outbound traffic beyond this machine is refused."""
from __future__ import annotations

import os
import shutil
import socket
import uuid
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from testkit import CUSTOMER, PASSWORD, SANDBOX_KEY, TEST_KEYS, Browserless, Clock  # noqa: F401

# ------------------------------------------------------------------ network guard


@pytest.fixture(autouse=True)
def _no_outbound_network(monkeypatch):
    """Tests talk to 127.0.0.1 only; anything else is a bug in the test or the code."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            if host not in ("127.0.0.1", "::1", "localhost") and not host.startswith("127."):
                raise RuntimeError(f"test tried to reach {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


# ------------------------------------------------------------------ database


def _migrate(url: str, instance: Path) -> None:
    from flask_migrate import upgrade

    from dashboard.app import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": str(instance),
                      "TESTING": True, **TEST_KEYS})
    with app.app_context():
        upgrade()
        from dashboard.extensions import db
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """Migrate once per session: a template SQLite file, or a fresh PostgreSQL database."""
    base = tmp_path_factory.mktemp("db")
    pg = os.environ.get("TEST_DATABASE_URL")
    if pg:
        name = f"crm_test_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(pg.replace("postgresql://", "postgresql+psycopg://", 1),
                                 isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = pg.rsplit("/", 1)[0] + "/" + name
        _migrate(url, base)
        yield ("postgresql", url)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    else:
        template = base / "template.sqlite"
        _migrate(f"sqlite:///{template}", base)
        yield ("sqlite", template)


@pytest.fixture
def database_url(database_template, tmp_path):
    kind, where = database_template
    if kind == "sqlite":
        target = tmp_path / "crm.sqlite"
        shutil.copy(where, target)
        return f"sqlite:///{target}"
    engine = sa.create_engine(where.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        tables = [r[0] for r in conn.exec_driver_sql(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' "
            "AND tablename <> 'alembic_version'")]
        conn.exec_driver_sql("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                             + " RESTART IDENTITY CASCADE")
    engine.dispose()
    return where


# ------------------------------------------------------------------ redis


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """REDIS_URL's server (database 15, flushed per test), or an embedded one."""
    from dashboard import redis_conn
    configured = os.environ.get("REDIS_URL")
    if configured:
        yield configured.rsplit("/", 1)[0] + "/15" if configured.count("/") > 2 else \
            configured.rstrip("/") + "/15"
        return
    folder = tmp_path_factory.mktemp("redis")
    yield redis_conn.embedded_url(folder)
    redis_conn.stop_embedded(folder)


@pytest.fixture
def redis_conn(redis_url):
    import redis
    conn = redis.Redis.from_url(redis_url)
    conn.flushdb()
    yield conn
    conn.close()


# ------------------------------------------------------------------ clock and app


@pytest.fixture
def clock():
    return Clock(datetime(2026, 11, 2, 9, 0, 0))


@pytest.fixture
def app(database_url, redis_url, redis_conn, tmp_path, clock, monkeypatch):
    from dashboard.app import create_app
    from jobs.context import use_app
    monkeypatch.setenv("SANDBOX_HOUSE_PATH", str(tmp_path / "sandbox-house.sqlite"))
    app = create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url,
        "INSTANCE_DIR": str(tmp_path / "instance"), **TEST_KEYS,
        "CLOCK": clock, "SERVER_NAME": None, "WTF_CSRF_ENABLED": True,
        # the house simulators listen on 127.0.0.1: an operator's choice in production
        "ALLOW_CUSTOM_BASE_URLS": True,
        # no real waiting for rate limits unless a test asks for it
        "HOUSE_MAX_PACE": 0, "DISPATCH_MAX_INLINE_WAIT": 0,
    })
    use_app(app)
    yield app
    use_app(None)
    with app.app_context():
        from dashboard.extensions import db
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def db_session(app):
    from dashboard.extensions import db
    with app.app_context():
        yield db.session


@pytest.fixture
def make_user(app):
    from dashboard.extensions import db
    from dashboard.models import User

    def make(email="admin@example.com", role="admin", name="Ada Admin"):
        with app.app_context():
            user = User(email=email, role=role, name=name)
            user.set_password(PASSWORD)
            db.session.add(user)
            db.session.commit()
            return user.id
    return make


@pytest.fixture
def admin(app, make_user):
    make_user("admin@example.com", "admin", "Ada Admin")
    c = Browserless(app.test_client())
    assert c.login("admin@example.com").status_code == 302
    return c


@pytest.fixture
def support(app, make_user):
    make_user("support@example.com", "support", "Sam Support")
    c = Browserless(app.test_client())
    assert c.login("support@example.com").status_code == 302
    return c


# ------------------------------------------------------------------ domain factories


@pytest.fixture
def sandbox_account(app):
    """Create a Sandbox account directly; returns a function taking overrides."""
    from dashboard import credentials
    from dashboard.extensions import db
    from dashboard.models import HouseAccount

    def make(title="Sandbox East", send_immediately=False, **creds):
        values = {"api_key": SANDBOX_KEY, "warehouse": "east", "ship_after": "60",
                  "scan_after": "60", "deliver_after": "180", "outage": ""}
        values.update(creds)
        with app.app_context():
            account = HouseAccount(adapter_key="sandbox", title=title,
                                   send_immediately=send_immediately,
                                   credentials_encrypted=credentials.encrypt(values))
            db.session.add(account)
            db.session.commit()
            return account.id
    return make


@pytest.fixture
def product(app):
    from decimal import Decimal

    from dashboard.extensions import db
    from dashboard.models import Product

    def make(sku="SHOE-1", account_id=None, name=None, price="10.00", shippable=True,
             hold_delay_hours=0):
        with app.app_context():
            p = Product(name=name or f"Product {sku}", sku=sku, price=Decimal(price),
                        shippable=shippable, house_account_id=account_id,
                        hold_delay_hours=hold_delay_hours)
            db.session.add(p)
            db.session.commit()
            return p.id
    return make


@pytest.fixture
def place(app):
    """Place an order through the service (products: list of (product_id, qty))."""
    from dashboard.services import order_entry

    def make(products, **customer):
        with app.app_context():
            order = order_entry.place_order({**CUSTOMER, **customer},
                                            [order_entry.Line(pid, q) for pid, q in products],
                                            actor="test")
            return order.id, [f.id for f in order.fulfillments]
    return make
