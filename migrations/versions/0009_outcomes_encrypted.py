"""outcomes encrypted: alerts reach their pupil only through a keyed reference; no plaintext flag level

Revision ID: 0009_outcomes_encrypted
Revises: 0008_security_findings
Create Date: 2026-12-05 13:00:00

Issue 9 case 3: a stolen database or backup must not tell who screened at risk.
- screening_alerts loses pupil_id, session_id, result_id, instrument_ref, rule_id, severity and raised_at (and
  their foreign keys and indexes); it gains pupil_ref (keyed HMAC of the pupil id, scope "alert-pupil") and
  details_ct (AES-GCM ciphertext of those details as JSON, bound to table, column and row uuid). due_at is
  rounded up to five minutes.
- screening_results loses flag_level (the encrypted scores hold the alerts it was derived from).

Reviewed by hand. Unlike the other migrations this one needs the encryption and blind-index keys, which only the
running application holds (`flask db upgrade` runs inside it): it takes them from ``current_app`` and uses
app.core.crypto, which is pure (no Flask, no models), with the same associated-data layout as the Encrypted
columns. Downgrade decrypts back into the old columns (flag_level recomputed from the encrypted scores).
"""
import json
import math
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op
from flask import current_app

from app.core.crypto import make_aad

# revision identifiers, used by Alembic.
revision = '0009_outcomes_encrypted'
down_revision = '0008_security_findings'
branch_labels = None
depends_on = None

_OLD = ('pupil_id', 'session_id', 'result_id', 'instrument_ref', 'rule_id', 'severity', 'raised_at')
_LEVEL = {'acute': 3, 'urgent': 2, 'routine': 1}


def _keys():
    state = current_app.extensions['senim_crypto']
    return state.keyring, state.blind_index


def _aware(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _round_up(value):
    seconds = value.timestamp()
    return datetime.fromtimestamp(math.ceil(seconds / 300) * 300, tz=timezone.utc)


def upgrade():
    keyring, blind = _keys()
    with op.batch_alter_table('screening_alerts') as batch:
        batch.add_column(sa.Column('pupil_ref', sa.LargeBinary(length=16), nullable=True))
        batch.add_column(sa.Column('details_ct', sa.LargeBinary(), nullable=True))
    bind = op.get_bind()
    alerts = sa.table('screening_alerts', *(sa.column(c) for c in (
        'id', 'uuid', 'school_id', 'due_at', 'pupil_ref', 'details_ct') + _OLD))
    for row in bind.execute(sa.select(alerts)).mappings().all():
        details = {
            'pupil_id': row['pupil_id'], 'school_id': row['school_id'], 'session_id': row['session_id'],
            'result_id': row['result_id'], 'instrument_ref': row['instrument_ref'], 'severity': row['severity'],
            'rules': [row['rule_id']], 'raised_at': _aware(row['raised_at']).isoformat(), 'partial': False,
            'history': [],
        }
        token = keyring.encrypt(json.dumps(details, sort_keys=True).encode('utf-8'),
                                aad=make_aad('screening_alerts', 'details_ct', row['uuid']))
        bind.execute(alerts.update().where(alerts.c.id == row['id']).values(
            details_ct=token, pupil_ref=blind.compute(str(row['pupil_id']), scope='alert-pupil'),
            due_at=_round_up(_aware(row['due_at']))))
    with op.batch_alter_table('screening_alerts') as batch:
        batch.alter_column('pupil_ref', existing_type=sa.LargeBinary(length=16), nullable=False)
        batch.alter_column('details_ct', existing_type=sa.LargeBinary(), nullable=False)
        batch.create_index(batch.f('ix_screening_alerts_pupil_ref'), ['pupil_ref'], unique=False)
        for index in ('severity', 'session_id', 'result_id', 'pupil_id'):
            batch.drop_index(batch.f(f'ix_screening_alerts_{index}'))
        batch.drop_constraint(batch.f('fk_screening_alerts_pupil_id_pupils'), type_='foreignkey')
        batch.drop_constraint(batch.f('fk_screening_alerts_result_id_screening_results'), type_='foreignkey')
        batch.drop_constraint(batch.f('fk_screening_alerts_session_id_screening_sessions'), type_='foreignkey')
        for column in _OLD:
            batch.drop_column(column)
    with op.batch_alter_table('screening_results') as batch:
        batch.drop_column('flag_level')


def downgrade():
    keyring, _blind = _keys()
    bind = op.get_bind()
    with op.batch_alter_table('screening_results') as batch:
        batch.add_column(sa.Column('flag_level', sa.SmallInteger(), nullable=True))
    results = sa.table('screening_results', sa.column('id'), sa.column('uuid'), sa.column('scores_ct'),
                       sa.column('flag_level'))
    for row in bind.execute(sa.select(results)).mappings().all():
        scores = json.loads(keyring.decrypt(bytes(row['scores_ct']),
                                            aad=make_aad('screening_results', 'scores_ct', row['uuid'])))
        level = max((_LEVEL.get(a.get('severity'), 0) for a in scores.get('alerts', ())), default=0)
        bind.execute(results.update().where(results.c.id == row['id']).values(flag_level=level))
    with op.batch_alter_table('screening_results') as batch:
        batch.alter_column('flag_level', existing_type=sa.SmallInteger(), nullable=False)

    with op.batch_alter_table('screening_alerts') as batch:
        batch.add_column(sa.Column('result_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('session_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('pupil_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('instrument_ref', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('rule_id', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('severity', sa.String(length=8), nullable=True))
        batch.add_column(sa.Column('raised_at', sa.DateTime(timezone=True), nullable=True))
    alerts = sa.table('screening_alerts', *(sa.column(c) for c in ('id', 'uuid', 'details_ct') + _OLD))
    for row in bind.execute(sa.select(alerts.c.id, alerts.c.uuid, alerts.c.details_ct)).mappings().all():
        details = json.loads(keyring.decrypt(bytes(row['details_ct']),
                                             aad=make_aad('screening_alerts', 'details_ct', row['uuid'])))
        bind.execute(alerts.update().where(alerts.c.id == row['id']).values(
            pupil_id=details['pupil_id'], session_id=details['session_id'], result_id=details['result_id'],
            instrument_ref=details['instrument_ref'], rule_id=details['rules'][0], severity=details['severity'],
            raised_at=_aware(details['raised_at'])))
    with op.batch_alter_table('screening_alerts') as batch:
        for column, kind in (('pupil_id', sa.Integer()), ('instrument_ref', sa.String(length=64)),
                             ('rule_id', sa.String(length=64)), ('severity', sa.String(length=8)),
                             ('raised_at', sa.DateTime(timezone=True))):
            batch.alter_column(column, existing_type=kind, nullable=False)
        batch.create_foreign_key(batch.f('fk_screening_alerts_pupil_id_pupils'), 'pupils', ['pupil_id'], ['id'])
        batch.create_foreign_key(batch.f('fk_screening_alerts_result_id_screening_results'), 'screening_results',
                                 ['result_id'], ['id'])
        batch.create_foreign_key(batch.f('fk_screening_alerts_session_id_screening_sessions'),
                                 'screening_sessions', ['session_id'], ['id'])
        for index in ('pupil_id', 'result_id', 'session_id', 'severity'):
            batch.create_index(batch.f(f'ix_screening_alerts_{index}'), [index], unique=False)
        batch.drop_index(batch.f('ix_screening_alerts_pupil_ref'))
        batch.drop_column('details_ct')
        batch.drop_column('pupil_ref')
