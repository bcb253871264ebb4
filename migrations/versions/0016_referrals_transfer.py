"""monitoring: referrals out of a case, the inter-agency algorithm's steps on a case, case transfers

Revision ID: 0016_referrals_transfer
Revises: 0013_monitoring
Create Date: 2026-12-05 18:20:00

Reviewed by hand: no app imports; UtcDateTime renders as DateTime(timezone=True) and the school-key encrypted
columns as LargeBinary. New tables only:
- case_referrals: destination, reason and outcome encrypted; status, dates and deadline plaintext (overdue lists);
- case_steps: the algorithm step (level, key) encrypted; due and done times plaintext;
- case_transfers: sending and receiving school, status; the decline reason encrypted (sending school's key).
Each has a version column for optimistic locking. Downgrade drops the three tables (and their records).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_referrals_transfer'
down_revision = '0013_monitoring'
branch_labels = None
depends_on = None


def _common(name):
    return [
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uuid', sa.String(length=36), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f(f'fk_{name}_school_id_schools')),
        sa.ForeignKeyConstraint(['case_id'], ['monitoring_cases.id'],
                                name=op.f(f'fk_{name}_case_id_monitoring_cases')),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{name}')),
        sa.UniqueConstraint('uuid', name=op.f(f'uq_{name}_uuid')),
    ]


def _user_fk(name, column):
    return sa.ForeignKeyConstraint([column], ['users.id'], name=op.f(f'fk_{name}_{column}_users'))


def upgrade():
    op.create_table('case_referrals', *_common('case_referrals'),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('sent_on', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('outcome_on', sa.Date(), nullable=True),
    sa.Column('destination_ct', sa.LargeBinary(), nullable=False),
    sa.Column('reason_ct', sa.LargeBinary(), nullable=False),
    sa.Column('outcome_ct', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    _user_fk('case_referrals', 'created_by_id'),
    _user_fk('case_referrals', 'updated_by_id'),
    )
    with op.batch_alter_table('case_referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_referrals_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_referrals_school_id'), ['school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_referrals_deadline'), ['deadline'], unique=False)

    op.create_table('case_steps', *_common('case_steps'),
    sa.Column('data_ct', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_by_id', sa.Integer(), nullable=True),
    sa.Column('note_ct', sa.LargeBinary(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    _user_fk('case_steps', 'done_by_id'),
    )
    with op.batch_alter_table('case_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_steps_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_steps_school_id'), ['school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_steps_due_at'), ['due_at'], unique=False)

    op.create_table('case_transfers', *_common('case_transfers'),
    sa.Column('to_school_id', sa.Integer(), nullable=False),
    sa.Column('pupil_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decline_reason_ct', sa.LargeBinary(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['to_school_id'], ['schools.id'], name=op.f('fk_case_transfers_to_school_id_schools')),
    sa.ForeignKeyConstraint(['pupil_id'], ['pupils.id'], name=op.f('fk_case_transfers_pupil_id_pupils')),
    _user_fk('case_transfers', 'proposed_by_id'),
    _user_fk('case_transfers', 'decided_by_id'),
    )
    with op.batch_alter_table('case_transfers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_transfers_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_transfers_school_id'), ['school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_transfers_to_school_id'), ['to_school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_transfers_pupil_id'), ['pupil_id'], unique=False)


def downgrade():
    for table in ('case_transfers', 'case_steps', 'case_referrals'):
        op.drop_table(table)
