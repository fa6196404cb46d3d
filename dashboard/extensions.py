"""Extension singletons, wired to the app by ``init_app`` in the factory."""
from pathlib import Path

from flask import request
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

#: constraint names that Alembic can refer to on every database
naming = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=naming))
migrate = Migrate(render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()


def _limits_storage_uri(app) -> str:
    """The app's Redis as a ``limits`` storage URI, so every process shares one count.

    With no ``REDIS_URL`` the project's embedded Redis listens on a socket under the
    instance folder (see ``redis_conn``); the URI is only computed here, the server is
    started by whoever first needs it.
    """
    url = app.config.get("REDIS_URL") or \
        f"unix://{Path(app.config['INSTANCE_DIR']) / 'redis' / 'redis.sock'}"
    return "redis+" + url if url.startswith("unix://") else url


def _limiter_key() -> str:
    return request.remote_addr or "unknown"


class RedisLimiter(Limiter):
    """Flask-Limiter counting on the app's Redis (``REDIS_URL``); the API's per-user
    limits use it through ``dashboard.api.api_auth``."""
    def init_app(self, app) -> None:
        app.config.setdefault("RATELIMIT_STORAGE_URI", _limits_storage_uri(app))
        super().init_app(app)


limiter = RedisLimiter(key_func=_limiter_key, strategy="fixed-window")
