"""Migration 0013 creates the monitoring tables and drops them again; models and migrations agree."""

from __future__ import annotations

from sqlalchemy import inspect

from app.extensions import db
from tests.migration_support import MIGRATIONS, scratch_app

TABLES = {"school_keys", "registry_entries", "registry_events", "monitoring_cases", "case_members", "case_events",
          "case_notes", "case_access_grants", "case_attachments"}


def test_migration_0013_up_and_down(tmp_path):
    from flask_migrate import downgrade, upgrade

    with scratch_app(f"sqlite:///{tmp_path / 'm.db'}"):
        upgrade(directory=MIGRATIONS, revision="0014_roster_import")
        assert not TABLES & set(inspect(db.engine).get_table_names())
        upgrade(directory=MIGRATIONS, revision="0013_monitoring")
        assert set(inspect(db.engine).get_table_names()) >= TABLES - {"case_attachments"}
        indexes = {i["name"]: i for i in inspect(db.engine).get_indexes("monitoring_cases")}
        assert indexes["uq_monitoring_cases_open_pupil"]["unique"]
        downgrade(directory=MIGRATIONS, revision="0014_roster_import")
        assert not TABLES & set(inspect(db.engine).get_table_names())
        upgrade(directory=MIGRATIONS, revision="0013_monitoring")
        assert set(inspect(db.engine).get_table_names()) >= TABLES - {"case_attachments"}


def test_the_monitoring_models_and_the_migration_agree(app_ctx):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert [d for d in diff if any(table in repr(d) for table in TABLES)] == []


def test_migration_0017_up_and_down(tmp_path):
    from flask_migrate import downgrade, upgrade

    with scratch_app(f"sqlite:///{tmp_path / 'g.db'}"):
        upgrade(directory=MIGRATIONS, revision="0015_plans_followups")
        assert "case_attachments" not in inspect(db.engine).get_table_names()
        upgrade(directory=MIGRATIONS, revision="0017_glass_attachments")
        assert "case_attachments" in inspect(db.engine).get_table_names()
        columns = {c["name"] for c in inspect(db.engine).get_columns("case_access_grants")}
        assert {"reviewed_at", "reviewed_by_id", "justified", "review_note_ct", "version"} <= columns
        downgrade(directory=MIGRATIONS, revision="0015_plans_followups")
        assert "case_attachments" not in inspect(db.engine).get_table_names()
        assert "version" not in {c["name"] for c in inspect(db.engine).get_columns("case_access_grants")}
        upgrade(directory=MIGRATIONS, revision="0017_glass_attachments")
