"""The WSGI entry point: ``gunicorn wsgi:app``; ``FLASK_APP=wsgi flask db upgrade``."""
from dashboard.app import create_app
from dashboard.keys import MissingKeys

try:
    app = create_app()
except MissingKeys as exc:  # say why in one line, not a traceback
    raise SystemExit(f"Refusing to start: {exc}") from None
