"""session tokens, the audit trail, and webhook events deduplicated per account

Revision ID: 5ec0a11d7a3f
Revises: be0e44ee1e4b
Create Date: 2026-11-29 01:40:00

"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = '5ec0a11d7a3f'
down_revision = 'be0e44ee1e4b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))
    user = sa.table('user', sa.column('id', sa.Integer), sa.column('session_token', sa.String))
    conn = op.get_bind()
    for (user_id,) in conn.execute(sa.select(user.c.id)).all():
        conn.execute(user.update().where(user.c.id == user_id)
                     .values(session_token=secrets.token_urlsafe(32)))
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=64),
                              nullable=False)

    with op.batch_alter_table('webhook_event', schema=None) as batch_op:
        batch_op.drop_constraint('uq_webhook_event_source', type_='unique')
        batch_op.create_unique_constraint('uq_webhook_event_account_event',
                                          ['source', 'house_account_id', 'event_id'])

    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=20), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_subject', ['subject', 'created_at', 'id'],
                              unique=False)
        batch_op.create_index('ix_audit_event_created', ['created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_actor'), ['actor'], unique=False)


def downgrade():
    op.drop_table('audit_event')
    with op.batch_alter_table('webhook_event', schema=None) as batch_op:
        batch_op.drop_constraint('uq_webhook_event_account_event', type_='unique')
        batch_op.create_unique_constraint('uq_webhook_event_source', ['source', 'event_id'])
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_token')
