"""Migration 0019 creates the guidance tables and drops them again; models and migrations agree."""

from __future__ import annotations

from sqlalchemy import inspect

from app.extensions import db
from tests.migration_support import MIGRATIONS, scratch_app

TABLES = {"guidance_articles", "guidance_article_versions", "guidance_recommendations"}


def test_migration_0019_up_and_down(tmp_path):
    from flask_migrate import downgrade, upgrade

    with scratch_app(f"sqlite:///{tmp_path / 'm.db'}"):
        upgrade(directory=MIGRATIONS, revision="0021_seminars")
        assert not TABLES & set(inspect(db.engine).get_table_names())
        upgrade(directory=MIGRATIONS, revision="0019_guidance")
        assert set(inspect(db.engine).get_table_names()) >= TABLES
        downgrade(directory=MIGRATIONS, revision="0021_seminars")
        assert not TABLES & set(inspect(db.engine).get_table_names())
        upgrade(directory=MIGRATIONS, revision="0019_guidance")
        assert set(inspect(db.engine).get_table_names()) >= TABLES


def test_the_guidance_models_and_the_migration_agree(app_ctx):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert [d for d in diff if any(table in repr(d) for table in TABLES)] == []
