"""fulfillment counts per account and status, kept by triggers, for the board

Revision ID: c5a1e0d7b3f2
Revises: 5ec0a11d7a3f
Create Date: 2026-11-29 02:00:00

The board's counts per status × account come from ``fulfillment_count``, a ledger of
signed counts that triggers on ``fulfillment`` append to in the same transaction as every
insert, delete, and change of status or account (whoever writes it: the status rules,
order entry, imports, a bulk COPY). ``dashboard.services.status_counts`` sums it and folds
it back to one row per key now and then. PostgreSQL: statement-level triggers over transition
tables (one aggregated insert per statement); SQLite: row-level triggers.
"""
import sqlalchemy as sa
from alembic import op

revision = 'c5a1e0d7b3f2'
down_revision = '5ec0a11d7a3f'
branch_labels = None
depends_on = None

PG_FUNCTIONS = {
    "insert": """
        INSERT INTO fulfillment_count (house_account_id, status, n)
        SELECT house_account_id, status, count(*) FROM new_rows GROUP BY 1, 2""",
    "delete": """
        INSERT INTO fulfillment_count (house_account_id, status, n)
        SELECT house_account_id, status, -count(*) FROM old_rows GROUP BY 1, 2""",
    "update": """
        INSERT INTO fulfillment_count (house_account_id, status, n)
        SELECT house_account_id, status, sum(n) FROM (
            SELECT o.house_account_id, o.status, -1 AS n
            FROM old_rows o JOIN new_rows w ON w.id = o.id
            WHERE o.status <> w.status OR o.house_account_id <> w.house_account_id
            UNION ALL
            SELECT w.house_account_id, w.status, 1
            FROM old_rows o JOIN new_rows w ON w.id = o.id
            WHERE o.status <> w.status OR o.house_account_id <> w.house_account_id) moved
        GROUP BY 1, 2 HAVING sum(n) <> 0""",
}
PG_REFERENCING = {"insert": "NEW TABLE AS new_rows", "delete": "OLD TABLE AS old_rows",
                  "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows"}
SQLITE_TRIGGERS = {
    "insert": """AFTER INSERT ON fulfillment BEGIN
        INSERT INTO fulfillment_count (house_account_id, status, n)
        VALUES (NEW.house_account_id, NEW.status, 1); END""",
    "delete": """AFTER DELETE ON fulfillment BEGIN
        INSERT INTO fulfillment_count (house_account_id, status, n)
        VALUES (OLD.house_account_id, OLD.status, -1); END""",
    "update": """AFTER UPDATE OF status, house_account_id ON fulfillment
        WHEN OLD.status IS NOT NEW.status OR OLD.house_account_id IS NOT NEW.house_account_id
        BEGIN
        INSERT INTO fulfillment_count (house_account_id, status, n)
        VALUES (OLD.house_account_id, OLD.status, -1), (NEW.house_account_id, NEW.status, 1);
        END""",
}


def upgrade():
    op.create_table(
        'fulfillment_count',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  primary_key=True, autoincrement=True),
        sa.Column('house_account_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
    )
    op.execute("INSERT INTO fulfillment_count (house_account_id, status, n) "
               "SELECT house_account_id, status, count(*) FROM fulfillment GROUP BY 1, 2")
    if op.get_bind().dialect.name == "postgresql":
        for event, body in PG_FUNCTIONS.items():
            op.execute(f"CREATE FUNCTION fulfillment_count_{event}() RETURNS trigger "
                       f"LANGUAGE plpgsql AS $$ BEGIN {body}; RETURN NULL; END $$")
            op.execute(f"CREATE TRIGGER fulfillment_count_{event} AFTER {event.upper()} ON "
                       f"fulfillment REFERENCING {PG_REFERENCING[event]} FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION fulfillment_count_{event}()")
    else:
        for event, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER fulfillment_count_{event} {body}")


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for event in PG_FUNCTIONS:
        op.execute(f"DROP TRIGGER IF EXISTS fulfillment_count_{event}"
                   + (" ON fulfillment" if postgresql else ""))
        if postgresql:
            op.execute(f"DROP FUNCTION IF EXISTS fulfillment_count_{event}()")
    op.drop_table('fulfillment_count')
