"""Migration 0018 creates the help tables with the three national numbers (each with its source) and drops them
again; models and migrations agree."""

from __future__ import annotations

from sqlalchemy import inspect, text

from app.extensions import db
from tests.migration_support import MIGRATIONS, scratch_app

TABLES = {"help_services", "help_requests"}


def test_migration_0018_up_and_down(tmp_path):
    from flask_migrate import downgrade, upgrade

    with scratch_app(f"sqlite:///{tmp_path / 'm.db'}"):
        upgrade(directory=MIGRATIONS, revision="0017_glass_attachments")
        assert not TABLES & set(inspect(db.engine).get_table_names())
        upgrade(directory=MIGRATIONS, revision="0018_help")
        assert set(inspect(db.engine).get_table_names()) >= TABLES
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT phone, source, region_id FROM help_services ORDER BY position")).all()
        assert [r.phone for r in rows] == ["150", "111", "112"]
        assert all(r.source and r.region_id is None for r in rows)
        downgrade(directory=MIGRATIONS, revision="0017_glass_attachments")
        assert not TABLES & set(inspect(db.engine).get_table_names())
        upgrade(directory=MIGRATIONS, revision="0018_help")
        assert set(inspect(db.engine).get_table_names()) >= TABLES


def test_the_help_models_and_the_migration_agree(app_ctx):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert [d for d in diff if any(table in repr(d) for table in TABLES)] == []
