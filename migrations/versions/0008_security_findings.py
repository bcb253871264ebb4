"""security findings: throttles counted per purpose, keyed failure keys, encrypted outbox bodies

Revision ID: 0008_security_findings
Revises: 0007_password_reset
Create Date: 2026-12-05 12:00:00

Reviewed by hand: no app imports.
- login_failures gains ``purpose`` (password, mfa, code, reset), so pupils' wrong codes, second-factor failures and
  reset requests no longer count towards the staff sign-in throttle. Existing rows are deleted: they only matter
  for 15 minutes (an hour for reset requests), and their keys were unsalted SHA-256 hashes of what was typed,
  which the new keyed HMAC keys would not match anyway.
- mail_outbox gains ``uuid`` (binds the ciphertext to its row) and ``body_ct`` (the AES-GCM ciphertext of the
  body, written by the application, which holds the keys); ``body`` becomes nullable and holds only bodies queued
  before this migration, until they are sent. Bodies of messages already sent are cleared here.
Downgrade: drops the new columns; messages queued with an encrypted body cannot be decrypted without the
application and are deleted (unsent mail is lost); failure rows are kept with purpose dropped.
"""
import uuid

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_security_findings'
down_revision = '0007_password_reset'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("DELETE FROM login_failures")
    with op.batch_alter_table('login_failures') as batch:
        batch.add_column(sa.Column('purpose', sa.String(length=8), server_default='password', nullable=False))

    with op.batch_alter_table('mail_outbox') as batch:
        batch.add_column(sa.Column('uuid', sa.String(length=36), nullable=True))
        batch.add_column(sa.Column('body_ct', sa.LargeBinary(), nullable=True))
        batch.alter_column('body', existing_type=sa.Text(), nullable=True)
    bind = op.get_bind()
    outbox = sa.table('mail_outbox', sa.column('id', sa.Integer()), sa.column('uuid', sa.String(36)),
                      sa.column('body', sa.Text()), sa.column('sent_at', sa.DateTime(timezone=True)))
    for (row_id,) in bind.execute(sa.select(outbox.c.id)).all():
        bind.execute(outbox.update().where(outbox.c.id == row_id).values(uuid=str(uuid.uuid4())))
    bind.execute(outbox.update().where(outbox.c.sent_at.is_not(None)).values(body=None))
    with op.batch_alter_table('mail_outbox') as batch:
        batch.alter_column('uuid', existing_type=sa.String(length=36), nullable=False)
        batch.create_unique_constraint(batch.f('uq_mail_outbox_uuid'), ['uuid'])


def downgrade():
    op.execute("DELETE FROM mail_outbox WHERE body IS NULL AND sent_at IS NULL")
    op.execute("UPDATE mail_outbox SET body = '' WHERE body IS NULL")
    with op.batch_alter_table('mail_outbox') as batch:
        batch.drop_constraint(batch.f('uq_mail_outbox_uuid'), type_='unique')
        batch.alter_column('body', existing_type=sa.Text(), nullable=False)
        batch.drop_column('body_ct')
        batch.drop_column('uuid')
    with op.batch_alter_table('login_failures') as batch:
        batch.drop_column('purpose')
