"""parent portal: parents' meeting requests, summaries for parents, and how a consent was withdrawn

Revision ID: 0020_parent_portal
Revises: 0019_guidance
Create Date: 2026-12-05 20:00:00

Reviewed by hand: no app imports; UtcDateTime renders as DateTime(timezone=True), the school-key encrypted
columns as LargeBinary.
- parent_meetings: a parent's request for a meeting with the school psychologist (times and message encrypted);
- parent_summaries: a psychologist's summary for a pupil's parents, seen by them only while released (encrypted);
- consents.withdrawn_method: "online" (by the parent) or "paper" (recorded by staff); empty for older rows.
Downgrade drops the two tables (their rows are lost) and the column.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_parent_portal'
down_revision = '0019_guidance'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('parent_meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('pupil_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('meeting_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('request_ct', sa.LargeBinary(), nullable=False),
    sa.Column('reply_ct', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_parent_meetings_answered_by_id_users')),
    sa.ForeignKeyConstraint(['parent_id'], ['users.id'], name=op.f('fk_parent_meetings_parent_id_users')),
    sa.ForeignKeyConstraint(['pupil_id'], ['pupils.id'], name=op.f('fk_parent_meetings_pupil_id_pupils')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_parent_meetings_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parent_meetings')),
    sa.UniqueConstraint('uuid', name=op.f('uq_parent_meetings_uuid'))
    )
    for column in ('created_at', 'parent_id', 'pupil_id', 'school_id', 'status'):
        op.create_index(op.f(f'ix_parent_meetings_{column}'), 'parent_meetings', [column], unique=False)
    op.create_table('parent_summaries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('pupil_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('released_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.Column('body_ct', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_parent_summaries_author_id_users')),
    sa.ForeignKeyConstraint(['pupil_id'], ['pupils.id'], name=op.f('fk_parent_summaries_pupil_id_pupils')),
    sa.ForeignKeyConstraint(['released_by_id'], ['users.id'], name=op.f('fk_parent_summaries_released_by_id_users')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_parent_summaries_school_id_schools')),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['users.id'],
                            name=op.f('fk_parent_summaries_withdrawn_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parent_summaries')),
    sa.UniqueConstraint('uuid', name=op.f('uq_parent_summaries_uuid'))
    )
    op.create_index(op.f('ix_parent_summaries_pupil_id'), 'parent_summaries', ['pupil_id'], unique=False)
    op.create_index(op.f('ix_parent_summaries_school_id'), 'parent_summaries', ['school_id'], unique=False)
    op.add_column('consents', sa.Column('withdrawn_method', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('consents') as batch:
        batch.drop_column('withdrawn_method')
    op.drop_index(op.f('ix_parent_summaries_school_id'), table_name='parent_summaries')
    op.drop_index(op.f('ix_parent_summaries_pupil_id'), table_name='parent_summaries')
    op.drop_table('parent_summaries')
    for column in ('status', 'school_id', 'pupil_id', 'parent_id', 'created_at'):
        op.drop_index(op.f(f'ix_parent_meetings_{column}'), table_name='parent_meetings')
    op.drop_table('parent_meetings')
