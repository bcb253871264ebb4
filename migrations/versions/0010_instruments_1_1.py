"""instruments 1.1: open sittings and campaigns move to the new versions of the shipped instruments

Revision ID: 0010_instruments_1_1
Revises: 0009_outcomes_encrypted
Create Date: 2026-12-05 14:00:00

Reviewed by hand: no app imports. Version 1.1 of every shipped instrument has the same items and options as 1.0
(tests/screening/test_versions.py checks it) and safer rules (issue 8: an ASQ "yes" raises its alert at the
answer; thresholds reached by the answered items alone; K6 and WHO-5 alerts). So that codes already handed out
get the new rules too, sessions not yet completed (issued or in progress, with their drafts) and campaigns not yet
closed switch from "<id>@1.0" to "<id>@1.1". Completed sittings and every result keep the version they were taken
with. Downgrade switches the same kinds of rows back.
"""
import json
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010_instruments_1_1'
down_revision = '0009_outcomes_encrypted'
branch_labels = None
depends_on = None

SHIPPED = ('asq', 'gad-7', 'k6', 'phq-a', 'psc-17-p', 'psc-17-y', 'rses', 'who-5')
OPEN = ('issued', 'in_progress')


def _move(old, new):
    bind = op.get_bind()
    sessions = sa.table('screening_sessions', sa.column('instrument_ref', sa.String()), sa.column('status'))
    for instrument_id in SHIPPED:
        bind.execute(sessions.update().where(sessions.c.instrument_ref == f'{instrument_id}@{old}',
                                             sessions.c.status.in_(OPEN))
                     .values(instrument_ref=f'{instrument_id}@{new}'))
    campaigns = sa.table('screening_campaigns', sa.column('id'), sa.column('instrument_refs'),
                         sa.column('closes_at', sa.DateTime(timezone=True)))
    now = datetime.now(timezone.utc)
    for row in bind.execute(sa.select(campaigns.c.id, campaigns.c.instrument_refs, campaigns.c.closes_at)).all():
        closes = row.closes_at if row.closes_at.tzinfo else row.closes_at.replace(tzinfo=timezone.utc)
        refs = row.instrument_refs if isinstance(row.instrument_refs, list) else json.loads(row.instrument_refs)
        if closes < now:
            continue
        moved = [f'{ref.partition("@")[0]}@{new}' if ref.partition('@')[0] in SHIPPED and ref.endswith(f'@{old}')
                 else ref for ref in refs]
        if moved != refs:
            bind.execute(sa.text('UPDATE screening_campaigns SET instrument_refs = :refs WHERE id = :id')
                         .bindparams(sa.bindparam('refs', type_=sa.JSON())), {'refs': moved, 'id': row.id})


def upgrade():
    _move('1.0', '1.1')


def downgrade():
    _move('1.1', '1.0')
