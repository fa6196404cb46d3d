"""The WSGI entry point: ``gunicorn wsgi:app``; ``FLASK_APP=wsgi flask db upgrade``."""
from dashboard.app import create_app

app = create_app()
