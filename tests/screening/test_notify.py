"""E-mail on an acute or urgent alert: queued in the alert's own transaction (never for a rolled-back alert, never
with pupil details), sent after the commit outside the pupil's request, and kept for a retry when the SMTP server
is down. A local fake SMTP server stands in for the relay (tests/core/fake_smtp.py)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, func, select, text, update

from app.core import audit, mail
from app.core.audit import AuditAction
from app.core.mail import OutboxMessage
from app.core.models import utcnow
from app.extensions import db
from app.screening import services
from app.screening.models import Alert
from app.screening.selfservice import OpenSession
from tests.core.fake_smtp import PATIENCE, FakeSMTP, smtp_down
from tests.factories import post
from tests.screening.test_answer_cost import EXPECTED, _start, _statements_for_answer
from tests.screening.workflow_support import ACUTE_ASQ, campaign, session_with_code

NON_ACUTE_ASQ = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 0}


def _psychologists_have_addresses(world) -> None:
    world.psy1.email, world.psy2.email, world.psy3.email = "psy1@s1.example", "psy2@s1.example", "psy3@s2.example"
    world.psy1.preferred_language = world.psy2.preferred_language = "en"
    db.session.commit()


@pytest.fixture
def smtp(app_ctx, world):
    """The relay's messages; each one also notes how many alerts another connection could see as it arrived."""
    _psychologists_have_addresses(world)
    relay = FakeSMTP()
    url = db.engine.url

    def count_committed_alerts(_message: str) -> None:
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                relay.committed_alerts.append(connection.execute(select(func.count(Alert.id))).scalar_one())
        finally:
            engine.dispose()

    relay.committed_alerts = []  # type: ignore[attr-defined]
    relay.on_message = count_committed_alerts
    with relay.running(app_ctx):
        yield relay


def _session(world, language="ru"):
    return session_with_code(campaign(world.psy1, world.s1, [world.c7a]), world.p1, language=language)


def _outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def test_an_acute_alert_queues_mail_in_its_transaction_and_it_is_sent_after_the_commit(smtp, world):
    services.submit_result(actor=None, session=_session(world), answers=ACUTE_ASQ)
    (row,) = _outbox()
    assert json.loads(row.recipients) == ["psy1@s1.example", "psy2@s1.example"] and row.language == "en"
    assert row.subject == "Senim: an acute alert needs attention now" and "/screening/alerts" in row.body
    assert row.sent_at is None and smtp.messages == []  # queued, not sent inside the transaction
    assert mail.deliver_due().sent == 1
    (message,) = smtp.messages
    assert "psy1@s1.example" in message and "psy2@s1.example" in message and "psy3@s2.example" not in message
    assert "acute alert needs attention" in message and "/screening/alerts" in message
    for secret in (world.p1.first_name, world.p1.last_name, world.p1.uuid, "ASQ", "asq", world.c7a.label):
        assert secret not in message
    assert smtp.committed_alerts == [1]  # the alert was already visible to another connection
    assert _outbox()[0].sent_at is not None


def test_no_row_holds_pupil_details(smtp, world):
    services.submit_result(actor=None, session=_session(world), answers=ACUTE_ASQ)
    services.submit_result(actor=None, session=session_with_code(
        campaign(world.psy1, world.s1, [world.c8b]), world.p2, code="EFGH-2345", language="kk"), answers=ACUTE_ASQ)
    rows = db.session.execute(text("SELECT * FROM mail_outbox")).all()
    assert len(rows) == 2
    # Ciphertext as hex: the repr of random bytes would hold "q5" now and then by chance.
    raw = " ".join(value.hex() if isinstance(value, bytes | memoryview) else str(value)
                   for row in rows for value in row)
    for pupil, group in ((world.p1, world.c7a), (world.p2, world.c8b)):
        for secret in (pupil.first_name, pupil.last_name, pupil.uuid, group.label):
            assert secret not in raw
    for secret in ("ASQ", "asq", "q5"):
        assert secret not in raw


def test_answer_time_alert_queues_mail_once(smtp, world):
    sess = _session(world, language="kk")
    for item, value in ACUTE_ASQ.items():
        services.save_answer(session=OpenSession.of(sess), item_id=item, value=value)
    assert len(_outbox()) == 1  # raised by the autosave of q5
    services.submit_result(actor=None, session=sess, answers=sess.draft)
    assert len(_outbox()) == 1  # the same alert: no second mail
    assert mail.deliver_due().sent == 1 and len(smtp.messages) == 1


def test_urgent_alert_says_today(smtp, world):
    services.submit_result(actor=None, session=_session(world), answers=NON_ACUTE_ASQ)
    mail.deliver_due()
    assert len(smtp.messages) == 1 and "urgent alert needs attention today" in smtp.messages[0]


def test_routine_alert_queues_no_mail(smtp, world):
    services.submit_result(actor=None, session=_session(world), answers={"q1": 0, "q2": 0, "q3": 0})
    assert [a.severity for a in db.session.execute(select(Alert)).scalars()] == ["routine"]
    assert _outbox() == []


def test_a_rolled_back_alert_queues_no_mail(smtp, world, monkeypatch):
    sess = _session(world)
    real_record = audit.record

    def failing_submit_audit(actor, action, **kwargs):
        if action == AuditAction.SCREENING_SUBMIT:  # after the alert and its mail were added to the transaction
            raise RuntimeError("audit down")
        return real_record(actor, action, **kwargs)

    monkeypatch.setattr(audit, "record", failing_submit_audit)
    with pytest.raises(RuntimeError):
        services.submit_result(actor=None, session=sess, answers=ACUTE_ASQ)
    monkeypatch.undo()
    assert db.session.execute(select(func.count(Alert.id))).scalar_one() == 0
    db.session.commit()  # a later, unrelated commit must not bring the forgotten mail back
    assert _outbox() == []
    assert mail.deliver_due().sent == 0 and smtp.messages == []


def test_each_psychologist_is_written_to_in_their_language(smtp, world):
    world.psy1.preferred_language, world.psy2.preferred_language = "en", "ru"
    db.session.commit()
    services.submit_result(actor=None, session=_session(world), answers=ACUTE_ASQ)
    assert [(json.loads(r.recipients), r.language) for r in _outbox()] == [
        (["psy1@s1.example"], "en"), (["psy2@s1.example"], "ru")]
    assert mail.deliver_due().sent == 2
    assert sorted("psy1@s1.example" in m for m in smtp.messages) == [False, True]


def test_nothing_is_queued_without_an_smtp_host(app_ctx, world):
    _psychologists_have_addresses(world)
    services.submit_result(actor=None, session=_session(world), answers=ACUTE_ASQ)
    assert db.session.execute(select(func.count(Alert.id))).scalar_one() == 1
    assert _outbox() == []


def test_an_answer_without_alert_costs_no_statement_more_when_mail_is_configured(smtp, client, world):
    _start(client, world)
    _statements_for_answer(client, 1, 0)  # warm
    assert _statements_for_answer(client, 2, 0) == EXPECTED[db.engine.dialect.name]
    assert _outbox() == []


def _pupil_answers_acute(client, world) -> None:
    """The pupil's own requests, through to the end: q5 "yes" raises the acute alert as it is saved."""
    _start(client, world)
    for n, value in enumerate(ACUTE_ASQ.values(), start=1):
        response = post(client, f"/s/q?n={n}", {"answer": str(value)}, form_page=f"/s/q?n={n}")
        assert response.status_code == 302, n
    assert response.headers["Location"].endswith("/s/done")


def test_the_pupils_request_does_not_wait_for_a_slow_smtp_server(smtp, client, world, app_ctx, monkeypatch):
    monkeypatch.setitem(app_ctx.config, "SENIM_MAIL_DELIVERY", "background")
    smtp.gate.clear()  # the relay accepts connections but does not answer
    _pupil_answers_acute(client, world)  # every response came back while the relay was silent
    smtp.wait_for_connections(1)  # the delivery thread is talking to the relay right now
    assert smtp.messages == []
    assert [(r.attempts, r.sent_at) for r in _outbox()] == [(1, None)]  # claimed by the thread, not sent yet
    smtp.gate.set()
    mail.wait_for_delivery(app_ctx, PATIENCE)
    assert len(smtp.messages) == 1 and "acute alert needs attention" in smtp.messages[0]
    assert "http://localhost/screening/alerts" in smtp.messages[0]  # the request's host, kept in the row
    assert _outbox()[0].sent_at is not None


def test_smtp_down_keeps_the_mail_queued_and_flask_mail_send_delivers_it_later(smtp, client, world, app_ctx,
                                                                                 monkeypatch):
    monkeypatch.setitem(app_ctx.config, "SENIM_MAIL_DELIVERY", "background")
    with smtp_down(app_ctx):
        _pupil_answers_acute(client, world)
        mail.wait_for_delivery(app_ctx, PATIENCE)
    alert = db.session.execute(select(Alert)).scalar_one()
    assert alert.severity == "acute" and alert.result_id is not None  # the alert and the result are saved
    (row,) = _outbox()
    assert (row.attempts, row.sent_at) == (1, None) and row.last_error == "ConnectionRefusedError: Connection refused"
    assert row.next_attempt_at > utcnow()
    db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))  # a minute later
    db.session.commit()
    result = app_ctx.test_cli_runner().invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output and len(smtp.messages) == 1
    assert (_outbox()[0].attempts, _outbox()[0].last_error) == (2, "ConnectionRefusedError: Connection refused")
    assert _outbox()[0].sent_at is not None


def test_a_broken_translation_never_costs_the_alert(smtp, world, monkeypatch):
    from flask_babel import get_locale

    from app.screening import notify

    real_ngettext = notify.ngettext

    def broken_outside_english(*args, **kwargs):
        if str(get_locale()) != "en":
            raise KeyError("num")  # e.g. a translated "%(nm)d"
        return real_ngettext(*args, **kwargs)

    world.psy1.preferred_language = world.psy2.preferred_language = "ru"
    db.session.commit()
    monkeypatch.setattr(notify, "ngettext", broken_outside_english)
    services.submit_result(actor=None, session=_session(world), answers=ACUTE_ASQ)
    assert db.session.execute(select(func.count(Alert.id))).scalar_one() == 1
    (row,) = _outbox()
    assert json.loads(row.recipients) == ["psy1@s1.example", "psy2@s1.example"] and row.language == "en"
    assert "acute screening alert at your school needs attention now" in row.body
