"""local methods: instruments uploaded by a school (stored as the uploaded YAML, never edited)

Revision ID: 0003_local_instruments
Revises: 0002_screening_workflow
Create Date: 2026-11-28 10:00:00

Reviewed by hand: no app imports; UtcDateTime renders as DateTime(timezone=True). The uploaded files
are kept as text exactly as received; a school, instrument id and version are unique together.
The downgrade drops the table with its indexes.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_local_instruments'
down_revision = '0002_screening_workflow'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('local_instruments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.String(length=24), nullable=False),
    sa.Column('version', sa.String(length=16), nullable=False),
    sa.Column('instrument_yaml', sa.Text(), nullable=False),
    sa.Column('texts_kk_yaml', sa.Text(), nullable=False),
    sa.Column('texts_ru_yaml', sa.Text(), nullable=False),
    sa.Column('texts_en_yaml', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retired_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['retired_by_id'], ['users.id'], name=op.f('fk_local_instruments_retired_by_id_users')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_local_instruments_school_id_schools')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_local_instruments_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_local_instruments')),
    sa.UniqueConstraint('school_id', 'instrument_id', 'version', name='uq_local_instruments_school_id_instrument_id_version'),
    sa.UniqueConstraint('uuid', name=op.f('uq_local_instruments_uuid'))
    )
    op.create_index(op.f('ix_local_instruments_school_id'), 'local_instruments', ['school_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_local_instruments_school_id'), table_name='local_instruments')
    op.drop_table('local_instruments')
