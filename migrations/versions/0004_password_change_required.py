"""password change required: a password set by someone else must be replaced by its owner

Revision ID: 0004_password_change_required
Revises: 0003_local_instruments
Create Date: 2026-11-29 10:00:00

Reviewed by hand: no app imports. One NOT NULL boolean on users; existing accounts get false (the
server default), so nobody is sent to change a password they chose themselves. The downgrade drops the
column (batch mode: SQLite rebuilds the table).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_password_change_required'
down_revision = '0003_local_instruments'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_change_required', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('password_change_required')
