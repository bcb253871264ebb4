"""Migration 0022 adds the accounts' Kundelik ids and the kept tokens, and removes them again; models and
migrations agree."""

from __future__ import annotations

from sqlalchemy import inspect

from app.extensions import db
from tests.migration_support import MIGRATIONS, scratch_app


def _user_columns() -> set[str]:
    return {c["name"] for c in inspect(db.engine).get_columns("users")}


def test_migration_0022_up_and_down(tmp_path):
    from flask_migrate import downgrade, upgrade

    with scratch_app(f"sqlite:///{tmp_path / 'm.db'}"):
        upgrade(directory=MIGRATIONS, revision="0020_parent_portal")
        assert "kundelik_tokens" not in inspect(db.engine).get_table_names()
        upgrade(directory=MIGRATIONS, revision="0022_kundelik_oauth")
        assert "kundelik_tokens" in inspect(db.engine).get_table_names()
        assert {"kundelik_user_id", "kundelik_person_id"} <= _user_columns()
        downgrade(directory=MIGRATIONS, revision="0020_parent_portal")
        assert "kundelik_tokens" not in inspect(db.engine).get_table_names()
        assert not {"kundelik_user_id", "kundelik_person_id"} & _user_columns()
        upgrade(directory=MIGRATIONS, revision="0022_kundelik_oauth")
        assert "kundelik_tokens" in inspect(db.engine).get_table_names()


def test_the_kundelik_models_and_the_migration_agree(app_ctx):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert [d for d in diff if "kundelik" in repr(d)] == []
