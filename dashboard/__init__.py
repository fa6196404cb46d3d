"""The CRM dashboard: a Flask app built by ``dashboard.app.create_app``; nothing runs at
import time, and this package file imports nothing (see the README's Layout)."""
