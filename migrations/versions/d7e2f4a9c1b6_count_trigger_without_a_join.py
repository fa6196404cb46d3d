"""the counts trigger on UPDATE sums old and new rows instead of joining them

Revision ID: d7e2f4a9c1b6
Revises: c5a1e0d7b3f2
Create Date: 2026-11-29 05:00:00

PostgreSQL only (SQLite's row triggers are unchanged). Every UPDATE of ``fulfillment``
fires the statement trigger, a dispatch claim of 500 rows included, and the old body
joined the two transition tables twice: about 4 ms a claim. Counting each old row -1 and
each new row +1 per (account, status) and keeping the non-zero sums gives the same ledger
rows without a join (a row whose status and account did not change cancels out): under
1 ms.
"""
from alembic import op

revision = 'd7e2f4a9c1b6'
down_revision = 'c5a1e0d7b3f2'
branch_labels = None
depends_on = None

SUMMED = """
    INSERT INTO fulfillment_count (house_account_id, status, n)
    SELECT house_account_id, status, sum(n) FROM (
        SELECT house_account_id, status, -1 AS n FROM old_rows
        UNION ALL
        SELECT house_account_id, status, 1 FROM new_rows) moved
    GROUP BY 1, 2 HAVING sum(n) <> 0"""
JOINED = """
    INSERT INTO fulfillment_count (house_account_id, status, n)
    SELECT house_account_id, status, sum(n) FROM (
        SELECT o.house_account_id, o.status, -1 AS n
        FROM old_rows o JOIN new_rows w ON w.id = o.id
        WHERE o.status <> w.status OR o.house_account_id <> w.house_account_id
        UNION ALL
        SELECT w.house_account_id, w.status, 1
        FROM old_rows o JOIN new_rows w ON w.id = o.id
        WHERE o.status <> w.status OR o.house_account_id <> w.house_account_id) moved
    GROUP BY 1, 2 HAVING sum(n) <> 0"""


def _replace(body: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE OR REPLACE FUNCTION fulfillment_count_update() RETURNS trigger "
                   f"LANGUAGE plpgsql AS $$ BEGIN {body}; RETURN NULL; END $$")


def upgrade():
    _replace(SUMMED)


def downgrade():
    _replace(JOINED)
