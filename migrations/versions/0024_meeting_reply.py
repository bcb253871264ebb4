"""parents' meetings: the parent answers a proposed time (accepts or asks for another), optimistic locking

Revision ID: 0024_meeting_reply
Revises: 0026_sync_jobs
Create Date: 2026-12-05 23:00:00

Reviewed by hand: no app imports; UtcDateTime renders as DateTime(timezone=True), the school-key encrypted
column as LargeBinary.

* parent_meetings.parent_answered_at: when the parent last answered a proposed time;
* parent_meetings.parent_note_ct: the parent's short message asking for another time (encrypted);
* parent_meetings.version: optimistic locking (existing rows start at 1).

Statuses "accepted" and "other_time" fit the existing String(12) column. The downgrade drops the three columns
(the parents' notes are lost); rows in the new statuses should be set back to "scheduled"/"requested" first,
which the downgrade does.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024_meeting_reply'
down_revision = '0026_sync_jobs'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('parent_meetings') as batch:
        batch.add_column(sa.Column('parent_answered_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('parent_note_ct', sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    op.execute("UPDATE parent_meetings SET status = 'scheduled' WHERE status = 'accepted'")
    op.execute("UPDATE parent_meetings SET status = 'requested' WHERE status = 'other_time'")
    with op.batch_alter_table('parent_meetings') as batch:
        batch.drop_column('version')
        batch.drop_column('parent_note_ct')
        batch.drop_column('parent_answered_at')
