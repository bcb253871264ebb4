"""seminars: when the time, place or online link last changed (registrants are told at once)

Revision ID: 0027_seminar_notices
Revises: 0024_meeting_reply
Create Date: 2026-12-05 23:55:00

Reviewed by hand: no app imports; UtcDateTime renders as DateTime(timezone=True).

* seminars.rescheduled_at: when the seminar's time, place or online link last changed (None: never); the
  registrant's page says "changed on ..." when that was after they registered.

The downgrade drops the column (the dates are lost; nothing else depends on them).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0027_seminar_notices'
down_revision = '0024_meeting_reply'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('seminars') as batch:
        batch.add_column(sa.Column('rescheduled_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('seminars') as batch:
        batch.drop_column('rescheduled_at')
