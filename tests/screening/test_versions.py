"""Instrument versions 1.1 (issue 8): same questions as 1.0, new rules; open sittings move to them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from app.extensions import db
from app.screening.services import registry
from tests.migration_support import MIGRATIONS, scratch_app

SHIPPED = ("asq", "gad-7", "k6", "phq-a", "psc-17-p", "psc-17-y", "rses", "who-5")


@pytest.mark.parametrize("instrument_id", SHIPPED)
def test_version_1_1_asks_the_same_questions_as_1_0(app_ctx, instrument_id):
    """So that a draft begun on 1.0 stays valid on 1.1 (migration 0010 moves open sittings)."""
    old, new = registry().get(instrument_id, "1.0"), registry().get(instrument_id, "1.1")
    assert [(i.id, sorted(i.values), i.enable_when) for i in old.items] == [
        (i.id, sorted(i.values), i.enable_when) for i in new.items]
    assert registry().get(instrument_id) is new  # new campaigns and paper forms use 1.1
    assert new.ref in {i.ref for i in registry().current()} and old.ref not in {i.ref for i in registry().current()}


def test_migration_0010_moves_open_sittings_and_campaigns_only(tmp_path):
    from flask_migrate import downgrade, upgrade

    from app.core.models import utcnow

    with scratch_app(f"sqlite:///{tmp_path / 'm.db'}"):
        upgrade(directory=MIGRATIONS, revision="0009_outcomes_encrypted")
        later, earlier = utcnow() + timedelta(days=3), utcnow() - timedelta(days=3)
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO regions (id, name_kk, name_ru) VALUES (1, 'r', 'r')"))
            conn.execute(text("INSERT INTO districts (id, region_id, name_kk, name_ru) VALUES (1, 1, 'd', 'd')"))
            conn.execute(text("INSERT INTO schools (id, district_id, name_kk, name_ru, default_language) "
                              "VALUES (1, 1, 's', 's', 'kk')"))
            conn.execute(text("INSERT INTO users (id, uuid, username, password_hash, active, created_at) "
                              "VALUES (1, 'u', 'psy', 'x', 1, '2026-01-01')"))
            conn.execute(text(
                "INSERT INTO pupils (id, uuid, school_id, last_name_ct, first_name_ct, name_bidx, birth_date, sex, "
                "active, created_at) VALUES (7, 'p-7', 1, x'00', x'00', x'00', '2012-01-01', 'female', 1, "
                "'2026-01-01')"))
            for cid, closes in ((1, later), (2, earlier)):
                conn.execute(text(
                    "INSERT INTO screening_campaigns (id, uuid, school_id, title, instrument_refs, opens_at, "
                    "closes_at, mode, created_by_id, created_at) VALUES (:id, :uuid, 1, 't', :refs, :opens, "
                    ":closes, 'online', 1, '2026-01-01')"),
                    {"id": cid, "uuid": f"c-{cid}", "refs": '["asq@1.0", "local:1:mood@1.0"]',
                     "opens": earlier - timedelta(days=1), "closes": closes})
            for sid, status in ((1, "issued"), (2, "in_progress"), (3, "completed"), (4, "expired")):
                conn.execute(text(
                    "INSERT INTO screening_sessions (id, uuid, campaign_id, pupil_id, school_id, instrument_ref, "
                    "code_hash, code_expires_at, status, created_at) VALUES (:id, :uuid, 1, 7, 1, 'asq@1.0', "
                    ":hash, :exp, :status, '2026-01-01')"),
                    {"id": sid, "uuid": f"s-{sid}", "hash": bytes([sid]) * 32, "exp": later, "status": status})
        upgrade(directory=MIGRATIONS, revision="0010_instruments_1_1")

        def refs():
            with db.engine.connect() as conn:
                sessions = dict(conn.execute(text("SELECT id, instrument_ref FROM screening_sessions")).all())
                campaigns = dict(conn.execute(text("SELECT id, instrument_refs FROM screening_campaigns")).all())
            return sessions, campaigns

        sessions, campaigns = refs()
        assert sessions == {1: "asq@1.1", 2: "asq@1.1", 3: "asq@1.0", 4: "asq@1.0"}
        assert '"asq@1.1"' in campaigns[1] and "local:1:mood@1.0" in campaigns[1]  # local methods untouched
        assert '"asq@1.0"' in campaigns[2]  # a closed campaign keeps its version
        downgrade(directory=MIGRATIONS, revision="0009_outcomes_encrypted")
        sessions, campaigns = refs()
        assert set(sessions.values()) == {"asq@1.0"} and '"asq@1.0"' in campaigns[1]
