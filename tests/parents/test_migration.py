"""Migration 0020 creates the parent portal's tables and the consent's withdrawal way, and removes them again;
models and migrations agree."""

from __future__ import annotations

from sqlalchemy import inspect

from app.extensions import db
from tests.migration_support import MIGRATIONS, scratch_app

TABLES = {"parent_meetings", "parent_summaries"}


def _consent_columns() -> set[str]:
    return {c["name"] for c in inspect(db.engine).get_columns("consents")}


def test_migration_0020_up_and_down(tmp_path):
    from flask_migrate import downgrade, upgrade

    with scratch_app(f"sqlite:///{tmp_path / 'm.db'}"):
        upgrade(directory=MIGRATIONS, revision="0019_guidance")
        assert not TABLES & set(inspect(db.engine).get_table_names())
        assert "withdrawn_method" not in _consent_columns()
        upgrade(directory=MIGRATIONS, revision="0020_parent_portal")
        assert set(inspect(db.engine).get_table_names()) >= TABLES
        assert "withdrawn_method" in _consent_columns()
        downgrade(directory=MIGRATIONS, revision="0019_guidance")
        assert not TABLES & set(inspect(db.engine).get_table_names())
        assert "withdrawn_method" not in _consent_columns()
        upgrade(directory=MIGRATIONS, revision="0020_parent_portal")
        assert set(inspect(db.engine).get_table_names()) >= TABLES


def test_the_portal_models_and_the_migration_agree(app_ctx):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert [d for d in diff if any(name in repr(d) for name in (*TABLES, "withdrawn_method"))] == []


MEETING_REPLY_COLUMNS = {"parent_answered_at", "parent_note_ct", "version"}


def _meeting_columns() -> set[str]:
    return {c["name"] for c in inspect(db.engine).get_columns("parent_meetings")}


def test_migration_0024_adds_the_parents_answer_and_the_version_and_removes_them(tmp_path):
    from flask_migrate import downgrade, upgrade

    with scratch_app(f"sqlite:///{tmp_path / 'm.db'}"):
        upgrade(directory=MIGRATIONS, revision="0026_sync_jobs")
        assert not MEETING_REPLY_COLUMNS & _meeting_columns()
        upgrade(directory=MIGRATIONS, revision="0024_meeting_reply")
        assert _meeting_columns() >= MEETING_REPLY_COLUMNS
        downgrade(directory=MIGRATIONS, revision="0026_sync_jobs")
        assert not MEETING_REPLY_COLUMNS & _meeting_columns()
        assert {"status", "meeting_at", "reply_ct"} <= _meeting_columns()
        upgrade(directory=MIGRATIONS, revision="0024_meeting_reply")
        assert _meeting_columns() >= MEETING_REPLY_COLUMNS


def test_the_meeting_model_and_migration_0024_agree(app_ctx):
    from tests.migration_support import model_drift

    assert model_drift(*MEETING_REPLY_COLUMNS) == []
