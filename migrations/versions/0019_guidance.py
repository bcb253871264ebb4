"""guidance: the guidance library (articles, their versions, articles chosen for parents)

Revision ID: 0019_guidance
Revises: 0021_seminars
Create Date: 2026-12-05 19:49:02

Reviewed by hand: no app imports; UtcDateTime renders as DateTime(timezone=True). New tables only:
- guidance_articles: national (school_id NULL) or a school's; status, the published version's number and a
  version counter for optimistic locking;
- guidance_article_versions: every saved edit (author, time; reviewer and time once published), texts in kk/ru/en,
  their translation status, case-folded search text and sources;
- guidance_recommendations: an article chosen for the parents of one pupil.
The former parents' articles were strings in the code; they come back as content files (flask guidance
import-content), so there is nothing to move. Downgrade drops the three tables.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019_guidance'
down_revision = "0021_seminars"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('guidance_articles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('slug', sa.String(length=80), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('published_number', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_guidance_articles_created_by_id_users')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_guidance_articles_school_id_schools')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_guidance_articles_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guidance_articles')),
    sa.UniqueConstraint('slug', name=op.f('uq_guidance_articles_slug')),
    sa.UniqueConstraint('uuid', name=op.f('uq_guidance_articles_uuid'))
    )
    op.create_index(op.f('ix_guidance_articles_school_id'), 'guidance_articles', ['school_id'], unique=False)
    op.create_index(op.f('ix_guidance_articles_status'), 'guidance_articles', ['status'], unique=False)

    op.create_table('guidance_article_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('audiences', sa.String(length=40), nullable=False),
    sa.Column('for_parents', sa.Boolean(), nullable=False),
    sa.Column('for_teachers', sa.Boolean(), nullable=False),
    sa.Column('for_pupils', sa.Boolean(), nullable=False),
    sa.Column('topic', sa.String(length=40), nullable=False),
    sa.Column('distress', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title_kk', sa.String(length=200), nullable=False),
    sa.Column('title_ru', sa.String(length=200), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=False),
    sa.Column('summary_kk', sa.String(length=500), nullable=False),
    sa.Column('summary_ru', sa.String(length=500), nullable=False),
    sa.Column('summary_en', sa.String(length=500), nullable=False),
    sa.Column('body_kk', sa.Text(), nullable=False),
    sa.Column('body_ru', sa.Text(), nullable=False),
    sa.Column('body_en', sa.Text(), nullable=False),
    sa.Column('translation_kk', sa.String(length=16), nullable=False),
    sa.Column('translation_ru', sa.String(length=16), nullable=False),
    sa.Column('translation_en', sa.String(length=16), nullable=False),
    sa.Column('search_kk', sa.Text(), nullable=False),
    sa.Column('search_ru', sa.Text(), nullable=False),
    sa.Column('search_en', sa.Text(), nullable=False),
    sa.Column('sources_json', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['guidance_articles.id'], name=op.f('fk_guidance_article_versions_article_id_guidance_articles')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_guidance_article_versions_author_id_users')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_guidance_article_versions_reviewer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guidance_article_versions')),
    sa.UniqueConstraint('article_id', 'number', name=op.f('uq_guidance_article_versions_article_id'))
    )
    op.create_index(op.f('ix_guidance_article_versions_article_id'), 'guidance_article_versions', ['article_id'], unique=False)
    op.create_index(op.f('ix_guidance_article_versions_for_parents'), 'guidance_article_versions', ['for_parents'], unique=False)
    op.create_index(op.f('ix_guidance_article_versions_for_pupils'), 'guidance_article_versions', ['for_pupils'], unique=False)
    op.create_index(op.f('ix_guidance_article_versions_for_teachers'), 'guidance_article_versions', ['for_teachers'], unique=False)
    op.create_index(op.f('ix_guidance_article_versions_topic'), 'guidance_article_versions', ['topic'], unique=False)

    op.create_table('guidance_recommendations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('pupil_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['guidance_articles.id'], name=op.f('fk_guidance_recommendations_article_id_guidance_articles')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_guidance_recommendations_created_by_id_users')),
    sa.ForeignKeyConstraint(['pupil_id'], ['pupils.id'], name=op.f('fk_guidance_recommendations_pupil_id_pupils')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_guidance_recommendations_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guidance_recommendations')),
    sa.UniqueConstraint('article_id', 'pupil_id', name=op.f('uq_guidance_recommendations_article_id'))
    )
    op.create_index(op.f('ix_guidance_recommendations_article_id'), 'guidance_recommendations', ['article_id'], unique=False)
    op.create_index(op.f('ix_guidance_recommendations_pupil_id'), 'guidance_recommendations', ['pupil_id'], unique=False)
    op.create_index(op.f('ix_guidance_recommendations_school_id'), 'guidance_recommendations', ['school_id'], unique=False)



def downgrade():
    op.drop_table('guidance_recommendations')
    op.drop_table('guidance_article_versions')
    op.drop_table('guidance_articles')
