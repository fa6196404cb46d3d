"""The board's counts per account × status, kept by the database's triggers in a ledger,
equal a full GROUP BY count after random moves, account changes, deletes and folds, and the
migration fills them from the rows already there."""
import random

import pytest
from sqlalchemy import delete, func, select, update
from testkit import bulk_hold

from dashboard import status as rules
from dashboard.extensions import db
from dashboard.models import Fulfillment, FulfillmentEvent, FulfillmentItem, OrderItem
from dashboard.services import status_counts
from dashboard.status import Status


def _grouped():
    rows = db.session.execute(select(Fulfillment.house_account_id, Fulfillment.status,
                                     func.count()).group_by(Fulfillment.house_account_id,
                                                            Fulfillment.status)).all()
    return {(account, status): n for account, status, n in rows}


def _delete(ids):
    """Delete fulfillments the way a data clean-up would: their rows and what points at them."""
    db.session.execute(update(OrderItem).where(OrderItem.fulfillment_id.in_(ids))
                       .values(fulfillment_id=None))
    for table in (FulfillmentEvent, FulfillmentItem):
        db.session.execute(delete(table).where(table.fulfillment_id.in_(ids)))
    db.session.execute(delete(Fulfillment).where(Fulfillment.id.in_(ids)))


@pytest.mark.parametrize("seed", [1, 2])
def test_counts_equal_a_full_count_after_random_moves(app, sandbox_account, clock,
                                                      monkeypatch, seed):
    rng = random.Random(seed)
    monkeypatch.setattr(status_counts, "FOLD_ABOVE", 40)  # fold often along the way
    accounts = [sandbox_account(f"Sandbox {n}") for n in range(3)]
    ids = [fid for n, account in enumerate(accounts)
           for fid in bulk_hold(app, account, f"SKU-{n}", 60, clock())]
    with app.app_context():
        assert status_counts.counts() == _grouped()
        for _round in range(25):
            action = rng.random()
            chosen = rng.sample(ids, rng.randint(1, 40))
            if action < 0.7:  # moves through the status rules, some refused or late
                rules.move_many(chosen, rng.choice(list(Status)), source="test")
            elif action < 0.85:  # records moved to another account
                db.session.execute(update(Fulfillment).where(Fulfillment.id.in_(chosen))
                                   .values(house_account_id=rng.choice(accounts)))
            elif action < 0.9:
                _delete(chosen)
                ids = [fid for fid in ids if fid not in set(chosen)]
            else:  # a transaction that fails leaves the counts as they were
                rules.move_many(chosen, Status.CANCELLED, source="test")
                db.session.rollback()
                continue
            db.session.commit()
            if rng.random() < 0.2:
                status_counts.fold()
            assert status_counts.counts() == _grouped()
        status_counts.fold()
        assert db.session.scalar(select(func.count()).select_from(
            status_counts.FulfillmentCount)) == len(_grouped())  # one line per pair
        assert status_counts.counts() == _grouped()


def test_the_migration_fills_the_counts_from_existing_rows(app, sandbox_account, clock):
    from flask_migrate import downgrade, upgrade
    account = sandbox_account()
    ids = bulk_hold(app, account, "SKU-M", 30, clock())
    with app.app_context():
        rules.move_many(ids[:10], Status.PENDING, source="test")
        db.session.commit()
        db.session.remove()
        downgrade(revision="be0e44ee1e4b")  # no ledger, no triggers
        db.session.execute(update(Fulfillment).where(Fulfillment.id.in_(ids[10:15]))
                           .values(status="failed"))
        db.session.commit()
        db.session.remove()
        upgrade()
        assert status_counts.counts() == _grouped() == {
            (account, "hold"): 15, (account, "pending"): 10, (account, "failed"): 5}
