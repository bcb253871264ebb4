"""Migration 0016 creates the referral, step and transfer tables and drops them again; models and migration agree."""

from __future__ import annotations

from tests.migration_support import assert_tables_come_and_go, model_drift

TABLES = {"case_referrals", "case_steps", "case_transfers"}


def test_migration_0016_up_and_down(tmp_path):
    assert_tables_come_and_go(f"sqlite:///{tmp_path / 'm.db'}",
                              before="0013_monitoring", revision="0016_referrals_transfer", tables=TABLES)


def test_the_referral_models_and_the_migration_agree(app_ctx):
    assert model_drift(*TABLES) == []
