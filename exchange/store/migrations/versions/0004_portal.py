"""live stream: webhook subscriptions and deliveries; NOTIFY on PostgreSQL when a collection moves

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 15:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'webhook_subscriptions',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('org_id', sa.String(length=36), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('roles', sa.JSON(), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('salt', sa.String(length=64), nullable=False),
        sa.Column('types', sa.JSON(), nullable=False),
        sa.Column('position', sa.JSON(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], ondelete='CASCADE',
                                name=op.f('fk_webhook_subscriptions_org_id_organisations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscriptions')),
    )
    op.create_index(op.f('ix_webhook_subscriptions_org_id'), 'webhook_subscriptions', ['org_id'])
    op.create_table(
        'webhook_deliveries',
        sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
        sa.Column('subscription_id', sa.String(length=36), nullable=False),
        sa.Column('event_id', sa.Text(), nullable=False),
        sa.Column('stix_id', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.BigInteger(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('delivered_at', sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscriptions.id'], ondelete='CASCADE',
                                name=op.f('fk_webhook_deliveries_subscription_id_webhook_subscriptions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    )
    op.create_index('ix_webhook_deliveries_subscription_status_id', 'webhook_deliveries',
                    ['subscription_id', 'status', 'id'])
    op.create_index('ix_acl_grants_not_before', 'acl_grants', ['not_before'])
    if op.get_bind().dialect.name == 'postgresql':
        # Every hub process LISTENs: a commit that moves a collection wakes the streams of all replicas.
        op.execute("""
            CREATE OR REPLACE FUNCTION popart_stream_notify() RETURNS trigger AS $$
            BEGIN
                PERFORM pg_notify('popart_stream', NEW.id);
                RETURN NULL;
            END $$ LANGUAGE plpgsql""")
        op.execute("""
            CREATE TRIGGER collections_stream_notify AFTER UPDATE OF last_seq ON collections
            FOR EACH ROW WHEN (OLD.last_seq IS DISTINCT FROM NEW.last_seq)
            EXECUTE FUNCTION popart_stream_notify()""")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS collections_stream_notify ON collections")
        op.execute("DROP FUNCTION IF EXISTS popart_stream_notify()")
    op.drop_index('ix_acl_grants_not_before', table_name='acl_grants')
    op.drop_index('ix_webhook_deliveries_subscription_status_id', table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_index(op.f('ix_webhook_subscriptions_org_id'), table_name='webhook_subscriptions')
    op.drop_table('webhook_subscriptions')
