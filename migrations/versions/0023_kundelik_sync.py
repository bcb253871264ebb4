"""roster sync from Kundelik: classes' Kundelik ids and the sync runs with their reports

Revision ID: 0023_kundelik_sync
Revises: 0022_kundelik_oauth
Create Date: 2026-12-05 21:00:00

Reviewed by hand: no app imports; UtcDateTime renders as DateTime(timezone=True).

* school_classes.kundelik_id: the Kundelik edu group a class is, set by the sync; unique.
* kundelik_sync_runs: one row per sync of a school (progress, then a report of counts and ids, no names).

The downgrade drops both (pupils, parents and roles the sync wrote stay).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023_kundelik_sync'
down_revision = '0022_kundelik_oauth'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('school_classes') as batch:
        batch.add_column(sa.Column('kundelik_id', sa.String(length=64), nullable=True))
        batch.create_unique_constraint('uq_school_classes_kundelik_id', ['kundelik_id'])
    op.create_table('kundelik_sync_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('via', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('step', sa.String(length=16), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=32), nullable=True),
    sa.Column('report_json', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_kundelik_sync_runs_school_id_schools')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_kundelik_sync_runs_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kundelik_sync_runs')),
    sa.UniqueConstraint('uuid', name=op.f('uq_kundelik_sync_runs_uuid'))
    )
    with op.batch_alter_table('kundelik_sync_runs') as batch:
        batch.create_index(batch.f('ix_kundelik_sync_runs_school_id'), ['school_id'], unique=False)
        batch.create_index(batch.f('ix_kundelik_sync_runs_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('kundelik_sync_runs') as batch:
        batch.drop_index(batch.f('ix_kundelik_sync_runs_user_id'))
        batch.drop_index(batch.f('ix_kundelik_sync_runs_school_id'))
    op.drop_table('kundelik_sync_runs')
    with op.batch_alter_table('school_classes') as batch:
        batch.drop_constraint('uq_school_classes_kundelik_id', type_='unique')
        batch.drop_column('kundelik_id')
