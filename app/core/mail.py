"""The mail outbox: a message is queued in the transaction that causes it and sent after that transaction commits.

:func:`queue` adds a row to ``mail_outbox`` inside the caller's transaction, so a committed change always has its
mail queued and a rolled-back one has none. Nothing is sent inside the request: after the COMMIT of a request
that queued mail, a background thread of the web process (its own app context and database session) sends
what is due (unless ``SENIM_MAIL_DELIVERY = "off"``); ``flask mail send``, run from cron, sends whatever a dead
process or an unreachable SMTP server left behind, retries failures with a growing delay and gives up after
``SENIM_MAIL_MAX_ATTEMPTS`` attempts. Each sender claims a row before sending it: one UPDATE, committed at once
(PostgreSQL: ``FOR UPDATE SKIP LOCKED``), counts the attempt and moves ``next_attempt_at`` past a lease, so two
senders never send the same row and a sender that dies mid-send leaves the row to be retried when the lease
ends. A message is sent at least once, exactly once unless a sender dies between the SMTP reply and its UPDATE.

Rows hold staff addresses (or, for a password-reset link, the account holder's) and a text written without
pupil details, encrypted at rest (a reset link is a credential); logs and ``last_error`` hold ids and error
types only.
"""

from __future__ import annotations

import json
import smtplib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from flask import Flask, current_app, has_app_context, has_request_context
from sqlalchemy import LargeBinary, String, Text, delete, event, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.encryption import Encrypted
from app.core.models import new_uuid, utcnow
from app.extensions import Model, db

#: Key on ``Session.info``: the open transaction queued mail, so start a delivery once it commits.
QUEUED_KEY = "senim_mail_queued"
#: How long a claimed row belongs to its sender: longer than any SMTP conversation of one message.
LEASE = timedelta(minutes=5)
#: Delay before the n-th retry: 1, 2, 4, 8… minutes, at most an hour.
BACKOFF_FIRST, BACKOFF_MAX = timedelta(minutes=1), timedelta(hours=1)
#: Sent rows are deleted after this long (the outbox is not an archive; the addresses are personal data).
KEEP_SENT = timedelta(days=30)


class OutboxMessage(Model):
    """One e-mail to send (or sent). Never holds pupil details: callers write counts and links only."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: JSON list of e-mail addresses of staff (alerts, parents' meeting requests) or of one account holder (a
    #: password-reset link, staff or parent; the answer to a parent's meeting request). Never a pupil's.
    recipients: Mapped[str] = mapped_column(Text)
    #: Binds the body's ciphertext to this row (AES-GCM associated data).
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    #: Subject as it will be sent, already in the recipients' language (fixed wording, no link, no pupil).
    subject: Mapped[str] = mapped_column(Text)
    #: Sensitive (a password-reset link is a credential): AES-GCM ciphertext of the plain-text body.
    body_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: A body queued in plaintext before bodies were encrypted (migration 0008); cleared once sent.
    legacy_body: Mapped[str | None] = mapped_column("body", Text)
    #: The language the text is written in (kk, ru, en).
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Delivery attempts begun (counted when a sender claims the row).
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    #: When the row may next be tried: when queued, after a failure's backoff, or when a sender's claim ends.
    next_attempt_at: Mapped[datetime] = mapped_column(index=True, default=utcnow)
    sent_at: Mapped[datetime | None]
    #: The last failure: exception type and SMTP code or OS error text (no addresses, no message text).
    last_error: Mapped[str | None] = mapped_column(String(200))

    body_text = Encrypted("body_ct")

    @property
    def body(self) -> str:
        """The plain-text body as it will be sent."""
        return str(self.body_text) if self.body_ct is not None else (self.legacy_body or "")

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id}>"


_OUTBOX = OutboxMessage.__table__
_O = _OUTBOX.c


def configured() -> bool:
    """True when an SMTP host is configured (without one, nothing is queued or sent)."""
    return has_app_context() and bool(current_app.config.get("SENIM_SMTP_HOST"))


def automatic() -> bool:
    """True unless ``SENIM_MAIL_DELIVERY`` is "off" (the tests': only ``flask mail send`` or a direct call sends)."""
    return current_app.config.get("SENIM_MAIL_DELIVERY", "background") != "off"


def max_attempts() -> int:
    """Attempts per message before the outbox gives up on it."""
    return int(current_app.config.get("SENIM_MAIL_MAX_ATTEMPTS", 8))


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def queue(*, recipients: Sequence[str], subject: str, body: str, language: str) -> OutboxMessage:
    """Add a message to the outbox in the current transaction; it is sent after the transaction commits."""
    message = OutboxMessage(uuid=new_uuid(), recipients=json.dumps(sorted(recipients)), subject=subject,
                            language=language, next_attempt_at=utcnow())
    message.body_text = body
    db.session.add(message)
    db.session.info[QUEUED_KEY] = True
    return message


# --- delivery ---------------------------------------------------------------------------------------------


@dataclass
class Delivery:
    """What one run of :func:`deliver_due` did."""

    sent: int = 0
    #: Attempts that failed and will be retried later.
    failed: int = 0
    #: Ids of messages given up on in this run (their last attempt failed).
    gave_up: list[int] = field(default_factory=list)
    #: The SMTP server could not be reached: the run stopped, the remaining due messages wait for the next one.
    stopped: bool = False


def _due(columns: Any, now: datetime, attempts: int) -> Any:
    return (columns.sent_at.is_(None)) & (columns.attempts < attempts) & (columns.next_attempt_at <= now)


def _claim(now: datetime, attempts: int) -> Any:
    """Take the oldest due row for this sender (attempt counted, lease set) and commit; None when none is due."""
    candidates = _OUTBOX.alias("candidate")
    oldest = (select(candidates.c.id).where(_due(candidates.c, now, attempts))
              .order_by(candidates.c.next_attempt_at, candidates.c.id).limit(1)
              .with_for_update(skip_locked=True).scalar_subquery())  # SQLite: no FOR UPDATE; writes are serial
    claim = (update(_OUTBOX).where(_O.id == oldest, _due(_O, now, attempts))
             .values(attempts=_O.attempts + 1, next_attempt_at=max(now, utcnow()) + LEASE)
             .returning(_O.id, _O.uuid, _O.recipients, _O.subject, _O.body_ct, _O.body, _O.attempts))
    try:
        row = db.session.execute(claim).first()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return row


def _finish(message_id: int, **values: Any) -> None:
    try:
        db.session.execute(update(_OUTBOX).where(_O.id == message_id).values(**values))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def describe(exc: BaseException) -> str:
    """A failure as the outbox keeps it: exception type and SMTP code or OS error text, never addresses."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__} {exc.smtp_code}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(code) for code, _text in exc.recipients.values()})
        return f"{type(exc).__name__} {','.join(codes)}"[:200]
    if isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException) and exc.strerror:
        return f"{type(exc).__name__}: {exc.strerror}"[:200]
    return type(exc).__name__


def unreachable(exc: BaseException) -> bool:
    """True when the failure is the server's (down, refusing, timing out), not this message's."""
    if isinstance(exc, smtplib.SMTPException):  # an OSError too
        return isinstance(exc, smtplib.SMTPConnectError | smtplib.SMTPServerDisconnected)
    return isinstance(exc, OSError)


def send_mail(recipients: Sequence[str], subject: str, body: str) -> None:
    """Send one plain-text message through ``SENIM_SMTP_HOST`` (raises OSError / SMTPException)."""
    message = EmailMessage()
    message["From"] = current_app.config["SENIM_MAIL_FROM"]
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message.set_content(body)
    config = current_app.config
    with smtplib.SMTP(config["SENIM_SMTP_HOST"], int(config["SENIM_SMTP_PORT"]),
                      timeout=float(config.get("SENIM_SMTP_TIMEOUT", 10))) as smtp:
        smtp.send_message(message)


def deliver_due(now: datetime | None = None) -> Delivery:
    """Send every message due at ``now`` (default: the current time), one claimed row at a time.

    Never raises for a mail problem: a failure is kept on its row (``last_error``, retried after
    :func:`backoff`, given up after :func:`max_attempts`). Rows due only after ``now`` (e.g. a retry set by
    this run) wait for the next run, so a run ends.
    """
    done = Delivery()
    if not configured():
        return done
    now, limit = now or utcnow(), max_attempts()
    while (row := _claim(now, limit)) is not None:
        try:
            body = OutboxMessage.body_text.decrypt_for(row.uuid, row.body_ct) if row.body_ct is not None else row.body
            send_mail(json.loads(row.recipients), row.subject, body or "")
        except Exception as exc:  # OSError, SMTPException (an OSError), or a message the library refuses
            error, at = describe(exc), max(now, utcnow())
            _finish(row.id, last_error=error, next_attempt_at=at + backoff(row.attempts))
            if row.attempts >= limit:
                done.gave_up.append(row.id)
                current_app.logger.error("mail %s given up after %s attempts (%s)", row.id, row.attempts, error)
            else:
                done.failed += 1
                current_app.logger.warning("mail %s failed, attempt %s (%s)", row.id, row.attempts, error)
            if unreachable(exc):
                done.stopped = True
                break
        else:
            _finish(row.id, sent_at=utcnow(), body=None)  # a legacy plaintext body goes once it is sent
            done.sent += 1
    return done


# --- after the commit: a background thread ---------------------------------------------------------------

_THREAD_LOCK = threading.Lock()


@dataclass
class _Worker:
    """The delivery thread of one application in this process, and whether more mail came while it ran."""

    thread: threading.Thread | None = None
    again: bool = False


def _worker(app: Flask) -> _Worker:
    with _THREAD_LOCK:
        return app.extensions.setdefault("senim_mail", _Worker())  # type: ignore[no-any-return]


def start_delivery(app: Flask) -> threading.Thread:
    """Deliver due mail in a background daemon thread (one per process: a running one is asked to go on)."""
    worker = _worker(app)
    with _THREAD_LOCK:
        if worker.thread is not None and worker.thread.is_alive():
            worker.again = True
            return worker.thread
        worker.thread = threading.Thread(target=_deliver_in_background, args=(app, worker), name="senim-mail",
                                         daemon=True)
        worker.again = False
        worker.thread.start()
        return worker.thread


def _deliver_in_background(app: Flask, worker: _Worker) -> None:
    try:
        with app.app_context():
            try:
                while True:
                    deliver_due()
                    with _THREAD_LOCK:
                        if not worker.again:
                            worker.thread = None
                            return
                        worker.again = False
            finally:
                db.session.remove()
    except Exception:  # the rows stay queued: `flask mail send` takes them
        app.logger.exception("mail delivery thread failed")
    finally:
        with _THREAD_LOCK:
            if worker.thread is threading.current_thread():
                worker.thread = None


def wait_for_delivery(app: Flask, timeout: float | None = None) -> None:
    """Wait for this process's delivery thread, if one runs (tests; a graceful shutdown)."""
    thread = _worker(app).thread
    if thread is not None:
        thread.join(timeout)


@event.listens_for(Session, "after_commit")
def _deliver_after_commit(session: Session) -> None:
    """A request's transaction queued mail: hand it to the delivery thread; the request does not wait.

    Outside a request (cron commands) nothing starts here: the command sends itself or `flask mail send` does.
    """
    if not session.info.pop(QUEUED_KEY, False) or not has_request_context():
        return
    if configured() and automatic():
        start_delivery(current_app._get_current_object())  # type: ignore[attr-defined]


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    """The queued rows were rolled back with the transaction: nothing to deliver."""
    session.info.pop(QUEUED_KEY, None)


# --- the outbox's state, and the administrator's commands --------------------------------------------------


@dataclass(frozen=True)
class OutboxState:
    """Counts for ``flask mail status``: how much waits, fails or was given up, and since when."""

    sent: int
    waiting: int
    failing: int
    given_up: int
    oldest_unsent: datetime | None
    last_sent: datetime | None


def state() -> OutboxState:
    """The outbox at a glance (one query)."""
    unsent, limit = _O.sent_at.is_(None), max_attempts()
    row = db.session.execute(select(
        func.count().filter(_O.sent_at.is_not(None)),
        func.count().filter(unsent & (_O.attempts < limit) & _O.last_error.is_(None)),
        func.count().filter(unsent & (_O.attempts < limit) & _O.last_error.is_not(None)),
        func.count().filter(unsent & (_O.attempts >= limit)),
        func.min(_O.created_at).filter(unsent),
        func.max(_O.sent_at),
    )).one()
    return OutboxState(*row)


def unsent_failures() -> list[OutboxMessage]:
    """Unsent messages whose last attempt failed (retrying or given up), oldest first."""
    return list(db.session.execute(
        select(OutboxMessage).where(OutboxMessage.sent_at.is_(None), OutboxMessage.last_error.is_not(None))
        .order_by(OutboxMessage.created_at, OutboxMessage.id)).scalars())


def retry_given_up() -> int:
    """Queue the given-up messages again with fresh attempts; how many."""
    return _change(update(_OUTBOX).where(_O.sent_at.is_(None), _O.attempts >= max_attempts())
                   .values(attempts=0, next_attempt_at=utcnow(), last_error=None))


def discard_given_up() -> int:
    """Delete the given-up messages; how many."""
    return _change(delete(_OUTBOX).where(_O.sent_at.is_(None), _O.attempts >= max_attempts()))


def purge_sent(now: datetime | None = None) -> int:
    """Delete messages sent more than :data:`KEEP_SENT` ago; how many."""
    return _change(delete(_OUTBOX).where(_O.sent_at < (now or utcnow()) - KEEP_SENT))


def _change(statement: Any) -> int:
    try:
        count = db.session.connection().execute(statement).rowcount
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return int(count)
