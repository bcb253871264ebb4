"""mail outbox: e-mail queued in the transaction that causes it, sent after the commit and retried

Revision ID: 0006_mail_outbox
Revises: 0005_audit_link_hash
Create Date: 2026-11-30 10:00:00

Reviewed by hand: no app imports; UtcDateTime renders as DateTime(timezone=True). One new table,
mail_outbox: a row per message (staff recipients as a JSON list, subject and body already in the
recipients' language, never pupil details), with its delivery state (attempts, next_attempt_at,
sent_at, last_error). Senders pick due rows through the next_attempt_at index. Nothing existing
changes; the downgrade drops the table with its index (mail still unsent is lost with it).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_mail_outbox'
down_revision = '0005_audit_link_hash'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mail_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipients', sa.Text(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_outbox'))
    )
    op.create_index(op.f('ix_mail_outbox_next_attempt_at'), 'mail_outbox', ['next_attempt_at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_mail_outbox_next_attempt_at'), table_name='mail_outbox')
    op.drop_table('mail_outbox')
