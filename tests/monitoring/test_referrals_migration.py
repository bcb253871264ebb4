"""Migration 0016 creates the referral, step and transfer tables and drops them again; models and migration agree."""

from __future__ import annotations

from sqlalchemy import inspect

from app.extensions import db
from tests.migration_support import MIGRATIONS, scratch_app

TABLES = {"case_referrals", "case_steps", "case_transfers"}


def test_migration_0016_up_and_down(tmp_path):
    from flask_migrate import downgrade, upgrade

    with scratch_app(f"sqlite:///{tmp_path / 'm.db'}"):
        upgrade(directory=MIGRATIONS, revision="0013_monitoring")
        assert not TABLES & set(inspect(db.engine).get_table_names())
        upgrade(directory=MIGRATIONS, revision="0016_referrals_transfer")
        assert set(inspect(db.engine).get_table_names()) >= TABLES
        downgrade(directory=MIGRATIONS, revision="0013_monitoring")
        assert not TABLES & set(inspect(db.engine).get_table_names())
        upgrade(directory=MIGRATIONS, revision="0016_referrals_transfer")
        assert set(inspect(db.engine).get_table_names()) >= TABLES


def test_the_referral_models_and_the_migration_agree(app_ctx):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert [d for d in diff if any(table in repr(d) for table in TABLES)] == []
