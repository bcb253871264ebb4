"""password reset: single-use "forgot your password?" links e-mailed to staff and parents

Revision ID: 0007_password_reset
Revises: 0006_mail_outbox
Create Date: 2026-12-07 10:00:00

Reviewed by hand: no app imports; UtcDateTime renders as DateTime(timezone=True). One new table,
password_reset_tokens: a row per link sent (app/auth/reset.py) with the keyed HMAC of its token (never the
token), an HMAC of the password hash it was issued against (a password change voids it), its expiry and
when it was spent. Nothing existing changes; the downgrade drops the table (open links stop working).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_password_reset'
down_revision = '0006_mail_outbox'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('password_reset_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('password_fingerprint', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('spent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_password_reset_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_reset_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_password_reset_tokens_token_hash'))
    )
    op.create_index(op.f('ix_password_reset_tokens_user_id'), 'password_reset_tokens', ['user_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_password_reset_tokens_user_id'), table_name='password_reset_tokens')
    op.drop_table('password_reset_tokens')
