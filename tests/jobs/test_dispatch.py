"""Dispatch with the Sandbox house: outcomes, retries, crashes and concurrent workers."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from adapters import sandbox


def _fulfillments(app):
    from dashboard.extensions import db
    from dashboard.models import Fulfillment
    with app.app_context():
        return {f.id: f for f in db.session.scalars(select(Fulfillment))}


def _dispatch(app, **kw):
    from dashboard.services.dispatch import dispatch
    with app.app_context():
        return dispatch(**kw)


@pytest.fixture
def shop(app, sandbox_account, product):
    account = sandbox_account()
    return {"account": account,
            "ok": product("OK-1", account_id=account),
            "unknown": product("GHOST-UNKNOWN", account_id=account),
            "oos": product("LAMP-OOS", account_id=account)}


def test_accepted_rejected_and_sent_once(app, shop, place):
    _, [ok] = place([(shop["ok"], 2)])
    _, [sku] = place([(shop["unknown"], 1)])
    _, [stock] = place([(shop["oos"], 1)])
    _, [addr] = place([(shop["ok"], 1)], postal_code="00000", state="VA")
    summary = _dispatch(app)
    assert (summary.sent, summary.failed, summary.deferred) == (1, 3, 0)
    fs = _fulfillments(app)
    assert fs[ok].status == "pending" and fs[ok].house_reference.startswith("SBX-")
    assert fs[ok].sent_at is not None and fs[ok].claim_token is None
    assert {fid: fs[fid].failure_reason for fid in (sku, stock, addr)} == {
        sku: "sku", stock: "stock", addr: "address"}
    assert "does not exist in warehouse" in fs[sku].failure_message
    assert sandbox.receipts(fs[ok].reference) == 1
    again = _dispatch(app)
    assert again.claimed == 0
    assert sandbox.receipts(fs[ok].reference) == 1


def test_product_hold_delay_is_respected(app, sandbox_account, product, place, clock):
    pid = product("LATE-1", account_id=sandbox_account(), hold_delay_hours=2)
    _, [fid] = place([(pid, 1)])
    assert _dispatch(app).claimed == 0
    clock.advance(hours=2)
    assert _dispatch(app).sent == 1
    assert _fulfillments(app)[fid].status == "pending"


def test_house_down_keeps_orders_in_hold_then_sends_all_once(app, sandbox_account, product,
                                                             place, clock):
    from dashboard import credentials
    from dashboard.extensions import db
    from dashboard.models import HouseAccount
    account = sandbox_account(outage="1")
    pid = product("DOWN-1", account_id=account)
    ids = [place([(pid, 1)])[1][0] for _ in range(5)]
    summary = _dispatch(app)
    assert summary.sent == 0 and summary.failed == 0 and summary.deferred == 5
    fs = _fulfillments(app)
    assert {fs[i].status for i in ids} == {"hold"}
    assert all("down" in fs[i].last_error for i in ids)
    assert all(fs[i].due_at == clock() + timedelta(seconds=60) for i in ids)
    with app.app_context():
        acc = db.session.get(HouseAccount, account)
        values = credentials.decrypt(acc.credentials_encrypted)
        acc.credentials_encrypted = credentials.encrypt({**values, "outage": ""})
        db.session.commit()
    assert _dispatch(app).claimed == 0  # still paused, not due
    clock.advance(seconds=61)
    assert _dispatch(app).sent == 5
    fs = _fulfillments(app)
    assert all(sandbox.receipts(fs[i].reference) == 1 for i in ids)


def test_a_timeout_after_sending_is_looked_up_not_resent(app, shop, place, clock, monkeypatch):
    """The house accepted but the answer was lost: the next run finds it by our key."""
    from adapters.base import Transient
    from adapters.sandbox import SandboxHouse
    _, [fid] = place([(shop["ok"], 1)])
    real_send = SandboxHouse.send

    def accepted_then_timed_out(self, orders):
        real_send(self, orders)
        return [Transient(o.key, "Read timed out.", 30, maybe_received=True) for o in orders]
    monkeypatch.setattr(SandboxHouse, "send", accepted_then_timed_out)
    assert _dispatch(app).deferred == 1
    f = _fulfillments(app)[fid]
    assert f.status == "hold" and f.outcome_unknown
    monkeypatch.setattr(SandboxHouse, "send", real_send)
    sends = []
    monkeypatch.setattr(SandboxHouse, "send",
                        lambda self, orders: sends.append(orders) or real_send(self, orders))
    clock.advance(seconds=31)
    assert _dispatch(app).sent == 1
    assert sends == []  # found by lookup, not sent again
    assert sandbox.receipts(f.reference) == 1
    assert _fulfillments(app)[fid].status == "pending"


def test_staff_cancel_while_in_flight_cancels_at_the_house(app, shop, place, monkeypatch):
    from adapters.sandbox import SandboxHouse
    from dashboard import status
    from dashboard.extensions import db
    _, [fid] = place([(shop["ok"], 1)])
    real_send = SandboxHouse.send

    def cancel_meanwhile(self, orders):
        result = real_send(self, orders)
        with app.app_context():
            status.move(fid, "cancelled", source="staff", actor="Sam")
            db.session.commit()
        return result
    monkeypatch.setattr(SandboxHouse, "send", cancel_meanwhile)
    _dispatch(app)
    from dashboard.models import FulfillmentEvent
    with app.app_context():
        details = [e.detail for e in db.session.scalars(select(FulfillmentEvent).where(
            FulfillmentEvent.fulfillment_id == fid))]
    assert _fulfillments(app)[fid].status == "cancelled"
    assert any("cancel sent to the house" in d for d in details)
    with sandbox.closing(sandbox.connect_store()) as conn:
        assert conn.execute("SELECT status FROM orders").fetchone()[0] == "cancelled"


def test_deactivated_account_is_not_dispatched(app, shop, place):
    from dashboard.extensions import db
    from dashboard.models import HouseAccount
    place([(shop["ok"], 1)])
    with app.app_context():
        db.session.get(HouseAccount, shop["account"]).active = False
        db.session.commit()
    assert _dispatch(app).claimed == 0


def test_hourly_slot_runs_once(app, shop, place):
    from jobs.dispatch import hourly_dispatch
    place([(shop["ok"], 1)])
    with app.app_context():
        first = hourly_dispatch("2026-11-02T09")
        place([(shop["ok"], 1)])
        second = hourly_dispatch("2026-11-02T09")
    assert first["sent"] == 1 and not first["skipped_run"]
    assert second["skipped_run"] and second["claimed"] == 0
    from dashboard.extensions import db
    from dashboard.models import DispatchRun
    with app.app_context():
        run = db.session.scalar(select(DispatchRun))
        assert (run.run_key, run.sent, run.finished_at is not None) == (
            "hourly:2026-11-02T09", 1, True)


def test_a_large_run_uses_few_statements(app, shop, place, clock):
    """No query or commit per order: 1,000 orders cost a bounded number of statements."""
    from sqlalchemy import event

    from dashboard.extensions import db
    from dashboard.models import Fulfillment
    place([(shop["ok"], 1)])
    with app.app_context():
        template = db.session.scalar(select(Fulfillment))
        rows = [{"reference": f"FFBULK{i:06d}", "order_id": template.order_id,
                 "house_account_id": shop["account"], "status": "hold", "due_at": clock(),
                 "created_at": clock(), "updated_at": clock(), "attempts": 0,
                 "outcome_unknown": False, "last_error": "", "carrier": "", "ship_method": "",
                 "failure_message": "", "carrier_exception": "", "tracking_stale": False,
                 "is_reshipment": False, "rma_number": ""} for i in range(1000)]
        db.session.execute(Fulfillment.__table__.insert(), rows)
        db.session.commit()
        statements = []
        listener = lambda *a: statements.append(a[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            from dashboard.services.dispatch import dispatch
            summary = dispatch(chunk=500)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert summary.sent == 1001
        assert len(statements) < 200, len(statements)
        assert db.session.scalar(select(func.count()).select_from(Fulfillment).where(
            Fulfillment.status == "pending")) == 1001
