"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 14:41:50.664249
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('api_roots',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('max_content_length', sa.BigInteger(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_roots')),
    sa.UniqueConstraint('name', name=op.f('uq_api_roots_name'))
    )
    op.create_table('audiences',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audiences')),
    sa.UniqueConstraint('key', name=op.f('uq_audiences_key'))
    )
    op.create_table('deletions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('collection_id', sa.String(length=36), nullable=False),
    sa.Column('stix_id', sa.String(length=300), nullable=False),
    sa.Column('versions', sa.JSON(), nullable=False),
    sa.Column('deleted_at', sa.BigInteger(), nullable=False),
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deletions'))
    )
    with op.batch_alter_table('deletions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deletions_collection_id'), ['collection_id'], unique=False)

    op.create_table('organisations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('area', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('name', name=op.f('uq_organisations_name'))
    )
    op.create_table('api_clients',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.Column('client_id', sa.String(length=120), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('secret_hash', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_api_clients_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_clients')),
    sa.UniqueConstraint('client_id', name=op.f('uq_api_clients_client_id'))
    )
    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_clients_org_id'), ['org_id'], unique=False)

    op.create_table('audience_members',
    sa.Column('audience_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.Column('role', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['audience_id'], ['audiences.id'], name=op.f('fk_audience_members_audience_id_audiences'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('audience_id', 'org_id', 'role', name=op.f('pk_audience_members'))
    )
    with op.batch_alter_table('audience_members', schema=None) as batch_op:
        batch_op.create_index('ix_audience_members_org_role', ['org_id', 'role'], unique=False)

    op.create_table('collections',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('api_root_id', sa.String(length=36), nullable=False),
    sa.Column('alias', sa.String(length=100), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('media_types', sa.JSON(), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.Column('last_added', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['api_root_id'], ['api_roots.id'], name=op.f('fk_collections_api_root_id_api_roots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collections')),
    sa.UniqueConstraint('api_root_id', 'alias', name=op.f('uq_collections_api_root_id_alias'))
    )
    with op.batch_alter_table('collections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collections_api_root_id'), ['api_root_id'], unique=False)

    op.create_table('statuses',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('api_root_id', sa.String(length=36), nullable=False),
    sa.Column('collection_id', sa.String(length=36), nullable=False),
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('request_timestamp', sa.BigInteger(), nullable=False),
    sa.Column('total_count', sa.Integer(), nullable=False),
    sa.Column('success_count', sa.Integer(), nullable=False),
    sa.Column('failure_count', sa.Integer(), nullable=False),
    sa.Column('pending_count', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('envelope', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['api_root_id'], ['api_roots.id'], name=op.f('fk_statuses_api_root_id_api_roots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statuses'))
    )
    with op.batch_alter_table('statuses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statuses_api_root_id'), ['api_root_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_statuses_expires_at'), ['expires_at'], unique=False)

    op.create_table('collection_access',
    sa.Column('collection_id', sa.String(length=36), nullable=False),
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.Column('can_read', sa.Boolean(), nullable=False),
    sa.Column('can_write', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['collection_id'], ['collections.id'], name=op.f('fk_collection_access_collection_id_collections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('collection_id', 'org_id', name=op.f('pk_collection_access'))
    )
    op.create_table('stix_objects',
    sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('collection_id', sa.String(length=36), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('stix_id', sa.String(length=300), nullable=False),
    sa.Column('type', sa.String(length=250), nullable=False),
    sa.Column('spec_version', sa.String(length=8), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('date_added', sa.BigInteger(), nullable=False),
    sa.Column('is_first', sa.Boolean(), nullable=False),
    sa.Column('is_last', sa.Boolean(), nullable=False),
    sa.Column('is_spec_latest', sa.Boolean(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('producer_org_id', sa.String(length=36), nullable=True),
    sa.Column('status_id', sa.String(length=36), nullable=True),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['collection_id'], ['collections.id'], name=op.f('fk_stix_objects_collection_id_collections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_stix_objects')),
    sa.UniqueConstraint('collection_id', 'seq', name=op.f('uq_stix_objects_collection_id_seq')),
    sa.UniqueConstraint('collection_id', 'stix_id', 'version', name=op.f('uq_stix_objects_collection_id_stix_id_version'))
    )
    with op.batch_alter_table('stix_objects', schema=None) as batch_op:
        batch_op.create_index('ix_stix_objects_collection_type_seq', ['collection_id', 'type', 'seq'], unique=False)

    op.create_table('acl_grants',
    sa.Column('object_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('audience_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('not_before', sa.BigInteger(), nullable=True),
    sa.Column('not_after', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['audience_id'], ['audiences.id'], name=op.f('fk_acl_grants_audience_id_audiences')),
    sa.ForeignKeyConstraint(['object_pk'], ['stix_objects.pk'], name=op.f('fk_acl_grants_object_pk_stix_objects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('object_pk', 'audience_id', name=op.f('pk_acl_grants'))
    )
    


def downgrade() -> None:
    
    op.drop_table('acl_grants')
    with op.batch_alter_table('stix_objects', schema=None) as batch_op:
        batch_op.drop_index('ix_stix_objects_collection_type_seq')

    op.drop_table('stix_objects')
    op.drop_table('collection_access')
    with op.batch_alter_table('statuses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statuses_expires_at'))
        batch_op.drop_index(batch_op.f('ix_statuses_api_root_id'))

    op.drop_table('statuses')
    with op.batch_alter_table('collections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collections_api_root_id'))

    op.drop_table('collections')
    with op.batch_alter_table('audience_members', schema=None) as batch_op:
        batch_op.drop_index('ix_audience_members_org_role')

    op.drop_table('audience_members')
    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_clients_org_id'))

    op.drop_table('api_clients')
    op.drop_table('organisations')
    with op.batch_alter_table('deletions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deletions_collection_id'))

    op.drop_table('deletions')
    op.drop_table('audiences')
    op.drop_table('api_roots')
    
