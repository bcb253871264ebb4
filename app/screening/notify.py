"""E-mail to a school's psychologists about alerts, never with pupil details, queued in the alert's transaction.

:func:`queue_raised` (a new acute or urgent alert, from ``services._raise_alerts``) and :func:`queue_overdue`
(alerts escalated by ``flask screening escalate``) write one outbox row per language of the recipients
("an acute alert needs attention, open the alert inbox") in the transaction that saves the alerts: a
committed alert always has its mail queued, a rolled-back one has none. The mail leaves after the COMMIT,
outside the request, through the outbox (app/core/mail.py), which retries until the SMTP server takes it.
Nothing is queued unless ``SENIM_SMTP_HOST`` is configured.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select

from app.auth.models import RoleAssignment, User
from app.auth.roles import Role
from app.core import mail
from app.core.links import absolute_url
from app.core.models import School
from app.extensions import db

#: Severities that e-mail the psychologists at once (routine alerts wait for the inbox).
NOTIFY_SEVERITIES = ("acute", "urgent")


def psychologist_recipients(school_id: int, role: Role = Role.PSYCHOLOGIST) -> dict[str, list[str]]:
    """Active psychologists' (or another school role's) addresses of a school, grouped by the language to write to
    them in."""
    query = (select(User.email, User.preferred_language, School.default_language)
             .join(RoleAssignment, RoleAssignment.user_id == User.id)
             .join(School, School.id == RoleAssignment.school_id)
             .where(RoleAssignment.role == role.value, RoleAssignment.school_id == school_id,
                    User.active.is_(True), User.email.is_not(None), User.email != ""))
    by_language: dict[str, set[str]] = {}
    for email, preferred, school_default in db.session.execute(query):
        if email:
            by_language.setdefault(preferred or school_default or "ru", set()).add(email)
    return {lang: sorted(emails) for lang, emails in sorted(by_language.items())}


def inbox_url() -> str:
    """Absolute link to the alert inbox, from ``SENIM_BASE_URL`` (never from the request's Host)."""
    return absolute_url("screening.alert_inbox")


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


def _overdue_message(count: int, url: str) -> tuple[str, str]:
    subject = ngettext("Senim: %(num)d overdue screening alert", "Senim: %(num)d overdue screening alerts", count)
    body = ngettext("%(num)d screening alert at your school passed its deadline without being acknowledged and "
                    "was escalated to the school administration.",
                    "%(num)d screening alerts at your school passed their deadline without being acknowledged "
                    "and were escalated to the school administration.", count)
    return subject, body + "\n" + _("Open the alert inbox in Senim now: %(url)s", url=url) + "\n"


def _queue(school_id: int, compose: Callable[[str], tuple[str, str]], *, role: Role = Role.PSYCHOLOGIST,
           url: str | None = None) -> int:
    """One outbox row per language of the school's psychologists (or ``role``), written in that language."""
    url, queued = url or inbox_url(), 0
    for language, emails in psychologist_recipients(school_id, role).items():
        try:
            with force_locale(language):
                subject, body = compose(url)
        except (KeyError, ValueError, TypeError):  # a broken translation must not cost the alert: English then
            current_app.logger.warning("alert e-mail text in %s failed for school %s", language, school_id)
            with force_locale("en"):
                subject, body = compose(url)
            language = "en"
        mail.queue(recipients=emails, subject=subject, body=body, language=language)
        queued += 1
    return queued


def queue_raised(*, school_id: int, severities: Iterable[str]) -> int:
    """Queue mail to the school's psychologists about alerts just raised there (only acute and urgent ones
    count; the most severe decides the message), in the current transaction; the number of messages queued.
    """
    notable = [s for s in severities if s in NOTIFY_SEVERITIES]
    if not notable or not mail.configured():
        return 0  # no SQL: the answer-save path calls this on every alert it raises
    severity = "acute" if "acute" in notable else "urgent"
    count = notable.count(severity)
    return _queue(school_id, lambda url: _raised_message(severity, count, url))


def queue_overdue(*, school_id: int, count: int) -> int:
    """Queue mail to the school's psychologists that ``count`` alerts are overdue and escalated, in the current
    transaction; the number of messages queued."""
    if not count or not mail.configured():
        return 0
    return _queue(school_id, lambda url: _overdue_message(count, url))


def _locked_message(acute: int, url: str) -> tuple[str, str]:
    subject = _("Senim: a psychologist cannot sign in while acute alerts are open")
    body = ngettext(
        "The sign-in of a school psychologist was paused after repeated failed attempts, and %(num)d acute "
        "screening alert at your school is still open. Make sure someone attends to it now, and help the "
        "psychologist get back in (an administrator can help).",
        "The sign-in of a school psychologist was paused after repeated failed attempts, and %(num)d acute "
        "screening alerts at your school are still open. Make sure someone attends to them now, and help the "
        "psychologist get back in (an administrator can help).", acute)
    return subject, body + "\n" + _("Escalated alerts in Senim: %(url)s", url=url) + "\n"


def queue_locked_psychologist(*, school_id: int, acute: int) -> int:
    """Queue mail to the school's administration (directors) that a psychologist's sign-in is paused while
    ``acute`` acute alerts are open, in the current transaction; the number of messages queued."""
    if not acute or not mail.configured():
        return 0
    return _queue(school_id, lambda url: _locked_message(acute, url), role=Role.DIRECTOR,
                  url=absolute_url("screening.escalations"))
