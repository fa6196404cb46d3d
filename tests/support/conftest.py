"""Fixtures for the support-staff tests: records in any status, and the browser fixtures
of tests/browser (loaded from that conftest, since only the root conftest may name
``pytest_plugins``)."""
import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "browser_fixtures", Path(__file__).resolve().parents[1] / "browser" / "conftest.py")
_browser = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_browser)
live_server = _browser.live_server
page = _browser.page

#: the moves that take a Hold record to each status
PATHS = {"hold": [], "pending": ["pending"], "failed": ["failed"], "cancelled": ["cancelled"],
         "pending_shipment": ["pending", "pending_shipment"],
         "shipped": ["pending", "pending_shipment", "shipped"],
         "delivered": ["pending", "pending_shipment", "shipped", "delivered"],
         "returned": ["pending", "pending_shipment", "returned"]}


@pytest.fixture
def account(sandbox_account):
    return sandbox_account("Sandbox East")


@pytest.fixture
def record(app, account, product, place):
    """Place an order and move its fulfillment to ``status``; returns (order id, id).
    ``values`` sets columns on the last move (failure reason, tracking number...)."""
    skus = iter(range(1, 10_000))

    def make(status="hold", *, account_id=None, values=None, **customer):
        from dashboard import status as rules
        from dashboard.extensions import db
        pid = product(f"SKU-{next(skus)}", account_id=account_id or account)
        order_id, [fid] = place([(pid, 1)], **customer)
        with app.app_context():
            path = PATHS[status]
            for i, target in enumerate(path):
                rules.move(fid, target, source="dispatch", actor="Sandbox East",
                           values=(values or {}) if i == len(path) - 1 else None)
            db.session.commit()
        return order_id, fid
    return make


@pytest.fixture
def failed(record):
    """A record the house rejected, with the given reason and message."""
    def make(reason="address", message="Address could not be validated.", **kw):
        return record("failed", values={"failure_reason": reason, "failure_message": message},
                      **kw)
    return make


@pytest.fixture
def get(app):
    """Load a fulfillment (with its events) outside any request."""
    def load(fid):
        from sqlalchemy.orm import selectinload

        from dashboard.extensions import db
        from dashboard.models import Fulfillment
        with app.app_context():
            f = db.session.scalar(db.select(Fulfillment).where(Fulfillment.id == fid).options(
                selectinload(Fulfillment.events), selectinload(Fulfillment.items),
                selectinload(Fulfillment.order), selectinload(Fulfillment.shipments)))
            db.session.expunge_all()
            return f
    return load


@pytest.fixture
def statements(app):
    """Count the SQL statements a block runs: ``with statements() as seen: ...``."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def watch():
        from dashboard.extensions import db
        seen = []
        with app.app_context():
            engine = db.engine

        def before(conn, cursor, statement, *args):
            seen.append(statement)
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", before)
    return watch
