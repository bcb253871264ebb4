"""``flask screening close-expired``: abandoned sessions are submitted (so submit-time alert rules fire) or
expired; idempotent and audited."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.core import mail
from app.core.audit import AuditAction, AuditEntry
from app.core.models import utcnow
from app.extensions import db
from app.screening import selfservice, services
from app.screening.expiry import close_expired
from app.screening.models import Alert, ScreeningResult, ScreeningSession
from app.screening.selfservice import OpenSession
from tests.screening.test_notify import smtp  # noqa: F401  (fixture)
from tests.screening.workflow_support import campaign, session_with_code

LATER = timedelta(days=8)  # past the test campaign's window of 7 days


def _closed_entries() -> list[AuditEntry]:
    return list(db.session.execute(select(AuditEntry).where(
        AuditEntry.action == str(AuditAction.SCREENING_SESSION_CLOSED))).scalars())


def _answered(world, answers: dict, code: str = "ABCD-2345") -> ScreeningSession:
    camp = campaign(world.psy1, world.s1, [world.c7a])
    sess = session_with_code(camp, world.p1, code=code, language="ru")
    for item, value in answers.items():
        services.save_answer(session=OpenSession.of(sess), item_id=item, value=value)
    return sess


def test_abandoned_positive_screen_is_submitted_and_raises_the_acute_alert(world):
    sess = _answered(world, {"q1": 1, "q2": 0})  # positive, then the pupil walked away before q5
    assert db.session.execute(select(func.count(Alert.id))).scalar_one() == 0  # nothing fires on answer
    closed = close_expired(utcnow() + LATER)
    assert (closed.submitted, closed.expired) == (1, 0)
    result = db.session.execute(select(ScreeningResult)).scalar_one()
    assert result.session_id == sess.id
    assert {k: v for k, v in result.answers.items() if v is not None} == {"q1": 1, "q2": 0}
    alert = db.session.execute(select(Alert)).scalar_one()
    assert (alert.rule_id, alert.severity, alert.result_id) == ("asq.positive_acuity_unknown", "acute", result.id)
    db.session.expire_all()
    sess = db.session.get(ScreeningSession, sess.id)
    assert sess.status == "completed" and sess.draft_ct is None
    [entry] = _closed_entries()
    assert entry.object_id == sess.uuid and entry.pupil_id == world.p1.id and entry.actor_id is None
    assert '"submitted": true' in entry.details and '"answered": 2' in entry.details


def test_session_without_answers_is_expired_without_a_result(world):
    camp = campaign(world.psy1, world.s1, [world.c7a])
    sess = session_with_code(camp, world.p1, code="ABCD-2345")
    camp.closes_at = utcnow() - timedelta(minutes=1)  # closed early; the code itself would still be valid
    db.session.commit()
    closed = close_expired()
    assert (closed.submitted, closed.expired) == (0, 1)
    assert db.session.execute(select(func.count(ScreeningResult.id))).scalar_one() == 0
    db.session.expire_all()
    sess = db.session.get(ScreeningSession, sess.id)
    assert sess.status == "expired" and sess.code_expires_at <= utcnow()
    assert selfservice.open_by_code(code="ABCD-2345", ip="127.0.0.9", device="d") is None  # the code no longer works
    [entry] = _closed_entries()
    assert '"submitted": false' in entry.details and '"reason": "no_answers"' in entry.details


def test_open_sessions_are_left_alone_and_a_second_run_does_nothing(world):
    sess = _answered(world, {"q1": 0})
    assert close_expired().total == 0  # code valid, campaign open: the pupil may still come back
    assert db.session.get(ScreeningSession, sess.id).status == "in_progress"
    assert close_expired(utcnow() + LATER).total == 1
    assert close_expired(utcnow() + LATER).total == 0
    assert len(_closed_entries()) == 1
    assert db.session.execute(select(func.count(ScreeningResult.id))).scalar_one() == 1


def test_completed_sessions_are_not_touched(world):
    sess = _answered(world, {"q1": 0, "q2": 0, "q3": 0, "q4": 0})
    services.submit_result(actor=None, session=sess, answers=sess.draft)
    assert close_expired(utcnow() + LATER).total == 0
    assert _closed_entries() == []


def test_cli_close_expired(app_ctx, world):
    sess = _answered(world, {"q1": 1})
    sess.code_expires_at = utcnow() - timedelta(minutes=1)
    session_with_code(sess.campaign, world.p2, code="WXYZ-6789").code_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    output = app_ctx.test_cli_runner().invoke(args=["screening", "close-expired"])
    assert output.exit_code == 0, output.output
    assert "closed 2 session(s): 1 submitted, 1 expired" in output.output
    output = app_ctx.test_cli_runner().invoke(args=["screening", "close-expired"])
    assert "closed 0 session(s)" in output.output


def test_acute_alert_from_the_cron_run_is_e_mailed(smtp, world, app_ctx, monkeypatch):  # noqa: F811  (fixture)
    _answered(world, {"q1": 1})
    monkeypatch.setitem(app_ctx.config, "SENIM_BASE_URL", "https://senim.example.kz/")
    close_expired(utcnow() + LATER)  # queues the mail with the alert; `flask screening close-expired` sends it
    assert mail.deliver_due().sent == 1
    assert len(smtp.messages) == 1 and "acute alert needs attention" in smtp.messages[0]
    assert "https://senim.example.kz/screening/alerts" in smtp.messages[0]


def test_a_draft_that_no_longer_scores_is_expired_not_retried(world, monkeypatch):
    from app.screening import expiry
    from app.screening.scoring import ScoringInputError

    sess = _answered(world, {"q1": 1})

    def unscorable(**_kwargs):
        raise ScoringInputError("changed instrument")

    monkeypatch.setattr(expiry, "submit_result", unscorable)
    closed = close_expired(utcnow() + LATER)
    assert (closed.submitted, closed.expired) == (0, 1)
    db.session.expire_all()
    assert db.session.get(ScreeningSession, sess.id).status == "expired"
    assert db.session.execute(select(func.count(ScreeningResult.id))).scalar_one() == 0
    assert ['"reason": "not_scorable"' in e.details for e in _closed_entries()] == [True]
    assert close_expired(utcnow() + LATER).total == 0
