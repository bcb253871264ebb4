"""monitoring: safety plans (versioned), support plans and actions, plan reviews, follow-ups and their
intervals, contacts with parents

Revision ID: 0015_plans_followups
Revises: 0013_monitoring
Create Date: 2026-12-06 18:00:00

Reviewed by hand: no app imports; UtcDateTime renders as DateTime(timezone=True) and the school-key encrypted
columns as LargeBinary. New tables only, nothing existing changes:
- safety_plans (one per case, versioned) with safety_plan_versions (every saved version, append-only);
- support_plans (one per case, versioned) with support_actions (versioned: status, outcome, due date);
- plan_reviews, followups and parent_contacts (append-only), followup_settings (a case's own interval).
Downgrade drops the tables: their records are lost with them.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_plans_followups'
down_revision = '0016_referrals_transfer'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('followup_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('pupil_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('interval_days', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['monitoring_cases.id'], name=op.f('fk_followup_settings_case_id_monitoring_cases')),
    sa.ForeignKeyConstraint(['pupil_id'], ['pupils.id'], name=op.f('fk_followup_settings_pupil_id_pupils')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_followup_settings_school_id_schools')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_followup_settings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_settings')),
    sa.UniqueConstraint('case_id', name=op.f('uq_followup_settings_case_id')),
    sa.UniqueConstraint('uuid', name=op.f('uq_followup_settings_uuid'))
    )
    with op.batch_alter_table('followup_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followup_settings_pupil_id'), ['pupil_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_followup_settings_school_id'), ['school_id'], unique=False)

    op.create_table('followups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('pupil_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('done_on', sa.Date(), nullable=False),
    sa.Column('next_on', sa.Date(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('details_ct', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_followups_actor_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['monitoring_cases.id'], name=op.f('fk_followups_case_id_monitoring_cases')),
    sa.ForeignKeyConstraint(['pupil_id'], ['pupils.id'], name=op.f('fk_followups_pupil_id_pupils')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_followups_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followups')),
    sa.UniqueConstraint('uuid', name=op.f('uq_followups_uuid'))
    )
    with op.batch_alter_table('followups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followups_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_followups_pupil_id'), ['pupil_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_followups_school_id'), ['school_id'], unique=False)

    op.create_table('parent_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('pupil_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('contacted_on', sa.Date(), nullable=False),
    sa.Column('details_ct', sa.LargeBinary(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_parent_contacts_actor_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['monitoring_cases.id'], name=op.f('fk_parent_contacts_case_id_monitoring_cases')),
    sa.ForeignKeyConstraint(['pupil_id'], ['pupils.id'], name=op.f('fk_parent_contacts_pupil_id_pupils')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_parent_contacts_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parent_contacts')),
    sa.UniqueConstraint('uuid', name=op.f('uq_parent_contacts_uuid'))
    )
    with op.batch_alter_table('parent_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parent_contacts_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_parent_contacts_pupil_id'), ['pupil_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_parent_contacts_school_id'), ['school_id'], unique=False)

    op.create_table('plan_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('pupil_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('plan', sa.String(length=8), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('next_review_on', sa.Date(), nullable=True),
    sa.Column('note_ct', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_plan_reviews_actor_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['monitoring_cases.id'], name=op.f('fk_plan_reviews_case_id_monitoring_cases')),
    sa.ForeignKeyConstraint(['pupil_id'], ['pupils.id'], name=op.f('fk_plan_reviews_pupil_id_pupils')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_plan_reviews_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_reviews')),
    sa.UniqueConstraint('uuid', name=op.f('uq_plan_reviews_uuid'))
    )
    with op.batch_alter_table('plan_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_reviews_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_reviews_pupil_id'), ['pupil_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_reviews_school_id'), ['school_id'], unique=False)

    op.create_table('safety_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('pupil_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('content_ct', sa.LargeBinary(), nullable=False),
    sa.Column('review_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['monitoring_cases.id'], name=op.f('fk_safety_plans_case_id_monitoring_cases')),
    sa.ForeignKeyConstraint(['pupil_id'], ['pupils.id'], name=op.f('fk_safety_plans_pupil_id_pupils')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_safety_plans_school_id_schools')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_safety_plans_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_plans')),
    sa.UniqueConstraint('case_id', name=op.f('uq_safety_plans_case_id')),
    sa.UniqueConstraint('uuid', name=op.f('uq_safety_plans_uuid'))
    )
    with op.batch_alter_table('safety_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_safety_plans_pupil_id'), ['pupil_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_safety_plans_school_id'), ['school_id'], unique=False)

    op.create_table('support_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('pupil_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('review_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['monitoring_cases.id'], name=op.f('fk_support_plans_case_id_monitoring_cases')),
    sa.ForeignKeyConstraint(['pupil_id'], ['pupils.id'], name=op.f('fk_support_plans_pupil_id_pupils')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_support_plans_school_id_schools')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_support_plans_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_plans')),
    sa.UniqueConstraint('case_id', name=op.f('uq_support_plans_case_id')),
    sa.UniqueConstraint('uuid', name=op.f('uq_support_plans_uuid'))
    )
    with op.batch_alter_table('support_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_plans_pupil_id'), ['pupil_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_plans_school_id'), ['school_id'], unique=False)

    op.create_table('safety_plan_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('saved_by_id', sa.Integer(), nullable=True),
    sa.Column('review_on', sa.Date(), nullable=True),
    sa.Column('content_ct', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['safety_plans.id'], name=op.f('fk_safety_plan_versions_plan_id_safety_plans')),
    sa.ForeignKeyConstraint(['saved_by_id'], ['users.id'], name=op.f('fk_safety_plan_versions_saved_by_id_users')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_safety_plan_versions_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_plan_versions')),
    sa.UniqueConstraint('uuid', name=op.f('uq_safety_plan_versions_uuid'))
    )
    with op.batch_alter_table('safety_plan_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_safety_plan_versions_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_safety_plan_versions_school_id'), ['school_id'], unique=False)

    op.create_table('support_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('pupil_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('details_ct', sa.LargeBinary(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['support_plans.id'], name=op.f('fk_support_actions_plan_id_support_plans')),
    sa.ForeignKeyConstraint(['pupil_id'], ['pupils.id'], name=op.f('fk_support_actions_pupil_id_pupils')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_support_actions_school_id_schools')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_support_actions_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_actions')),
    sa.UniqueConstraint('uuid', name=op.f('uq_support_actions_uuid'))
    )
    with op.batch_alter_table('support_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_actions_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_actions_pupil_id'), ['pupil_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_actions_school_id'), ['school_id'], unique=False)


def downgrade():
    with op.batch_alter_table('support_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_actions_school_id'))
        batch_op.drop_index(batch_op.f('ix_support_actions_pupil_id'))
        batch_op.drop_index(batch_op.f('ix_support_actions_plan_id'))

    op.drop_table('support_actions')
    with op.batch_alter_table('safety_plan_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_safety_plan_versions_school_id'))
        batch_op.drop_index(batch_op.f('ix_safety_plan_versions_plan_id'))

    op.drop_table('safety_plan_versions')
    with op.batch_alter_table('support_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_plans_school_id'))
        batch_op.drop_index(batch_op.f('ix_support_plans_pupil_id'))

    op.drop_table('support_plans')
    with op.batch_alter_table('safety_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_safety_plans_school_id'))
        batch_op.drop_index(batch_op.f('ix_safety_plans_pupil_id'))

    op.drop_table('safety_plans')
    with op.batch_alter_table('plan_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_reviews_school_id'))
        batch_op.drop_index(batch_op.f('ix_plan_reviews_pupil_id'))
        batch_op.drop_index(batch_op.f('ix_plan_reviews_case_id'))

    op.drop_table('plan_reviews')
    with op.batch_alter_table('parent_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parent_contacts_school_id'))
        batch_op.drop_index(batch_op.f('ix_parent_contacts_pupil_id'))
        batch_op.drop_index(batch_op.f('ix_parent_contacts_case_id'))

    op.drop_table('parent_contacts')
    with op.batch_alter_table('followups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followups_school_id'))
        batch_op.drop_index(batch_op.f('ix_followups_pupil_id'))
        batch_op.drop_index(batch_op.f('ix_followups_case_id'))

    op.drop_table('followups')
    with op.batch_alter_table('followup_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followup_settings_school_id'))
        batch_op.drop_index(batch_op.f('ix_followup_settings_pupil_id'))

    op.drop_table('followup_settings')
