"""submit_result and autosave: one transaction, alerts never lost, answers encrypted at rest."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from app.core import audit
from app.core.audit import AuditAction, AuditEntry
from app.extensions import db
from app.screening import services
from app.screening.campaigns import NoValidConsent, issue_codes
from app.screening.models import Alert, ScreeningResult, ScreeningSession
from app.screening.selfservice import OpenSession
from tests.screening.workflow_support import ACUTE_ASQ, NEGATIVE_ASQ, campaign, consent, session_with_code


def _count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_critical_answer_raises_alert_in_same_commit(world, app):
    camp = campaign(world.psy1, world.s1, [world.c7a])
    sess = session_with_code(camp, world.p1, language="ru")
    result = services.submit_result(actor=None, session=sess, answers=ACUTE_ASQ)
    db.session.expire_all()
    alerts = result.alerts
    assert {a.rule_id for a in alerts} == {"asq.acute"}
    deadline = alerts[0].raised_at + app.config["SENIM_ALERT_DEADLINES"]["acute"]
    assert alerts[0].severity == "acute" and deadline <= alerts[0].due_at < deadline + timedelta(minutes=5)
    assert result.flag_level == 3
    actions = set(db.session.execute(select(AuditEntry.action)).scalars())
    assert {str(AuditAction.SCREENING_SUBMIT), str(AuditAction.ALERT_RAISED)} <= actions


def test_failure_after_scoring_saves_nothing(world, monkeypatch):
    camp = campaign(world.psy1, world.s1, [world.c7a])
    sess = session_with_code(camp, world.p1, language="ru")

    def boom(*args, **kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr(audit, "record", boom)
    with pytest.raises(RuntimeError):
        services.submit_result(actor=None, session=sess, answers=ACUTE_ASQ)
    assert _count(ScreeningResult) == 0
    assert _count(Alert) == 0
    assert db.session.get(ScreeningSession, sess.id).status == "issued"


def test_autosave_raises_on_answer_alert_and_submit_does_not_duplicate(world):
    camp = campaign(world.psy1, world.s1, [world.c7a])
    sess = session_with_code(camp, world.p1, language="kk")
    for item, value in ACUTE_ASQ.items():
        services.save_answer(session=OpenSession.of(sess), item_id=item, value=value)
    assert [a.rule_id for a in db.session.execute(select(Alert)).scalars()] == ["asq.acute"]
    result = services.submit_result(actor=None, session=sess, answers=sess.draft)
    alerts = db.session.execute(select(Alert)).scalars().all()
    assert len(alerts) == 1 and alerts[0].result_id == result.id


def test_answers_not_plaintext_in_database(world):
    camp = campaign(world.psy1, world.s1, [world.c7a])
    sess = session_with_code(camp, world.p1, language="ru")
    services.save_answer(session=OpenSession.of(sess), item_id="q1", value=1)
    raw_draft = db.session.execute(text("SELECT draft_ct FROM screening_sessions")).scalar_one()
    assert b"q1" not in bytes(raw_draft)
    result = services.submit_result(actor=None, session=sess, answers=NEGATIVE_ASQ)
    row = db.session.execute(text("SELECT answers_ct, scores_ct FROM screening_results")).one()
    for blob in row:
        assert b"q1" not in bytes(blob) and b"scales" not in bytes(blob)
    assert result.answers["q1"] == 0


def test_codes_only_for_consented_pupils(world):
    camp = campaign(world.psy1, world.s1, [world.c7a, world.c8b])
    with pytest.raises(NoValidConsent):
        issue_codes(actor=world.psy1, campaign=camp, pupils=[world.p1])
    consent(world.p1)
    consent(world.p2, withdrawn=True)
    with pytest.raises(NoValidConsent):
        issue_codes(actor=world.psy1, campaign=camp, pupils=[world.p1, world.p2])
    db.session.rollback()
    issued = issue_codes(actor=world.psy1, campaign=camp, pupils=[world.p1]).codes
    assert len(issued) == 1 and len(issued[0][2]) == 9
    stored = db.session.execute(select(ScreeningSession.code_hash)).scalar_one()
    assert issued[0][2].encode() not in stored


def test_alert_deadlines(app_ctx):
    from datetime import UTC, datetime

    noon = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)  # 12:00 in Almaty (UTC+5)
    assert services.alert_due_at("acute", noon) == noon + timedelta(minutes=15)  # SENIM_ALERT_DEADLINES
    assert services.alert_due_at("urgent", noon) == datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
    late = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)  # 20:00 local: next day's end
    assert services.alert_due_at("urgent", late) == datetime(2026, 11, 27, 13, 0, tzinfo=UTC)
