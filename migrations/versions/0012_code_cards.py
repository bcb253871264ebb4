"""code cards: printable batches of one-time codes kept encrypted for a day; sittings stopped when consent ends

Revision ID: 0012_code_cards
Revises: 0010_instruments_1_1
Create Date: 2026-12-08 10:00:00

Reviewed by hand: no app imports; UtcDateTime renders as DateTime(timezone=True). Issue 8 items 10 and 11.

- New table screening_code_batches: the codes of one issue, AES-GCM encrypted in cards_ct (NULL once the cards are
  marked printed or SENIM_CODE_CARDS_KEPT has passed), with its campaign, school, issuer and times. Nothing existing
  changes. The downgrade drops the table: codes not yet printed can no longer be shown (they still work).
- screening_sessions gains stopped_at and stop_reason (both NULL for every existing row): a sitting is stopped,
  status "stopped", when parental consent is withdrawn or expires before it is finished. The downgrade drops both
  columns and turns stopped sittings into expired ones, which the code before this revision treats the same way (no
  code entry, no answer saved; the drafts were already erased when they were stopped).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012_code_cards'
down_revision = '0010_instruments_1_1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('screening_code_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('printed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('card_count', sa.Integer(), nullable=False),
    sa.Column('cards_ct', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['screening_campaigns.id'],
                            name=op.f('fk_screening_code_batches_campaign_id_screening_campaigns')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                            name=op.f('fk_screening_code_batches_created_by_id_users')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_screening_code_batches_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_screening_code_batches')),
    sa.UniqueConstraint('uuid', name=op.f('uq_screening_code_batches_uuid'))
    )
    op.create_index(op.f('ix_screening_code_batches_campaign_id'), 'screening_code_batches', ['campaign_id'],
                    unique=False)
    op.create_index(op.f('ix_screening_code_batches_expires_at'), 'screening_code_batches', ['expires_at'],
                    unique=False)
    op.create_index(op.f('ix_screening_code_batches_school_id'), 'screening_code_batches', ['school_id'],
                    unique=False)
    with op.batch_alter_table('screening_sessions') as batch:
        batch.add_column(sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('stop_reason', sa.String(length=24), nullable=True))


def downgrade():
    sessions = sa.table('screening_sessions', sa.column('status', sa.String()))
    op.get_bind().execute(sessions.update().where(sessions.c.status == 'stopped').values(status='expired'))
    with op.batch_alter_table('screening_sessions') as batch:
        batch.drop_column('stop_reason')
        batch.drop_column('stopped_at')
    op.drop_index(op.f('ix_screening_code_batches_school_id'), table_name='screening_code_batches')
    op.drop_index(op.f('ix_screening_code_batches_expires_at'), table_name='screening_code_batches')
    op.drop_index(op.f('ix_screening_code_batches_campaign_id'), table_name='screening_code_batches')
    op.drop_table('screening_code_batches')
