"""House tracking and carrier checks with the Sandbox house and carrier."""
from sqlalchemy import func, select


def _f(app, fid):
    from dashboard.extensions import db
    from dashboard.models import Fulfillment
    with app.app_context():
        f = db.session.get(Fulfillment, fid)
        return f, list(f.shipments), [(e.from_status, e.to_status, e.source, e.applied)
                                      for e in f.events]


def _run(app):
    from jobs.tracking import check_tracking
    with app.app_context():
        return check_tracking()


def test_an_order_lives_from_hold_to_delivered(app, sandbox_account, product, place, clock):
    from dashboard.services.dispatch import dispatch
    account = sandbox_account(ship_after="120", scan_after="1800", deliver_after="3600")
    pid = product("LIFE-1", account_id=account)
    _, [fid] = place([(pid, 1)])
    with app.app_context():
        dispatch()
    assert _run(app)["house_moved"] == 0  # not shipped yet
    assert _f(app, fid)[0].status == "pending"
    clock.advance(seconds=121 + 15 * 60)
    result = _run(app)
    f, shipments, _ = _f(app, fid)
    assert result["house_moved"] == 1 and f.status == "pending_shipment"
    assert f.tracking_number.startswith("SBX") and f.carrier == "sandbox"
    assert [s.tracking_number for s in shipments] == [f.tracking_number]
    clock.advance(minutes=15)
    _run(app)
    assert _f(app, fid)[0].status == "shipped"
    clock.advance(minutes=15)
    assert _run(app)["carrier_moved"] == 0  # in transit: checked, nothing new
    clock.advance(hours=1)
    _run(app)
    f, shipments, events = _f(app, fid)
    assert f.status == "delivered" and f.delivered_at is not None
    assert shipments[0].done and shipments[0].status_source == "carrier:sandbox"
    assert [(a, b) for a, b, _s, applied in events if applied] == [
        (None, "hold"), ("hold", "pending"), ("pending", "pending_shipment"),
        ("pending_shipment", "shipped"), ("shipped", "delivered")]
    assert len([e for e in events if not e[3]]) == 0  # no repeated noise on the timeline


def test_checks_follow_only_what_is_moving(app, sandbox_account, product, place, clock,
                                           monkeypatch):
    """Delivered packages are never asked about again; fresh ones are not asked early."""
    from adapters.sandbox import SandboxCarrier
    from dashboard.services.dispatch import dispatch
    account = sandbox_account(ship_after="0", scan_after="0", deliver_after="0")
    pid = product("MOVE-1", account_id=account)
    for _ in range(3):
        place([(pid, 1)])
    with app.app_context():
        dispatch()
    clock.advance(minutes=5)  # dispatch asks for tracking 5 minutes after sending
    first = _run(app)  # tracking arrives and the carrier says delivered at once
    assert first == {"house_checked": 3, "house_moved": 3, "carrier_checked": 3,
                     "carrier_moved": 3}
    asked = []
    real = SandboxCarrier.track
    monkeypatch.setattr(SandboxCarrier, "track",
                        lambda self, numbers: asked.append(list(numbers)) or real(self, numbers))
    clock.advance(hours=2)
    _run(app)
    assert asked == []
    from dashboard.extensions import db
    from dashboard.models import Fulfillment
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Fulfillment).where(
            Fulfillment.status == "delivered")) == 3


def test_tracking_goes_stale_after_the_configured_days(app, sandbox_account, product, place,
                                                       clock):
    from dashboard.services.dispatch import dispatch
    app.config["TRACKING_STALE_DAYS"] = 2
    account = sandbox_account(ship_after="0", scan_after="999999", deliver_after="999999")
    pid = product("STALE-1", account_id=account)
    _, [fid] = place([(pid, 1)])
    with app.app_context():
        dispatch()
    _run(app)
    for _ in range(12):
        clock.advance(hours=6)
        _run(app)
    f, shipments, _ = _f(app, fid)
    assert f.status == "pending_shipment" and f.tracking_stale and shipments[0].done


def test_a_house_that_ships_in_seconds_is_followed_in_seconds(app, redis_conn, sandbox_account,
                                                              product, place, clock):
    """The Sandbox is asked about 15 s after sending (not 5 minutes), and while its orders
    are on their way the scheduler holds one follow-up check, so a demo order lives its
    whole life in minutes; once nothing moves, no follow-up is asked for."""
    from rq_scheduler import Scheduler

    from jobs.dispatch import send_now
    from jobs.tracking import FOLLOW_UP_ID, follow_fast_houses
    account = sandbox_account(ship_after="10", scan_after="10", deliver_after="20")
    pid = product("FAST-1", account_id=account)
    _, [fid] = place([(pid, 1)])
    with app.app_context():
        assert send_now(account_id=account)["sent"] == 1
    f, _, _ = _f(app, fid)
    assert (f.next_check_at - f.sent_at).total_seconds() == 15
    scheduler = Scheduler(queue_name=app.config["RQ_QUEUE"], connection=redis_conn)
    assert [job.id for job in scheduler.get_jobs()] == [FOLLOW_UP_ID]
    with app.app_context():
        assert follow_fast_houses() is True
    assert len(list(scheduler.get_jobs())) == 1  # one follow-up, however often asked
    for _ in range(4):
        clock.advance(seconds=15)
        _run(app)
    assert _f(app, fid)[0].status == "delivered"
    scheduler.cancel(FOLLOW_UP_ID)
    with app.app_context():
        assert follow_fast_houses() is False
    assert list(scheduler.get_jobs()) == []
