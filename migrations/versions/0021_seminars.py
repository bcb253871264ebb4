"""seminars: seminars for parents and staff, and registrations

Revision ID: 0021_seminars
Revises: 0018_help
Create Date: 2026-12-05 20:10:00

Reviewed by hand: no app imports; UtcDateTime renders as DateTime(timezone=True). New tables only:
- seminars: a seminar held for one school, district or region (check: exactly one), with its capacity and the
  number of seats taken (check: never above the capacity), times in UTC and a version for optimistic locking;
- seminar_registrations: one row per person and seminar (unique), cancelled ones kept, attendance and reminder.
Downgrade drops both tables.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021_seminars'
down_revision = '0018_help'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('seminars',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('audience', sa.String(length=16), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('online_url', sa.String(length=500), nullable=False),
    sa.Column('place', sa.String(length=300), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('seats_taken', sa.Integer(), server_default='0', nullable=False),
    sa.Column('registration_closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('materials', sa.Text(), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.String(length=500), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint('capacity > 0', name=op.f('ck_seminars_capacity_positive')),
    sa.CheckConstraint('seats_taken >= 0 AND seats_taken <= capacity', name=op.f('ck_seminars_seats_within_capacity')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_seminars_ends_after_start')),
    sa.CheckConstraint('registration_closes_at <= starts_at', name=op.f('ck_seminars_registration_before_start')),
    sa.CheckConstraint('(CASE WHEN school_id IS NULL THEN 0 ELSE 1 END + CASE WHEN district_id IS NULL THEN 0 '
                       'ELSE 1 END + CASE WHEN region_id IS NULL THEN 0 ELSE 1 END) = 1',
                       name=op.f('ck_seminars_one_place')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_seminars_created_by_id_users')),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_seminars_district_id_districts')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_seminars_region_id_regions')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_seminars_school_id_schools')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_seminars_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seminars')),
    sa.UniqueConstraint('uuid', name=op.f('uq_seminars_uuid'))
    )
    op.create_index(op.f('ix_seminars_district_id'), 'seminars', ['district_id'], unique=False)
    op.create_index(op.f('ix_seminars_region_id'), 'seminars', ['region_id'], unique=False)
    op.create_index(op.f('ix_seminars_school_id'), 'seminars', ['school_id'], unique=False)
    op.create_index(op.f('ix_seminars_starts_at'), 'seminars', ['starts_at'], unique=False)
    op.create_table('seminar_registrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seminar_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attended', sa.Boolean(), nullable=True),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['seminar_id'], ['seminars.id'],
                            name=op.f('fk_seminar_registrations_seminar_id_seminars')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_seminar_registrations_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seminar_registrations')),
    sa.UniqueConstraint('seminar_id', 'user_id', name='uq_seminar_registrations_seminar_user')
    )
    op.create_index(op.f('ix_seminar_registrations_seminar_id'), 'seminar_registrations', ['seminar_id'],
                    unique=False)
    op.create_index(op.f('ix_seminar_registrations_user_id'), 'seminar_registrations', ['user_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_seminar_registrations_user_id'), table_name='seminar_registrations')
    op.drop_index(op.f('ix_seminar_registrations_seminar_id'), table_name='seminar_registrations')
    op.drop_table('seminar_registrations')
    op.drop_index(op.f('ix_seminars_starts_at'), table_name='seminars')
    op.drop_index(op.f('ix_seminars_school_id'), table_name='seminars')
    op.drop_index(op.f('ix_seminars_region_id'), table_name='seminars')
    op.drop_index(op.f('ix_seminars_district_id'), table_name='seminars')
    op.drop_table('seminars')
