"""How many fulfillments each account has in each status, without counting the table.

Triggers on ``fulfillment`` (migrations c5a1e0d7b3f2 and d7e2f4a9c1b6) append signed counts to the
``fulfillment_count`` ledger in the same transaction as every insert, delete, and change
of status or account, whatever code writes them. ``counts`` sums the ledger, which stays
small: once it holds more than ``FOLD_ABOVE`` rows, ``fold`` replaces them by one row per
account and status. Appending (rather than updating one row per key) means concurrent
writers never wait for each other on the same counter row.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String, delete, func, insert, literal, select
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.extensions import db

#: ledger rows beyond which the board folds it before reading
FOLD_ABOVE = 2000


class FulfillmentCount(db.Model):
    """One signed count of fulfillments of an account in a status (a ledger line)."""

    __tablename__ = "fulfillment_count"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"),
                                    primary_key=True)
    house_account_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    n: Mapped[int] = mapped_column(BigInteger)


def counts() -> dict[tuple[int, str], int]:
    """(account id, status) -> fulfillments, for every pair that has any; folds a long
    ledger first."""
    length = db.session.scalar(select(func.count()).select_from(
        select(literal(1)).select_from(FulfillmentCount).limit(FOLD_ABOVE + 1).subquery()))
    if length > FOLD_ABOVE:
        fold()
    c = FulfillmentCount.__table__.c
    rows = db.session.execute(select(c.house_account_id, c.status, func.sum(c.n))
                              .group_by(c.house_account_id, c.status)
                              .having(func.sum(c.n) != 0)).all()
    return {(account, status): int(n) for account, status, n in rows}


def fold() -> None:
    """Replace the ledger's lines by their sums, one per account and status, and commit.
    On PostgreSQL one statement (its snapshot sums exactly what it deletes, while other
    writers keep appending); SQLite has one writer at a time."""
    table = FulfillmentCount.__table__
    c = table.c
    if db.session.get_bind().dialect.name == "postgresql":
        gone = delete(table).returning(c.house_account_id, c.status, c.n).cte("gone")
        db.session.execute(insert(table).from_select(
            ["house_account_id", "status", "n"],
            select(gone.c.house_account_id, gone.c.status, func.sum(gone.c.n))
            .group_by(gone.c.house_account_id, gone.c.status)
            .having(func.sum(gone.c.n) != 0)))
    else:
        last = db.session.scalar(select(func.max(c.id)))
        if last is not None:
            db.session.execute(insert(table).from_select(
                ["house_account_id", "status", "n"],
                select(c.house_account_id, c.status, func.sum(c.n)).where(c.id <= last)
                .group_by(c.house_account_id, c.status).having(func.sum(c.n) != 0)))
            db.session.execute(delete(table).where(c.id <= last))
    db.session.commit()
