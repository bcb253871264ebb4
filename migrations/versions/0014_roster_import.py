"""roster import: pupils' personal file number, source and leaving date; parents' phone; kept uploads

Revision ID: 0014_roster_import
Revises: 0010_instruments_1_1
Create Date: 2026-12-10 10:00:00

Reviewed by hand: no app imports; UtcDateTime renders as DateTime(timezone=True).

* pupils.import_key: the school's own number for a pupil (personal file number), unique within the school, by
  which a roster file finds pupils without an IIN or Kundelik id.
* pupils.source: where the record came from ("manual", "import", later "kundelik"); existing rows are "manual".
* pupils.left_at: when the pupil was marked as left (active = false); records are never deleted.
* users.phone: a parent's phone from a roster file (E.164), indexed to find the account again.
* roster_uploads: an uploaded file's rows, AES-GCM encrypted, between preview and commit (30 minutes).

The downgrade drops them all (kept uploads are lost; pupils keep their active flag).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_roster_import'
down_revision = '0012_code_cards'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pupils') as batch:
        batch.add_column(sa.Column('import_key', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('source', sa.String(length=16), server_default='manual', nullable=False))
        batch.add_column(sa.Column('left_at', sa.DateTime(timezone=True), nullable=True))
        batch.create_unique_constraint('uq_pupils_school_id_import_key', ['school_id', 'import_key'])
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('phone', sa.String(length=20), nullable=True))
        batch.create_index('ix_users_phone', ['phone'], unique=False)
    op.create_table('roster_uploads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('school_year', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('committed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('payload_ct', sa.LargeBinary(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_roster_uploads_school_id_schools')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_roster_uploads_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_uploads')),
    sa.UniqueConstraint('uuid', name=op.f('uq_roster_uploads_uuid'))
    )
    op.create_index(op.f('ix_roster_uploads_expires_at'), 'roster_uploads', ['expires_at'], unique=False)
    op.create_index(op.f('ix_roster_uploads_school_id'), 'roster_uploads', ['school_id'], unique=False)
    op.create_index(op.f('ix_roster_uploads_user_id'), 'roster_uploads', ['user_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_roster_uploads_user_id'), table_name='roster_uploads')
    op.drop_index(op.f('ix_roster_uploads_school_id'), table_name='roster_uploads')
    op.drop_index(op.f('ix_roster_uploads_expires_at'), table_name='roster_uploads')
    op.drop_table('roster_uploads')
    with op.batch_alter_table('users') as batch:
        batch.drop_index('ix_users_phone')
        batch.drop_column('phone')
    with op.batch_alter_table('pupils') as batch:
        batch.drop_constraint('uq_pupils_school_id_import_key', type_='unique')
        batch.drop_column('left_at')
        batch.drop_column('source')
        batch.drop_column('import_key')
