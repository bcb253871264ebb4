"""sign in with Kundelik: accounts' Kundelik user and person ids; kept Kundelik tokens

Revision ID: 0022_kundelik_oauth
Revises: 0018_help
Create Date: 2026-12-05 20:00:00

Reviewed by hand: no app imports; UtcDateTime renders as DateTime(timezone=True).

* users.kundelik_user_id: the Kundelik user (login account) an account signs in as, set at its first Kundelik
  sign-in; unique.
* users.kundelik_person_id: the Kundelik person an account belongs to, set by an administrator (or copied at the
  first Kundelik sign-in); unique.
* kundelik_tokens: the latest Kundelik token of a school administrator or admin, AES-GCM encrypted (the roster
  sync runs under it).

The downgrade drops them (accounts sign in with their passwords; kept tokens are lost).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022_kundelik_oauth'
down_revision = '0018_help'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('kundelik_user_id', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('kundelik_person_id', sa.String(length=64), nullable=True))
        batch.create_unique_constraint('uq_users_kundelik_user_id', ['kundelik_user_id'])
        batch.create_unique_constraint('uq_users_kundelik_person_id', ['kundelik_person_id'])
    op.create_table('kundelik_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('access_token_ct', sa.LargeBinary(), nullable=False),
    sa.Column('refresh_token_ct', sa.LargeBinary(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('scope', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_kundelik_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kundelik_tokens')),
    sa.UniqueConstraint('user_id', name=op.f('uq_kundelik_tokens_user_id')),
    sa.UniqueConstraint('uuid', name=op.f('uq_kundelik_tokens_uuid'))
    )


def downgrade():
    op.drop_table('kundelik_tokens')
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint('uq_users_kundelik_person_id', type_='unique')
        batch.drop_constraint('uq_users_kundelik_user_id', type_='unique')
        batch.drop_column('kundelik_person_id')
        batch.drop_column('kundelik_user_id')
