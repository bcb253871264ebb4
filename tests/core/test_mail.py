"""The mail outbox: rows commit and roll back with their transaction, senders claim rows (never one twice), a
failure is kept and retried with backoff, the outbox gives up after N attempts, and `flask mail` reports it."""

from __future__ import annotations

import smtplib
import threading
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, inspect, select, text, update

from app.core import mail
from app.core.mail import OutboxMessage
from app.core.models import utcnow
from app.extensions import db
from tests.core.fake_smtp import PATIENCE, FakeSMTP, smtp_down
from tests.migration_support import MIGRATIONS, scratch_app


@pytest.fixture
def relay(app_ctx):
    with FakeSMTP().running(app_ctx) as server:
        yield server


def _queue(n: int = 1, *, subject: str = "Senim: test") -> list[int]:
    messages = [mail.queue(recipients=["psy@school.example"], subject=f"{subject} {i}", body="Open the inbox.\n",
                           language="en") for i in range(n)]
    db.session.commit()
    return [m.id for m in messages]


def _rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def _cli(app, *args: str):
    return app.test_cli_runner().invoke(args=["mail", *args])


def test_a_queued_message_commits_and_rolls_back_with_its_transaction(app_ctx):
    mail.queue(recipients=["psy@school.example"], subject="s", body="b", language="kk")
    db.session.rollback()
    assert _rows() == []
    (message_id,) = _queue()
    (row,) = _rows()
    assert (row.id, row.attempts, row.sent_at, row.last_error, row.language) == (message_id, 0, None, None, "en")
    assert row.next_attempt_at <= utcnow()


def test_due_messages_are_sent_once_and_marked_sent(relay):
    _queue(2)
    done = mail.deliver_due()
    assert (done.sent, done.failed, done.gave_up, done.stopped) == (2, 0, [], False)
    assert sorted(m.splitlines()[1] for m in relay.messages) == ["Subject: Senim: test 0", "Subject: Senim: test 1"]
    assert all("To: psy@school.example" in m for m in relay.messages)
    assert all(r.sent_at is not None and r.attempts == 1 and r.last_error is None for r in _rows())
    assert mail.deliver_due().sent == 0 and len(relay.messages) == 2


def test_nothing_is_sent_without_an_smtp_host(app_ctx):
    _queue()
    assert mail.deliver_due().sent == 0
    assert _rows()[0].attempts == 0


def test_a_down_server_leaves_the_row_queued_with_its_error_and_a_backoff(app_ctx, relay):
    first, second = _queue(2)
    with smtp_down(app_ctx):
        done = mail.deliver_due()
    assert (done.sent, done.failed, done.stopped) == (0, 1, True)  # unreachable: the run stops at once
    failed, untouched = _rows()
    assert failed.id == first and failed.attempts == 1 and failed.sent_at is None
    assert failed.last_error == "ConnectionRefusedError: Connection refused"
    assert failed.next_attempt_at >= utcnow() + timedelta(seconds=50)  # first retry a minute later
    assert untouched.id == second and untouched.attempts == 0 and untouched.last_error is None
    app_ctx.config.update(SENIM_SMTP_HOST="127.0.0.1", SENIM_SMTP_PORT=relay.port)
    done = mail.deliver_due()  # the failed row is not due yet; the other one is
    assert done.sent == 1 and [r.sent_at is not None for r in _rows()] == [False, True]
    done = mail.deliver_due(utcnow() + timedelta(minutes=2))
    assert done.sent == 1 and all(r.sent_at is not None for r in _rows()) and len(relay.messages) == 2
    assert _rows()[0].attempts == 2


def test_backoff_doubles_up_to_an_hour():
    assert [mail.backoff(n).total_seconds() / 60 for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_a_message_refused_by_the_server_does_not_stop_the_others(relay, monkeypatch):
    first, second = _queue(2)
    real_send = mail.send_mail

    def refuse_first(recipients, subject, body):
        if subject.endswith(" 0"):
            raise smtplib.SMTPRecipientsRefused({"psy@school.example": (550, b"psy@school.example: no such user")})
        real_send(recipients, subject, body)

    monkeypatch.setattr(mail, "send_mail", refuse_first)
    done = mail.deliver_due()
    assert (done.sent, done.failed, done.stopped) == (1, 1, False)
    refused, sent = _rows()
    assert (refused.id, sent.id) == (first, second)
    assert refused.last_error == "SMTPRecipientsRefused 550" and "@" not in refused.last_error
    assert sent.sent_at is not None


def test_failures_are_kept_without_addresses_or_text():
    assert mail.describe(smtplib.SMTPDataError(554, b"rejected: psy@school.example")) == "SMTPDataError 554"
    assert mail.describe(smtplib.SMTPServerDisconnected("psy@school.example")) == "SMTPServerDisconnected"
    assert mail.describe(TimeoutError()) == "TimeoutError"
    assert mail.unreachable(ConnectionRefusedError()) and mail.unreachable(smtplib.SMTPServerDisconnected())
    assert not mail.unreachable(smtplib.SMTPDataError(554, b"no")) and not mail.unreachable(UnicodeEncodeError(
        "ascii", "ы", 0, 1, "no"))


def test_the_outbox_gives_up_after_n_attempts_and_the_cli_reports_it(app_ctx, relay, monkeypatch):
    monkeypatch.setitem(app_ctx.config, "SENIM_MAIL_MAX_ATTEMPTS", 3)
    (message_id,) = _queue()
    later = utcnow()
    with smtp_down(app_ctx):
        for attempt in (1, 2, 3):
            later += timedelta(hours=2)
            done = mail.deliver_due(later)
            assert done.gave_up == ([message_id] if attempt == 3 else []) and done.failed == (attempt < 3)
        assert mail.deliver_due(later + timedelta(days=1)).failed == 0  # given up: not tried again
        result = _cli(app_ctx, "send")
    assert result.exit_code == 1
    assert "gave up on 0" in result.output and "0 message(s) failing, 1 given up" in result.output
    assert f"mail {message_id}: " in result.output and "3 attempt(s), given up: ConnectionRefusedError" in result.output
    status = _cli(app_ctx, "status")
    assert status.exit_code == 0 and "waiting 0, failing 0, given up 1 (after 3 attempts)" in status.output
    assert "psy@school.example" not in result.output + status.output  # ids and error types only
    assert _cli(app_ctx, "send").exit_code == 1  # still given up: still reported
    assert "queued 1 given-up message(s) again" in _cli(app_ctx, "retry").output
    result = _cli(app_ctx, "send")
    assert result.exit_code == 0, result.output
    assert "sent 1, failed 0" in result.output and len(relay.messages) == 1


def test_given_up_mail_can_be_discarded(app_ctx, monkeypatch):
    monkeypatch.setitem(app_ctx.config, "SENIM_MAIL_MAX_ATTEMPTS", 1)
    _queue()
    with smtp_down(app_ctx):
        assert len(mail.deliver_due().gave_up) == 1
        assert _cli(app_ctx, "send").exit_code == 1
        assert "deleted 1 given-up message(s)" in _cli(app_ctx, "discard").output
        assert _cli(app_ctx, "send").exit_code == 0
    assert _rows() == []


def test_cli_send_delivers_what_a_failure_left_and_purges_old_sent_mail(app_ctx, relay):
    old, waiting = _queue(2)
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == old)
                       .values(sent_at=utcnow() - timedelta(days=31)))
    db.session.commit()
    result = _cli(app_ctx, "send")
    assert result.exit_code == 0, result.output
    assert "sent 1, failed 0 (retried later), gave up on 0, deleted 1 sent more than 30 days ago" in result.output
    assert [(r.id, r.sent_at is not None) for r in _rows()] == [(waiting, True)]
    status = _cli(app_ctx, "status").output
    assert "SMTP host: configured" in status and "sent 1 (last 20" in status and "waiting 0" in status


def test_cli_send_without_an_smtp_host(app_ctx):
    result = _cli(app_ctx, "send")
    assert result.exit_code == 0 and "SENIM_SMTP_HOST is not set: nothing sent, 0 message(s) unsent" in result.output
    _queue()
    result = _cli(app_ctx, "send")
    assert result.exit_code == 1 and "1 message(s) unsent" in result.output
    assert "not set" in _cli(app_ctx, "status").output


def _sender(app, errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        with app.app_context():
            try:
                mail.deliver_due()
            except BaseException as exc:  # reported to the test thread
                errors.append(exc)
            finally:
                db.session.remove()

    return threading.Thread(target=run, daemon=True)


def test_two_concurrent_senders_never_send_the_same_row(app_ctx, relay):
    _queue(4)
    relay.gate.clear()  # the relay holds each sender once it has claimed a row and connected
    errors: list[BaseException] = []
    senders = [_sender(app_ctx, errors), _sender(app_ctx, errors)]
    for sender in senders:
        sender.start()
    relay.wait_for_connections(2)  # both are sending at the same time, each its own claimed row
    relay.gate.set()
    for sender in senders:
        sender.join(PATIENCE)
    assert errors == [] and not any(s.is_alive() for s in senders)
    assert sorted(m.splitlines()[1] for m in relay.messages) == [f"Subject: Senim: test {i}" for i in range(4)]
    assert [(r.attempts, r.sent_at is not None) for r in _rows()] == [(1, True)] * 4


@pytest.mark.postgres_only
def test_a_sender_skips_a_row_another_sender_has_locked(app_ctx, relay):
    locked, *others = _queue(3)
    engine = create_engine(db.engine.url)
    try:
        with engine.connect() as other:
            other.execute(text("SELECT id FROM mail_outbox WHERE id = :id FOR UPDATE"), {"id": locked})
            errors: list[BaseException] = []
            sender = _sender(app_ctx, errors)
            sender.start()
            sender.join(PATIENCE)  # SKIP LOCKED: it does not wait for the other transaction
            assert not sender.is_alive() and errors == []
            other.rollback()
    finally:
        engine.dispose()
    assert [(r.id, r.attempts, r.sent_at is not None) for r in _rows()] == [
        (locked, 0, False), (others[0], 1, True), (others[1], 1, True)]


def test_one_delivery_thread_per_process_takes_mail_queued_while_it_runs(app_ctx, relay):
    _queue(1, subject="first")
    relay.gate.clear()
    thread = mail.start_delivery(app_ctx)
    relay.wait_for_connections(1)
    _queue(1, subject="second")  # queued after the running thread's run began: not due for that run
    assert mail.start_delivery(app_ctx) is thread  # no second thread: the running one goes on
    relay.gate.set()
    mail.wait_for_delivery(app_ctx, PATIENCE)
    assert not thread.is_alive()
    assert sorted(m.splitlines()[1] for m in relay.messages) == ["Subject: first 0", "Subject: second 0"]
    assert mail.start_delivery(app_ctx) is not thread  # the finished thread is replaced
    mail.wait_for_delivery(app_ctx, PATIENCE)


def test_status_counts(app_ctx):
    _waiting, failing, given_up, sent = _queue(4)
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == failing).values(attempts=1, last_error="x"))
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == given_up).values(attempts=8, last_error="x"))
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == sent).values(attempts=1, sent_at=utcnow()))
    db.session.commit()
    state = mail.state()
    assert (state.sent, state.waiting, state.failing, state.given_up) == (1, 1, 1, 1)
    assert state.oldest_unsent is not None and state.last_sent is not None and state.last_sent.tzinfo is not None
    assert [m.id for m in mail.unsent_failures()] == [failing, given_up]


def test_migration_creates_and_drops_the_outbox(tmp_path):
    from flask_migrate import downgrade, upgrade

    migrations = MIGRATIONS
    with scratch_app(f"sqlite:///{tmp_path / 'm.db'}"):
        upgrade(directory=migrations)
        assert "mail_outbox" in inspect(db.engine).get_table_names()
        downgrade(directory=migrations, revision="0005_audit_link_hash")
        assert "mail_outbox" not in inspect(db.engine).get_table_names()
        upgrade(directory=migrations)
        assert "mail_outbox" in inspect(db.engine).get_table_names()


def test_the_outbox_model_and_its_migration_agree(app_ctx):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert [d for d in diff if "mail_outbox" in repr(d)] == []
