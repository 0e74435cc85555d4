"""identity: signing keys, revoked tokens, people, passkeys, invitations, sessions, challenges, events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 14:47:12.423305
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('identity_challenges',
    sa.Column('challenge_hash', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('invitation_id', sa.String(length=36), nullable=True),
    sa.Column('person_id', sa.String(length=36), nullable=True),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('challenge_hash', name=op.f('pk_identity_challenges'))
    )
    with op.batch_alter_table('identity_challenges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_challenges_expires_at'), ['expires_at'], unique=False)

    op.create_table('identity_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('org_id', sa.String(length=36), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=True),
    sa.Column('subject', sa.String(length=200), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_events'))
    )
    with op.batch_alter_table('identity_events', schema=None) as batch_op:
        batch_op.create_index('ix_identity_events_kind_at', ['kind', 'at'], unique=False)

    op.create_table('identity_revoked_tokens',
    sa.Column('jti', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.Column('revoked_at', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('jti', name=op.f('pk_identity_revoked_tokens'))
    )
    with op.batch_alter_table('identity_revoked_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_revoked_tokens_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_revoked_tokens_revoked_at'), ['revoked_at'], unique=False)

    op.create_table('identity_signing_keys',
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('algorithm', sa.String(length=10), nullable=False),
    sa.Column('private_pem', sa.Text(), nullable=False),
    sa.Column('public_jwk', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('retired_at', sa.BigInteger(), nullable=True),
    sa.Column('expires_at', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('kid', name=op.f('pk_identity_signing_keys'))
    )
    op.create_table('identity_invitations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.Column('username', sa.String(length=200), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.Column('used_at', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_identity_invitations_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_identity_invitations_token_hash'))
    )
    with op.batch_alter_table('identity_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_invitations_org_id'), ['org_id'], unique=False)

    op.create_table('identity_people',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('org_id', sa.String(length=36), nullable=False),
    sa.Column('username', sa.String(length=200), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('user_handle', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_identity_people_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_people')),
    sa.UniqueConstraint('user_handle', name=op.f('uq_identity_people_user_handle')),
    sa.UniqueConstraint('username', name=op.f('uq_identity_people_username'))
    )
    with op.batch_alter_table('identity_people', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_people_org_id'), ['org_id'], unique=False)

    op.create_table('identity_passkeys',
    sa.Column('credential_id', sa.String(length=700), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('public_key', sa.Text(), nullable=False),
    sa.Column('sign_count', sa.BigInteger(), nullable=False),
    sa.Column('transports', sa.JSON(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('last_used_at', sa.BigInteger(), nullable=True),
    sa.Column('revoked_at', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['identity_people.id'], name=op.f('fk_identity_passkeys_person_id_identity_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('credential_id', name=op.f('pk_identity_passkeys'))
    )
    with op.batch_alter_table('identity_passkeys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_passkeys_person_id'), ['person_id'], unique=False)

    op.create_table('identity_sessions',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('last_seen_at', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.Column('revoked_at', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['identity_people.id'], name=op.f('fk_identity_sessions_person_id_identity_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_identity_sessions'))
    )
    with op.batch_alter_table('identity_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_sessions_person_id'), ['person_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('identity_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_sessions_person_id'))

    op.drop_table('identity_sessions')
    with op.batch_alter_table('identity_passkeys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_passkeys_person_id'))

    op.drop_table('identity_passkeys')
    with op.batch_alter_table('identity_people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_people_org_id'))

    op.drop_table('identity_people')
    with op.batch_alter_table('identity_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_invitations_org_id'))

    op.drop_table('identity_invitations')
    op.drop_table('identity_signing_keys')
    with op.batch_alter_table('identity_revoked_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_revoked_tokens_revoked_at'))
        batch_op.drop_index(batch_op.f('ix_identity_revoked_tokens_expires_at'))

    op.drop_table('identity_revoked_tokens')
    with op.batch_alter_table('identity_events', schema=None) as batch_op:
        batch_op.drop_index('ix_identity_events_kind_at')

    op.drop_table('identity_events')
    with op.batch_alter_table('identity_challenges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_challenges_expires_at'))

    op.drop_table('identity_challenges')
