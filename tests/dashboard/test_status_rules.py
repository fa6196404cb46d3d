"""The status rules: allowed moves, refusals, late events, guarded updates, and a
Hypothesis state machine that checks records never go backwards and are never lost."""
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import select

from dashboard.status import ALLOWED, RefusedMove, Status, UnknownFulfillment, is_late


@pytest.fixture
def one_fulfillment(app, sandbox_account, product, place):
    pid = product("R-1", account_id=sandbox_account())
    _, [fid] = place([(pid, 1)])
    return fid


def _state(app, fid):
    from dashboard.extensions import db
    from dashboard.models import Fulfillment, FulfillmentEvent
    with app.app_context():
        f = db.session.get(Fulfillment, fid)
        events = db.session.scalars(select(FulfillmentEvent).where(
            FulfillmentEvent.fulfillment_id == fid).order_by(FulfillmentEvent.id)).all()
        return f.status, [(e.from_status, e.to_status, e.source, e.applied) for e in events]


def test_the_table_matches_product_md():
    assert ALLOWED[Status.HOLD] == {Status.PENDING, Status.FAILED, Status.CANCELLED,
                                    Status.PENDING_SHIPMENT}
    assert ALLOWED[Status.PENDING] == {Status.PENDING_SHIPMENT, Status.FAILED, Status.CANCELLED}
    assert ALLOWED[Status.PENDING_SHIPMENT] == {Status.SHIPPED, Status.DELIVERED,
                                                Status.RETURNED}
    assert ALLOWED[Status.SHIPPED] == {Status.DELIVERED, Status.RETURNED}
    assert ALLOWED[Status.DELIVERED] == {Status.RETURNED}
    assert ALLOWED[Status.FAILED] == {Status.HOLD, Status.CANCELLED}
    assert not ALLOWED[Status.CANCELLED] and not ALLOWED[Status.RETURNED]


def test_a_move_writes_its_event(app, one_fulfillment):
    from dashboard import status
    from dashboard.extensions import db
    with app.app_context():
        assert status.move(one_fulfillment, Status.PENDING, source="dispatch", actor="East",
                           values={"house_reference": "H-1"}) is True
        db.session.commit()
    current, events = _state(app, one_fulfillment)
    assert current == "pending"
    assert events[-1] == ("hold", "pending", "dispatch", True)


def test_a_refused_move_raises_and_changes_nothing(app, one_fulfillment):
    from dashboard import status
    from dashboard.extensions import db
    before = _state(app, one_fulfillment)
    with app.app_context():
        with pytest.raises(RefusedMove, match="cannot move from Hold to Delivered"):
            status.move(one_fulfillment, Status.DELIVERED, source="carrier")
        db.session.commit()
    assert _state(app, one_fulfillment) == before


def test_a_late_event_is_recorded_and_changes_nothing(app, one_fulfillment):
    from dashboard import status
    from dashboard.extensions import db
    with app.app_context():
        for target in (Status.PENDING, Status.PENDING_SHIPMENT, Status.DELIVERED):
            status.move(one_fulfillment, target, source="test")
        assert status.move(one_fulfillment, Status.SHIPPED, source="carrier") is False
        assert status.move(one_fulfillment, Status.DELIVERED, source="webhook") is False
        db.session.commit()
    current, events = _state(app, one_fulfillment)
    assert current == "delivered"
    assert events[-2:] == [("delivered", "delivered", "carrier", False),
                           ("delivered", "delivered", "webhook", False)]


def test_resend_of_a_delivered_record_is_refused_not_ignored():
    assert is_late(Status.DELIVERED, Status.HOLD) is False


def test_unknown_fulfillment(app):
    from dashboard import status
    with app.app_context(), pytest.raises(UnknownFulfillment):
        status.move(999999, Status.PENDING, source="test")


def test_the_update_is_guarded_against_a_concurrent_writer(app, one_fulfillment):
    """If another writer moved the record after we read it, our UPDATE matches nothing."""
    from sqlalchemy import update

    from dashboard import status
    from dashboard.extensions import db
    from dashboard.models import Fulfillment
    with app.app_context():
        other = db.engine.connect()
        real_execute = db.session.execute
        calls = {"n": 0}

        def interleaving(stmt, *args, **kwargs):
            result = real_execute(stmt, *args, **kwargs)
            calls["n"] += 1
            if calls["n"] == 1:  # after our read, the other writer cancels it
                db.session.commit()
                with other.begin():
                    other.execute(update(Fulfillment).where(Fulfillment.id == one_fulfillment)
                                  .values(status="cancelled"))
            return result
        db.session.execute = interleaving
        try:
            result = status.move_many([one_fulfillment], Status.PENDING, source="dispatch")
        finally:
            db.session.execute = real_execute
            other.close()
        db.session.commit()
        assert result.moved == [] and result.refused == {one_fulfillment: status.CHANGED}
    current, events = _state(app, one_fulfillment)
    assert current == "cancelled"
    assert all(e[1] != "pending" for e in events)


def test_move_many_counts_moved_unchanged_and_refused(app, sandbox_account, product, place):
    from dashboard import status
    from dashboard.extensions import db
    pid = product("M-1", account_id=sandbox_account())
    ids = [place([(pid, 1)])[1][0] for _ in range(3)]
    with app.app_context():
        status.move(ids[1], Status.PENDING, source="test")
        status.move(ids[2], Status.CANCELLED, source="test")
        result = status.move_many(ids + [424242], Status.PENDING, source="api",
                                  values={ids[0]: {"house_reference": "X"}})
        db.session.commit()
    assert result.moved == [ids[0]]
    assert result.unchanged == [ids[1]]
    assert result.refused == {ids[2]: status.Refusal(status.Why.RULES, Status.CANCELLED),
                              424242: status.UNKNOWN}


class StatusMachine(RuleBasedStateMachine):
    """Random sequences of reported moves: the stored status always follows the table,
    every applied event chains from the previous status, and no record disappears."""

    app = None

    @initialize()
    def setup(self):
        from dashboard.extensions import db
        from dashboard.models import Fulfillment, FulfillmentEvent
        with self.app.app_context():
            db.session.query(FulfillmentEvent).delete()
            ids = [f.id for f in db.session.scalars(select(Fulfillment))]
            db.session.execute(Fulfillment.__table__.update().values(status="hold"))
            db.session.commit()
        self.ids = ids
        self.model = {fid: Status.HOLD for fid in ids}

    @rule(index=st.integers(0, 2), to=st.sampled_from(list(Status)))
    def report(self, index, to):
        target = to
        from dashboard import status
        from dashboard.extensions import db
        fid = self.ids[index]
        before = self.model[fid]
        with self.app.app_context():
            try:
                moved = status.move(fid, target, source="hypothesis")
            except RefusedMove:
                assert target not in ALLOWED[before] and not is_late(before, target)
                moved = False
            db.session.commit()
        if target in ALLOWED[before]:
            assert moved
            self.model[fid] = target
        else:
            assert not moved

    @invariant()
    def matches_model_and_chain(self):
        from dashboard.extensions import db
        from dashboard.models import Fulfillment, FulfillmentEvent
        if not getattr(self, "ids", None):
            return
        with self.app.app_context():
            stored = dict(db.session.execute(select(Fulfillment.id, Fulfillment.status)).all())
            assert stored == {fid: s.value for fid, s in self.model.items()}
            for fid in self.ids:
                previous = "hold"
                for e in db.session.scalars(select(FulfillmentEvent).where(
                        FulfillmentEvent.fulfillment_id == fid,
                        FulfillmentEvent.applied).order_by(FulfillmentEvent.id)):
                    assert e.from_status == previous
                    assert Status(e.to_status) in ALLOWED[Status(previous)]
                    previous = e.to_status
                assert previous == stored[fid]


def test_status_state_machine(app, sandbox_account, product, place):
    pid = product("H-1", account_id=sandbox_account())
    for _ in range(3):
        place([(pid, 1)])
    StatusMachine.app = app
    from hypothesis.stateful import run_state_machine_as_test
    run_state_machine_as_test(StatusMachine, settings=settings(
        max_examples=25, stateful_step_count=20, deadline=None, derandomize=True,
        suppress_health_check=list(HealthCheck)))
