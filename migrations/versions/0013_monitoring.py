"""monitoring: per-school data keys, registries, case files (team, events, notes, access grants)

Revision ID: 0013_monitoring
Revises: 0010_instruments_1_1
Create Date: 2026-12-06 10:00:00

Reviewed by hand: no app imports; UtcDateTime renders as DateTime(timezone=True) and the school-key encrypted
columns as LargeBinary. New tables only, nothing existing changes:
- school_keys: each school's 256-bit data key wrapped by the master keyring (rows are created by the application
  on first use, so the migration writes none);
- registry_entries (+ registry_events, the append-only history with encrypted snapshots);
- monitoring_cases with a partial unique index: at most one case per pupil that is not closed;
- case_members, case_events, case_notes (append-only) and case_access_grants (time-limited access).
Editable rows (registry_entries, monitoring_cases) carry a version column for optimistic locking.
Downgrade drops the tables: their records (encrypted under keys that go with school_keys) are lost with them.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_monitoring'
down_revision = '0014_roster_import'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('school_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('wrapped_key', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rewrapped_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_school_keys_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school_keys')),
    sa.UniqueConstraint('key_id', name=op.f('uq_school_keys_key_id'))
    )
    with op.batch_alter_table('school_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_school_keys_school_id'), ['school_id'], unique=False)

    op.create_table('monitoring_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('pupil_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('risk_ct', sa.LargeBinary(), nullable=False),
    sa.Column('origin_ct', sa.LargeBinary(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_review_on', sa.Date(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['opened_by_id'], ['users.id'], name=op.f('fk_monitoring_cases_opened_by_id_users')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_monitoring_cases_owner_id_users')),
    sa.ForeignKeyConstraint(['pupil_id'], ['pupils.id'], name=op.f('fk_monitoring_cases_pupil_id_pupils')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_monitoring_cases_school_id_schools')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_monitoring_cases_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_cases')),
    sa.UniqueConstraint('uuid', name=op.f('uq_monitoring_cases_uuid'))
    )
    with op.batch_alter_table('monitoring_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoring_cases_next_review_on'), ['next_review_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_monitoring_cases_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_monitoring_cases_pupil_id'), ['pupil_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_monitoring_cases_school_id'), ['school_id'], unique=False)
        batch_op.create_index('uq_monitoring_cases_open_pupil', ['pupil_id'], unique=True, sqlite_where=sa.text("status != 'closed'"), postgresql_where=sa.text("status != 'closed'"))

    op.create_table('registry_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('pupil_id', sa.Integer(), nullable=False),
    sa.Column('details_ct', sa.LargeBinary(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('next_review_on', sa.Date(), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('end_reason_ct', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_registry_entries_created_by_id_users')),
    sa.ForeignKeyConstraint(['pupil_id'], ['pupils.id'], name=op.f('fk_registry_entries_pupil_id_pupils')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_registry_entries_school_id_schools')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_registry_entries_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registry_entries')),
    sa.UniqueConstraint('uuid', name=op.f('uq_registry_entries_uuid'))
    )
    with op.batch_alter_table('registry_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registry_entries_next_review_on'), ['next_review_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_registry_entries_pupil_id'), ['pupil_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_registry_entries_school_id'), ['school_id'], unique=False)

    op.create_table('case_access_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('reason_ct', sa.LargeBinary(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['monitoring_cases.id'], name=op.f('fk_case_access_grants_case_id_monitoring_cases')),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], name=op.f('fk_case_access_grants_granted_by_id_users')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_case_access_grants_school_id_schools')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_case_access_grants_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_access_grants')),
    sa.UniqueConstraint('uuid', name=op.f('uq_case_access_grants_uuid'))
    )
    with op.batch_alter_table('case_access_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_access_grants_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_access_grants_school_id'), ['school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_access_grants_user_id'), ['user_id'], unique=False)

    op.create_table('case_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('data_ct', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_case_events_actor_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['monitoring_cases.id'], name=op.f('fk_case_events_case_id_monitoring_cases')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_case_events_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_events')),
    sa.UniqueConstraint('uuid', name=op.f('uq_case_events_uuid'))
    )
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_events_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_events_school_id'), ['school_id'], unique=False)

    op.create_table('case_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('team_role', sa.String(length=24), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_case_members_added_by_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['monitoring_cases.id'], name=op.f('fk_case_members_case_id_monitoring_cases')),
    sa.ForeignKeyConstraint(['removed_by_id'], ['users.id'], name=op.f('fk_case_members_removed_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_case_members_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_members'))
    )
    with op.batch_alter_table('case_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_members_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_members_user_id'), ['user_id'], unique=False)

    op.create_table('case_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body_ct', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_case_notes_author_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['monitoring_cases.id'], name=op.f('fk_case_notes_case_id_monitoring_cases')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_case_notes_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_notes')),
    sa.UniqueConstraint('uuid', name=op.f('uq_case_notes_uuid'))
    )
    with op.batch_alter_table('case_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_notes_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_notes_school_id'), ['school_id'], unique=False)

    op.create_table('registry_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('snapshot_ct', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_registry_events_actor_id_users')),
    sa.ForeignKeyConstraint(['entry_id'], ['registry_entries.id'], name=op.f('fk_registry_events_entry_id_registry_entries')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_registry_events_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registry_events')),
    sa.UniqueConstraint('uuid', name=op.f('uq_registry_events_uuid'))
    )
    with op.batch_alter_table('registry_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registry_events_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_registry_events_school_id'), ['school_id'], unique=False)



def downgrade():
    with op.batch_alter_table('registry_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registry_events_school_id'))
        batch_op.drop_index(batch_op.f('ix_registry_events_entry_id'))

    op.drop_table('registry_events')
    with op.batch_alter_table('case_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_notes_school_id'))
        batch_op.drop_index(batch_op.f('ix_case_notes_case_id'))

    op.drop_table('case_notes')
    with op.batch_alter_table('case_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_members_user_id'))
        batch_op.drop_index(batch_op.f('ix_case_members_case_id'))

    op.drop_table('case_members')
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_events_school_id'))
        batch_op.drop_index(batch_op.f('ix_case_events_case_id'))

    op.drop_table('case_events')
    with op.batch_alter_table('case_access_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_access_grants_user_id'))
        batch_op.drop_index(batch_op.f('ix_case_access_grants_school_id'))
        batch_op.drop_index(batch_op.f('ix_case_access_grants_case_id'))

    op.drop_table('case_access_grants')
    with op.batch_alter_table('registry_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registry_entries_school_id'))
        batch_op.drop_index(batch_op.f('ix_registry_entries_pupil_id'))
        batch_op.drop_index(batch_op.f('ix_registry_entries_next_review_on'))

    op.drop_table('registry_entries')
    with op.batch_alter_table('monitoring_cases', schema=None) as batch_op:
        batch_op.drop_index('uq_monitoring_cases_open_pupil', sqlite_where=sa.text("status != 'closed'"), postgresql_where=sa.text("status != 'closed'"))
        batch_op.drop_index(batch_op.f('ix_monitoring_cases_school_id'))
        batch_op.drop_index(batch_op.f('ix_monitoring_cases_pupil_id'))
        batch_op.drop_index(batch_op.f('ix_monitoring_cases_owner_id'))
        batch_op.drop_index(batch_op.f('ix_monitoring_cases_next_review_on'))

    op.drop_table('monitoring_cases')
    with op.batch_alter_table('school_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_school_keys_school_id'))

    op.drop_table('school_keys')
