"""Migration 0021 creates the seminar tables and drops them again; models and migrations agree."""

from __future__ import annotations

from tests.migration_support import assert_tables_come_and_go, model_drift

TABLES = {"seminars", "seminar_registrations"}


def test_migration_0021_up_and_down(tmp_path):
    assert_tables_come_and_go(f"sqlite:///{tmp_path / 'm.db'}",
                              before="0018_help", revision="0021_seminars", tables=TABLES)


def test_the_seminar_models_and_the_migration_agree(app_ctx):
    assert model_drift(*TABLES) == []
