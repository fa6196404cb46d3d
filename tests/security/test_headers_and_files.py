"""Security headers on every answer, and the instance folder readable by its owner only."""
import os
import stat
from pathlib import Path


def test_pages_carry_the_security_headers(app, admin):
    for response in (admin.get("/"), app.test_client().get("/login"),
                     app.test_client().post("/webhooks/shipbob/nope", data=b"{}"),
                     app.test_client().get("/static/app.css")):
        headers = response.headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in headers  # plain HTTP: no HSTS


def test_hsts_only_over_https(app):
    response = app.test_client().get("/login", base_url="https://crm.example.com")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_no_template_has_inline_script(app):
    """The CSP blocks inline scripts and event handler attributes, so none may exist."""
    import re
    templates = Path(__file__).resolve().parents[2] / "dashboard" / "templates"
    for path in templates.rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), path
        assert not re.search(r"\son[a-z]+=", text), path


def _mode(path) -> str:
    return oct(stat.S_IMODE(os.stat(path).st_mode))


def test_instance_files_are_owner_only(tmp_path, redis_url):
    """A fresh install: the folder, the database, the keys and the embedded Redis."""
    from dashboard import redis_conn
    from dashboard.app import create_app
    from dashboard.extensions import db
    instance = tmp_path / "fresh-instance"
    old = os.umask(0o022)  # a usual umask, which used to leave everything world-readable
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'crm.sqlite'}",
                          "INSTANCE_DIR": str(instance), "REDIS_URL": redis_url})
        with app.app_context():
            db.session.execute(db.text("CREATE TABLE t (x int)"))
            db.session.commit()
            db.engine.dispose()
        redis_conn.embedded_url(instance)
    finally:
        os.umask(old)
        redis_conn.stop_embedded(instance)
    assert _mode(instance) == "0o700"
    assert _mode(instance / "redis") == "0o700"
    for name in ("crm.sqlite", "secret_key", "credential.keys"):
        assert _mode(instance / name) == "0o600", name
    for path in (instance / "redis").iterdir():
        assert not stat.S_IMODE(os.stat(path).st_mode) & 0o077, path
