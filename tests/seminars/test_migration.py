"""Migration 0021 creates the seminar tables and drops them again; models and migrations agree."""

from __future__ import annotations

from tests.migration_support import assert_tables_come_and_go, model_drift

TABLES = {"seminars", "seminar_registrations"}


def test_migration_0021_up_and_down(tmp_path):
    assert_tables_come_and_go(f"sqlite:///{tmp_path / 'm.db'}",
                              before="0018_help", revision="0021_seminars", tables=TABLES)


def test_the_seminar_models_and_the_migration_agree(app_ctx):
    assert model_drift(*TABLES) == []


def test_migration_0027_adds_and_drops_rescheduled_at(tmp_path):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    from app.extensions import db
    from tests.migration_support import MIGRATIONS, scratch_app

    def columns() -> set[str]:
        return {c["name"] for c in inspect(db.engine).get_columns("seminars")}

    with scratch_app(f"sqlite:///{tmp_path / 'm.db'}"):
        upgrade(directory=MIGRATIONS, revision="0024_meeting_reply")
        assert "rescheduled_at" not in columns()
        upgrade(directory=MIGRATIONS, revision="0027_seminar_notices")
        assert "rescheduled_at" in columns()
        downgrade(directory=MIGRATIONS, revision="0024_meeting_reply")
        assert "rescheduled_at" not in columns() and "cancelled_at" in columns()
        upgrade(directory=MIGRATIONS, revision="0027_seminar_notices")
        assert "rescheduled_at" in columns()
