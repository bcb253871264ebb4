"""help: the help directory (150, 111, 112 and regional services) and pupils' requests for help

Revision ID: 0018_help
Revises: 0013_monitoring
Create Date: 2026-12-05 18:30:00

Reviewed by hand: no app imports; UtcDateTime renders as DateTime(timezone=True), the encrypted column as
LargeBinary. New tables only:
- help_services: the directory (public information). The three national numbers are seeded here with their
  sources, so that the footer's 150 / 111 / 112 now come from this one table (the app falls back to built-in
  ones when it has no national entry);
- help_requests: a pupil's message to the school psychologist, encrypted (school in plaintext, for scoping).
Downgrade drops both tables (requests are lost with them; their alerts stay, without a message).
"""
from datetime import datetime, timezone
import uuid

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_help'
down_revision = '0017_glass_attachments'
branch_labels = None
depends_on = None

#: The national numbers (kind, phone, kk, ru, en, hours kk/ru/en, website, source, position).
NATIONAL = [
    ('helpline', '150',
     'Балалар мен жастарға арналған ұлттық сенім телефоны, тегін',
     'Национальный телефон доверия для детей и молодёжи, бесплатно',
     "National helpline for children and youth, free",
     'тәулік бойы', 'круглосуточно', '24/7', '',
     'Union of Crisis Centres of Kazakhstan with UNICEF, national line 150 since 20.11.2013 '
     '(archive.np.kz/research/2352-detstvo_bez_nasilija.html)', 10),
    ('helpline', '111',
     'Отбасы, әйелдер және балалар құқықтарын қорғау мәселелері жөніндегі бірыңғай байланыс орталығы',
     'Единый контакт-центр по вопросам защиты прав семьи, женщин и детей',
     "Single contact centre for family, women's and children's rights",
     'тәулік бойы', 'круглосуточно', '24/7', '',
     'Government of the Republic of Kazakhstan: single state contact centre 111, round the clock from 16.10.2023, '
     'run by the State Corporation "Government for Citizens" (vlast.kz/novosti/57178)', 20),
    ('emergency', '112',
     'Шұғыл көмек', 'Экстренная помощь', 'Emergency',
     'тәулік бойы', 'круглосуточно', '24/7', '',
     'Law of the Republic of Kazakhstan "On civil protection" of 11.04.2014 No. 188-V: single emergency number 112',
     30),
]


def upgrade():
    services = op.create_table('help_services',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('name_kk', sa.String(length=200), nullable=False),
    sa.Column('name_ru', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('hours_kk', sa.String(length=120), nullable=False),
    sa.Column('hours_ru', sa.String(length=120), nullable=False),
    sa.Column('hours_en', sa.String(length=120), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('website', sa.String(length=300), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_help_services_district_id_districts')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_help_services_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_help_services')),
    sa.UniqueConstraint('uuid', name=op.f('uq_help_services_uuid'))
    )
    op.create_index(op.f('ix_help_services_district_id'), 'help_services', ['district_id'], unique=False)
    op.create_index(op.f('ix_help_services_region_id'), 'help_services', ['region_id'], unique=False)
    op.create_table('help_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('body_ct', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_help_requests_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_help_requests')),
    sa.UniqueConstraint('uuid', name=op.f('uq_help_requests_uuid'))
    )
    op.create_index(op.f('ix_help_requests_school_id'), 'help_requests', ['school_id'], unique=False)
    now = datetime.now(timezone.utc)
    op.bulk_insert(services, [
        {'uuid': str(uuid.uuid4()), 'kind': kind, 'region_id': None, 'district_id': None, 'name_kk': kk,
         'name_ru': ru, 'name_en': en, 'phone': phone, 'hours_kk': hkk, 'hours_ru': hru, 'hours_en': hen,
         'address': '', 'website': website, 'source': source, 'position': position, 'active': True,
         'updated_at': now}
        for kind, phone, kk, ru, en, hkk, hru, hen, website, source, position in NATIONAL])


def downgrade():
    op.drop_index(op.f('ix_help_requests_school_id'), table_name='help_requests')
    op.drop_table('help_requests')
    op.drop_index(op.f('ix_help_services_region_id'), table_name='help_services')
    op.drop_index(op.f('ix_help_services_district_id'), table_name='help_services')
    op.drop_table('help_services')
