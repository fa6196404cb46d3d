"""A dropped database connection and a failed commit in the middle of dispatch: no
half-applied change, and the next run settles everything without a duplicate."""
from datetime import timedelta

import pytest
from faults.figures import census, report
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from testkit import bulk_hold

pytestmark = pytest.mark.slow  # each test runs processes or thousands of orders


def _drop_connection(db):
    """Kill this session's database connection for real on PostgreSQL; on SQLite, where
    there is no server to drop it, invalidate it the same way a dead socket does."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with db.engine.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
            other.commit()
    else:
        connection.invalidate()


@pytest.mark.parametrize("fault", ["failed commit", "dropped connection"])
def test_database_fault_during_dispatch(app, shipstation, clock, monkeypatch, fault):
    from dashboard.extensions import db
    from dashboard.models import Fulfillment, FulfillmentEvent
    from dashboard.services import dispatch as dispatching
    ids = bulk_hold(app, shipstation.account, "WIDGET-1", 1000, clock())
    real_record = dispatching._record
    calls = {"n": 0}

    def faulty_record(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            real_commit = db.session.commit

            def broken_commit():
                db.session.commit = real_commit
                if fault == "failed commit":
                    raise OperationalError("COMMIT", {}, Exception("disk I/O error"))
                _drop_connection(db)
                return real_commit()
            db.session.commit = broken_commit
        return real_record(*args, **kwargs)
    monkeypatch.setattr(dispatching, "_record", faulty_record)
    with app.app_context():
        with pytest.raises(Exception):  # noqa: B017 (either driver's error will do)
            dispatching.dispatch(chunk=500)
        db.session.rollback()
        db.session.remove()
    with app.app_context():
        moved = db.session.scalar(select(func.count()).select_from(Fulfillment).where(
            Fulfillment.status == "pending"))
        events = db.session.scalar(select(func.count()).select_from(FulfillmentEvent).where(
            FulfillmentEvent.to_status == "pending"))
    assert moved == 200 and events == 200  # two whole batches, the third not half-applied
    monkeypatch.setattr(dispatching, "_record", real_record)
    from dashboard.clock import utcnow
    clock.at = max(clock(), utcnow()) + timedelta(seconds=app.config["CLAIM_LEASE_SECONDS"] + 1)
    with app.app_context():
        dispatching.dispatch()
    after = census(app, ids, shipstation.state)
    report(f"database {fault} during dispatch", "third batch's outcome commit broken",
           records=1000, lost=after["lost"], duplicated=after["duplicated"],
           failed=after["failed"])
    assert after["statuses"] == {"pending": 1000} and after["duplicated"] == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FulfillmentEvent).where(
            FulfillmentEvent.to_status == "pending")) == 1000
