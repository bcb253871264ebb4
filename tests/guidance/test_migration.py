"""Migration 0019 creates the guidance tables and drops them again; models and migrations agree."""

from __future__ import annotations

from tests.migration_support import assert_tables_come_and_go, model_drift

TABLES = {"guidance_articles", "guidance_article_versions", "guidance_recommendations"}


def test_migration_0019_up_and_down(tmp_path):
    assert_tables_come_and_go(f"sqlite:///{tmp_path / 'm.db'}",
                              before="0021_seminars", revision="0019_guidance", tables=TABLES)


def test_the_guidance_models_and_the_migration_agree(app_ctx):
    assert model_drift(*TABLES) == []
