"""roster sync runs: a heartbeat, and one running run per school enforced by the database

Revision ID: 0026_sync_jobs
Revises: 0023_kundelik_sync
Create Date: 2026-12-05 23:00:00

Reviewed by hand: no app imports; UtcDateTime renders as DateTime(timezone=True).

* kundelik_sync_runs.heartbeat_at: the run's last sign of life (existing rows: their end, else their start).
* uq_kundelik_sync_runs_running_school: a unique partial index over school_id where status = 'running'. Before it
  is made, all but the newest running run of a school are marked interrupted (they could never finish anyway).

The downgrade drops both; runs marked "interrupted" become "failed" with the error "interrupted", as 0023's code
recorded them.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0026_sync_jobs'
down_revision = '0023_kundelik_sync'
branch_labels = None
depends_on = None

RUNNING = sa.text("status = 'running'")


def upgrade():
    with op.batch_alter_table('kundelik_sync_runs') as batch:
        batch.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE kundelik_sync_runs SET heartbeat_at = COALESCE(finished_at, started_at)")
    op.execute("UPDATE kundelik_sync_runs SET status = 'interrupted', error = 'interrupted', "
               "finished_at = heartbeat_at WHERE status = 'running' AND id NOT IN "
               "(SELECT MAX(id) FROM kundelik_sync_runs WHERE status = 'running' GROUP BY school_id)")
    with op.batch_alter_table('kundelik_sync_runs') as batch:
        batch.alter_column('heartbeat_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.create_index('uq_kundelik_sync_runs_running_school', ['school_id'], unique=True,
                           sqlite_where=RUNNING, postgresql_where=RUNNING)


def downgrade():
    with op.batch_alter_table('kundelik_sync_runs') as batch:
        batch.drop_index('uq_kundelik_sync_runs_running_school', sqlite_where=RUNNING, postgresql_where=RUNNING)
        batch.drop_column('heartbeat_at')
    op.execute("UPDATE kundelik_sync_runs SET status = 'failed' WHERE status = 'interrupted'")
