"""screening workflow: parental consents, campaigns, one-time-code sessions, results, alerts

Revision ID: 0002_screening_workflow
Revises: 0001_foundation
Create Date: 2026-11-27 01:10:00

Reviewed by hand: no app imports; UtcDateTime renders as DateTime(timezone=True); answers, scores,
drafts and resolution notes are LargeBinary AES-GCM ciphertexts (encrypted by the application).
The downgrade drops the tables in reverse dependency order.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002_screening_workflow'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('pupil_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=32), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('given_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('given_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['given_by_id'], ['users.id'], name=op.f('fk_consents_given_by_id_users')),
    sa.ForeignKeyConstraint(['pupil_id'], ['pupils.id'], name=op.f('fk_consents_pupil_id_pupils')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_consents_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_consents_school_id_schools')),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['users.id'], name=op.f('fk_consents_withdrawn_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents')),
    sa.UniqueConstraint('uuid', name=op.f('uq_consents_uuid'))
    )
    op.create_index(op.f('ix_consents_pupil_id'), 'consents', ['pupil_id'], unique=False)
    op.create_index(op.f('ix_consents_school_id'), 'consents', ['school_id'], unique=False)
    op.create_table('screening_campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('instrument_refs', sa.JSON(), nullable=False),
    sa.Column('opens_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_screening_campaigns_created_by_id_users')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_screening_campaigns_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_screening_campaigns')),
    sa.UniqueConstraint('uuid', name=op.f('uq_screening_campaigns_uuid'))
    )
    op.create_index(op.f('ix_screening_campaigns_school_id'), 'screening_campaigns', ['school_id'], unique=False)
    op.create_table('campaign_classes',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('class_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['screening_campaigns.id'], name=op.f('fk_campaign_classes_campaign_id_screening_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['class_id'], ['school_classes.id'], name=op.f('fk_campaign_classes_class_id_school_classes')),
    sa.PrimaryKeyConstraint('campaign_id', 'class_id', name=op.f('pk_campaign_classes'))
    )
    op.create_table('screening_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('pupil_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('instrument_ref', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=True),
    sa.Column('code_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('code_expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('draft_ct', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['screening_campaigns.id'], name=op.f('fk_screening_sessions_campaign_id_screening_campaigns')),
    sa.ForeignKeyConstraint(['pupil_id'], ['pupils.id'], name=op.f('fk_screening_sessions_pupil_id_pupils')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_screening_sessions_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_screening_sessions')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_screening_sessions_code_hash')),
    sa.UniqueConstraint('uuid', name=op.f('uq_screening_sessions_uuid'))
    )
    op.create_index(op.f('ix_screening_sessions_campaign_id'), 'screening_sessions', ['campaign_id'], unique=False)
    op.create_index(op.f('ix_screening_sessions_pupil_id'), 'screening_sessions', ['pupil_id'], unique=False)
    op.create_index(op.f('ix_screening_sessions_school_id'), 'screening_sessions', ['school_id'], unique=False)
    op.create_table('screening_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('pupil_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('class_id', sa.Integer(), nullable=True),
    sa.Column('instrument_id', sa.String(length=40), nullable=False),
    sa.Column('instrument_version', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('text_version', sa.String(length=32), nullable=False),
    sa.Column('text_status', sa.String(length=32), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('age', sa.SmallInteger(), nullable=True),
    sa.Column('answers_ct', sa.LargeBinary(), nullable=False),
    sa.Column('scores_ct', sa.LargeBinary(), nullable=False),
    sa.Column('flag_level', sa.SmallInteger(), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['screening_campaigns.id'], name=op.f('fk_screening_results_campaign_id_screening_campaigns')),
    sa.ForeignKeyConstraint(['class_id'], ['school_classes.id'], name=op.f('fk_screening_results_class_id_school_classes')),
    sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], name=op.f('fk_screening_results_entered_by_id_users')),
    sa.ForeignKeyConstraint(['pupil_id'], ['pupils.id'], name=op.f('fk_screening_results_pupil_id_pupils')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_screening_results_school_id_schools')),
    sa.ForeignKeyConstraint(['session_id'], ['screening_sessions.id'], name=op.f('fk_screening_results_session_id_screening_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_screening_results')),
    sa.UniqueConstraint('session_id', name=op.f('uq_screening_results_session_id')),
    sa.UniqueConstraint('uuid', name=op.f('uq_screening_results_uuid'))
    )
    op.create_index(op.f('ix_screening_results_campaign_id'), 'screening_results', ['campaign_id'], unique=False)
    op.create_index(op.f('ix_screening_results_class_id'), 'screening_results', ['class_id'], unique=False)
    op.create_index(op.f('ix_screening_results_completed_at'), 'screening_results', ['completed_at'], unique=False)
    op.create_index(op.f('ix_screening_results_pupil_id'), 'screening_results', ['pupil_id'], unique=False)
    op.create_index(op.f('ix_screening_results_school_id'), 'screening_results', ['school_id'], unique=False)
    op.create_table('screening_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('result_id', sa.Integer(), nullable=True),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('pupil_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('instrument_ref', sa.String(length=64), nullable=False),
    sa.Column('rule_id', sa.String(length=64), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolution_note_ct', sa.LargeBinary(), nullable=True),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['users.id'], name=op.f('fk_screening_alerts_acknowledged_by_id_users')),
    sa.ForeignKeyConstraint(['pupil_id'], ['pupils.id'], name=op.f('fk_screening_alerts_pupil_id_pupils')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_screening_alerts_resolved_by_id_users')),
    sa.ForeignKeyConstraint(['result_id'], ['screening_results.id'], name=op.f('fk_screening_alerts_result_id_screening_results')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_screening_alerts_school_id_schools')),
    sa.ForeignKeyConstraint(['session_id'], ['screening_sessions.id'], name=op.f('fk_screening_alerts_session_id_screening_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_screening_alerts')),
    sa.UniqueConstraint('uuid', name=op.f('uq_screening_alerts_uuid'))
    )
    op.create_index(op.f('ix_screening_alerts_due_at'), 'screening_alerts', ['due_at'], unique=False)
    op.create_index(op.f('ix_screening_alerts_pupil_id'), 'screening_alerts', ['pupil_id'], unique=False)
    op.create_index(op.f('ix_screening_alerts_result_id'), 'screening_alerts', ['result_id'], unique=False)
    op.create_index(op.f('ix_screening_alerts_school_id'), 'screening_alerts', ['school_id'], unique=False)
    op.create_index(op.f('ix_screening_alerts_session_id'), 'screening_alerts', ['session_id'], unique=False)
    op.create_index(op.f('ix_screening_alerts_severity'), 'screening_alerts', ['severity'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_screening_alerts_severity'), table_name='screening_alerts')
    op.drop_index(op.f('ix_screening_alerts_session_id'), table_name='screening_alerts')
    op.drop_index(op.f('ix_screening_alerts_school_id'), table_name='screening_alerts')
    op.drop_index(op.f('ix_screening_alerts_result_id'), table_name='screening_alerts')
    op.drop_index(op.f('ix_screening_alerts_pupil_id'), table_name='screening_alerts')
    op.drop_index(op.f('ix_screening_alerts_due_at'), table_name='screening_alerts')
    op.drop_table('screening_alerts')
    op.drop_index(op.f('ix_screening_results_school_id'), table_name='screening_results')
    op.drop_index(op.f('ix_screening_results_pupil_id'), table_name='screening_results')
    op.drop_index(op.f('ix_screening_results_completed_at'), table_name='screening_results')
    op.drop_index(op.f('ix_screening_results_class_id'), table_name='screening_results')
    op.drop_index(op.f('ix_screening_results_campaign_id'), table_name='screening_results')
    op.drop_table('screening_results')
    op.drop_index(op.f('ix_screening_sessions_school_id'), table_name='screening_sessions')
    op.drop_index(op.f('ix_screening_sessions_pupil_id'), table_name='screening_sessions')
    op.drop_index(op.f('ix_screening_sessions_campaign_id'), table_name='screening_sessions')
    op.drop_table('screening_sessions')
    op.drop_table('campaign_classes')
    op.drop_index(op.f('ix_screening_campaigns_school_id'), table_name='screening_campaigns')
    op.drop_table('screening_campaigns')
    op.drop_index(op.f('ix_consents_school_id'), table_name='consents')
    op.drop_index(op.f('ix_consents_pupil_id'), table_name='consents')
    op.drop_table('consents')
