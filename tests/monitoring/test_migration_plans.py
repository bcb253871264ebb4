"""Migration 0015 creates the tables of plans, follow-ups and contacts with parents and drops them again; models
and migrations agree."""

from __future__ import annotations

from sqlalchemy import inspect

from app.extensions import db
from tests.migration_support import MIGRATIONS, scratch_app

TABLES = {"safety_plans", "safety_plan_versions", "support_plans", "support_actions", "plan_reviews",
          "followup_settings", "followups", "parent_contacts"}


def test_migration_0015_up_and_down(tmp_path):
    from flask_migrate import downgrade, upgrade

    with scratch_app(f"sqlite:///{tmp_path / 'm.db'}"):
        upgrade(directory=MIGRATIONS, revision="0016_referrals_transfer")
        assert not TABLES & set(inspect(db.engine).get_table_names())
        upgrade(directory=MIGRATIONS, revision="0015_plans_followups")
        assert set(inspect(db.engine).get_table_names()) >= TABLES
        uniques = {u["name"] for u in inspect(db.engine).get_unique_constraints("safety_plans")}
        assert "uq_safety_plans_case_id" in uniques
        downgrade(directory=MIGRATIONS, revision="0016_referrals_transfer")
        assert not TABLES & set(inspect(db.engine).get_table_names())
        assert "monitoring_cases" in inspect(db.engine).get_table_names()
        upgrade(directory=MIGRATIONS, revision="0015_plans_followups")
        assert set(inspect(db.engine).get_table_names()) >= TABLES


def test_the_plan_models_and_the_migration_agree(app_ctx):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert [d for d in diff if any(table in repr(d) for table in TABLES)] == []
