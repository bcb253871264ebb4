"""E-mail to a school's psychologists, never with pupil details, and only after the transaction commits.

When a flush inserts an acute or urgent :class:`~app.screening.models.Alert`, a note (alert id, school id,
severity) is kept on ``session.info``; after the COMMIT succeeds the notes become one message per school
("an acute alert needs attention, open the alert inbox"). A rollback drops the notes, so no mail is sent for
an alert that was never saved, and a mail failure is logged (ids only) without touching the saved alert.
Nothing is sent unless ``SENIM_SMTP_HOST`` is configured.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage

from flask import current_app, has_app_context, has_request_context, request, url_for
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.auth.models import RoleAssignment, User
from app.auth.roles import Role
from app.core.models import School
from app.extensions import db
from app.screening.models import Alert

#: Key on ``Session.info`` for the alerts that will be notified once the transaction commits.
PENDING_KEY = "senim_alert_mail"
#: Severities that e-mail the psychologists at once (routine alerts wait for the inbox).
NOTIFY_SEVERITIES = ("acute", "urgent")


@dataclass(frozen=True)
class PendingAlert:
    """What the mail needs to know about a raised alert: ids and severity, nothing about the pupil."""

    alert_id: int
    school_id: int
    severity: str


def _configured() -> bool:
    return has_app_context() and bool(current_app.config.get("SENIM_SMTP_HOST"))


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _flush_context: object) -> None:
    """Note each newly inserted acute or urgent alert (no SQL here: this runs inside the transaction)."""
    for obj in session.new:
        if isinstance(obj, Alert) and obj.severity in NOTIFY_SEVERITIES:
            session.info.setdefault(PENDING_KEY, []).append(PendingAlert(obj.id, obj.school_id, obj.severity))


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    """The alerts were not saved: nothing to notify."""
    session.info.pop(PENDING_KEY, None)


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    """Send the notes of the transaction that has just committed; never raise (the alert is saved)."""
    pending: list[PendingAlert] = session.info.pop(PENDING_KEY, None) or []
    if not pending or not _configured():
        return
    try:
        notify_raised(pending)
    except Exception as exc:  # the alert is saved: a mail problem must never surface as a failure
        current_app.logger.warning("alert e-mail failed for alerts %s (%s)", [p.alert_id for p in pending],
                                   type(exc).__name__)


# --- recipients and messages ------------------------------------------------------------


def psychologist_recipients(school_id: int) -> dict[str, list[str]]:
    """Active psychologists' addresses of a school, grouped by the language to write to them in.

    Reads on a connection of its own: it runs after a commit, when the session may not emit SQL.
    """
    query = (select(User.email, User.preferred_language, School.default_language)
             .join(RoleAssignment, RoleAssignment.user_id == User.id)
             .join(School, School.id == RoleAssignment.school_id)
             .where(RoleAssignment.role == Role.PSYCHOLOGIST.value, RoleAssignment.school_id == school_id,
                    User.active.is_(True), User.email.is_not(None), User.email != ""))
    with db.engine.connect() as connection:
        rows = connection.execute(query).all()
    by_language: dict[str, set[str]] = {}
    for email, preferred, school_default in rows:
        if email:
            by_language.setdefault(preferred or school_default or "ru", set()).add(email)
    return {lang: sorted(emails) for lang, emails in sorted(by_language.items())}


def inbox_url() -> str:
    """Absolute link to the alert inbox (``SENIM_BASE_URL``, else the current request's host), else the path."""
    path = url_for("screening.alert_inbox") if has_request_context() else "/screening/alerts"
    base = current_app.config.get("SENIM_BASE_URL") or (request.host_url if has_request_context() else "")
    return base.rstrip("/") + path if base else path


def send_mail(recipients: Iterable[str], subject: str, body: str) -> None:
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


def _raised_message(severity: str, count: int, url: str) -> tuple[str, str]:
    if severity == "acute":
        subject = _("Senim: an acute alert needs attention now")
        body = ngettext("An acute screening alert at your school needs attention now.",
                        "%(num)d acute screening alerts at your school need attention now.", count)
    else:
        subject = _("Senim: an urgent alert needs attention today")
        body = ngettext("An urgent screening alert at your school needs attention today.",
                        "%(num)d urgent screening alerts at your school need attention today.", count)
    return subject, body + "\n" + _("Open the alert inbox in Senim: %(url)s", url=url) + "\n"


def notify_raised(pending: Iterable[PendingAlert]) -> int:
    """E-mail each school's psychologists about newly raised alerts (most severe first); messages sent."""
    by_school: dict[int, list[PendingAlert]] = {}
    for note in pending:
        by_school.setdefault(note.school_id, []).append(note)
    url, sent = inbox_url(), 0
    for school_id, notes in by_school.items():
        severity = "acute" if any(n.severity == "acute" for n in notes) else "urgent"
        count = sum(1 for n in notes if n.severity == severity)
        try:
            for language, emails in psychologist_recipients(school_id).items():
                with force_locale(language):
                    subject, body = _raised_message(severity, count, url)
                send_mail(emails, subject, body)
                sent += 1
        except (OSError, smtplib.SMTPException) as exc:
            current_app.logger.warning("alert e-mail to school %s failed for alerts %s (%s)", school_id,
                                       [n.alert_id for n in notes], type(exc).__name__)
    return sent


def notify_overdue(school_id: int, count: int) -> bool:
    """E-mail the school's psychologists that ``count`` alerts are overdue and escalated (no personal data)."""
    if not _configured():
        return False
    recipients = psychologist_recipients(school_id)
    for language, emails in recipients.items():
        with force_locale(language):
            subject = ngettext("Senim: %(num)d overdue screening alert", "Senim: %(num)d overdue screening alerts",
                               count)
            body = (ngettext("%(num)d screening alert at your school passed its deadline without being "
                             "acknowledged and was escalated to the school administration.",
                             "%(num)d screening alerts at your school passed their deadline without being "
                             "acknowledged and were escalated to the school administration.", count)
                    + "\n" + _("Open the alert inbox in Senim now: %(url)s", url=inbox_url()) + "\n")
        send_mail(emails, subject, body)
    return bool(recipients)
