"""monitoring: break-the-glass reviews on case_access_grants; encrypted attachments of case notes

Revision ID: 0017_glass_attachments
Revises: 0013_monitoring
Create Date: 2026-12-05 18:00:00

Reviewed by hand: no app imports; school-key encrypted columns render as LargeBinary, UtcDateTime as
DateTime(timezone=True).
- case_access_grants gains its review (reviewed_at, reviewed_by_id, justified, review_note_ct encrypted) and a
  version column for optimistic locking (existing rows start at 1);
- case_attachments: files attached to case notes, bytes and file name encrypted under the school's key.
Downgrade drops case_attachments (its files are lost with it) and the review columns.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_glass_attachments'
down_revision = '0015_plans_followups'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('case_access_grants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reviewed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('justified', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('review_note_ct', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_case_access_grants_reviewed_by_id_users'), 'users',
                                    ['reviewed_by_id'], ['id'])
    op.create_table('case_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('note_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('filename_ct', sa.LargeBinary(), nullable=False),
    sa.Column('data_ct', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['monitoring_cases.id'], name=op.f('fk_case_attachments_case_id_monitoring_cases')),
    sa.ForeignKeyConstraint(['note_id'], ['case_notes.id'], name=op.f('fk_case_attachments_note_id_case_notes')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_case_attachments_school_id_schools')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_case_attachments_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_attachments')),
    sa.UniqueConstraint('uuid', name=op.f('uq_case_attachments_uuid'))
    )
    with op.batch_alter_table('case_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_attachments_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_attachments_note_id'), ['note_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_attachments_school_id'), ['school_id'], unique=False)


def downgrade():
    with op.batch_alter_table('case_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_attachments_school_id'))
        batch_op.drop_index(batch_op.f('ix_case_attachments_note_id'))
        batch_op.drop_index(batch_op.f('ix_case_attachments_case_id'))
    op.drop_table('case_attachments')
    with op.batch_alter_table('case_access_grants', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_case_access_grants_reviewed_by_id_users'), type_='foreignkey')
        batch_op.drop_column('version')
        batch_op.drop_column('review_note_ct')
        batch_op.drop_column('justified')
        batch_op.drop_column('reviewed_by_id')
        batch_op.drop_column('reviewed_at')
