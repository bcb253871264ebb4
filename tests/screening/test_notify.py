"""E-mail on an acute or urgent alert: sent after the commit, never for a rolled-back alert, never with pupil
details, and a mail failure never touches the saved alert. A local fake SMTP server stands in for the relay."""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
from email import message_from_string, policy

import pytest
from sqlalchemy import create_engine, func, select

from app.core import audit
from app.core.audit import AuditAction
from app.extensions import db
from app.screening import services
from app.screening.models import Alert
from app.screening.selfservice import OpenSession
from tests.screening.test_workflow_alerts import _FakeSMTP
from tests.screening.workflow_support import ACUTE_ASQ, campaign, session_with_code

NON_ACUTE_ASQ = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 0}


class _Inbox(list):
    """The fake server's messages; on each one, also counts the alerts another connection can see."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.committed_alerts: list[int] = []

    def append(self, raw: str) -> None:
        parsed = message_from_string(raw, policy=policy.default)
        message = f"To: {parsed['To']}\nSubject: {parsed['Subject']}\n\n{parsed.get_content()}"
        engine = create_engine(self.url)
        try:
            with engine.connect() as connection:
                self.committed_alerts.append(connection.execute(select(func.count(Alert.id))).scalar_one())
        finally:
            engine.dispose()
        super().append(message)


@pytest.fixture
def smtp(app_ctx, world):
    world.psy1.email, world.psy2.email, world.psy3.email = "psy1@s1.example", "psy2@s1.example", "psy3@s2.example"
    world.psy1.preferred_language = world.psy2.preferred_language = "en"
    db.session.commit()
    server = socketserver.TCPServer(("127.0.0.1", 0), _FakeSMTP)
    server.messages = _Inbox(db.engine.url.render_as_string(hide_password=False))  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    app_ctx.config.update(SENIM_SMTP_HOST="127.0.0.1", SENIM_SMTP_PORT=server.server_address[1])
    try:
        yield server.messages  # type: ignore[attr-defined]
    finally:
        app_ctx.config.update(SENIM_SMTP_HOST="", SENIM_SMTP_PORT=25)
        server.shutdown()
        server.server_close()


def _session(world, language="ru"):
    return session_with_code(campaign(world.psy1, world.s1, [world.c7a]), world.p1, language=language)


def test_acute_alert_mails_the_schools_psychologists_after_the_commit(smtp, world):
    services.submit_result(actor=None, session=_session(world), answers=ACUTE_ASQ)
    assert len(smtp) == 1
    message = smtp[0]
    assert "psy1@s1.example" in message and "psy2@s1.example" in message and "psy3@s2.example" not in message
    assert "acute alert needs attention" in message and "/screening/alerts" in message
    for secret in (world.p1.first_name, world.p1.last_name, world.p1.uuid, "ASQ", "asq", world.c7a.label):
        assert secret not in message
    assert smtp.committed_alerts == [1]  # the alert was already visible to another connection


def test_answer_time_alert_mails_once(smtp, world):
    sess = _session(world, language="kk")
    for item, value in ACUTE_ASQ.items():
        services.save_answer(session=OpenSession.of(sess), item_id=item, value=value)
    assert len(smtp) == 1  # raised by the autosave of q5
    services.submit_result(actor=None, session=sess, answers=sess.draft)
    assert len(smtp) == 1  # the same alert: no second mail


def test_urgent_alert_says_today(smtp, world):
    services.submit_result(actor=None, session=_session(world), answers=NON_ACUTE_ASQ)
    assert len(smtp) == 1 and "urgent alert needs attention today" in smtp[0]


def test_routine_alert_sends_no_mail(smtp, world):
    services.submit_result(actor=None, session=_session(world), answers={"q1": 0, "q2": 0, "q3": 0})
    assert db.session.execute(select(Alert.severity)).scalars().all() == ["routine"]
    assert smtp == []


def test_no_mail_when_the_transaction_rolls_back(smtp, world, monkeypatch):
    sess = _session(world)
    real_record = audit.record

    def failing_submit_audit(actor, action, **kwargs):
        if action == AuditAction.SCREENING_SUBMIT:  # after the alert was flushed in the same transaction
            raise RuntimeError("audit down")
        return real_record(actor, action, **kwargs)

    monkeypatch.setattr(audit, "record", failing_submit_audit)
    with pytest.raises(RuntimeError):
        services.submit_result(actor=None, session=sess, answers=ACUTE_ASQ)
    monkeypatch.undo()
    assert db.session.execute(select(func.count(Alert.id))).scalar_one() == 0
    db.session.commit()  # a later, unrelated commit must not send the forgotten note either
    assert smtp == []


def test_mail_failure_never_touches_the_saved_alert(app_ctx, world, caplog):
    world.psy1.email = "psy1@s1.example"
    db.session.commit()
    with socket.socket() as probe:  # a port on which nothing listens: the connection is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app_ctx.config.update(SENIM_SMTP_HOST="127.0.0.1", SENIM_SMTP_PORT=port)
    try:
        with caplog.at_level(logging.WARNING):
            result = services.submit_result(actor=None, session=_session(world), answers=ACUTE_ASQ)
    finally:
        app_ctx.config.update(SENIM_SMTP_HOST="", SENIM_SMTP_PORT=25)
    db.session.expire_all()
    alert = db.session.execute(select(Alert)).scalar_one()
    assert alert.result_id == result.id and alert.severity == "acute"
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert str(alert.id) in logged and "failed" in logged
    assert "psy1@s1.example" not in logged and world.p1.first_name not in logged


def test_each_psychologist_is_written_to_in_their_language(smtp, world):
    world.psy1.preferred_language, world.psy2.preferred_language = "en", "ru"
    db.session.commit()
    services.submit_result(actor=None, session=_session(world), answers=ACUTE_ASQ)
    assert len(smtp) == 2
    assert sorted("psy1@s1.example" in m for m in smtp) == [False, True]


def test_nothing_is_sent_without_an_smtp_host(app_ctx, world, monkeypatch):
    from app.screening import notify

    monkeypatch.setattr(notify, "notify_raised", lambda pending: pytest.fail("no SMTP host: nothing to send"))
    services.submit_result(actor=None, session=_session(world), answers=ACUTE_ASQ)
    assert db.session.execute(select(func.count(Alert.id))).scalar_one() == 1
