"""Summaries for parents: a psychologist writes a short text for a pupil's parents and explicitly releases it.

Parents read released summaries only (:func:`~app.auth.permissions.visible_summaries`), never answers, scores,
registry status or notes. A released text cannot be edited: the psychologist takes the release back (recorded),
edits the draft and releases it again. Every step is audited in the same transaction as the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.auth.models import User
from app.auth.permissions import Permission, visible_summaries
from app.core import audit, mail
from app.core.audit import AuditAction
from app.core.links import absolute_url
from app.core.models import Pupil, PupilGuardian, utcnow
from app.extensions import db
from app.parents.models import ParentSummary

#: Longest summary (a short text for parents, not a report).
BODY_MAX = 3000


class SummaryError(ValueError):
    """The step cannot be taken (nothing was changed)."""


def _clean(text: str | None) -> str:
    value = (text or "").strip()
    if not value or len(value) > BODY_MAX:
        raise SummaryError("length")
    return value


def save(*, actor: User, pupil: Pupil, summary: ParentSummary | None, body: str) -> ParentSummary:
    """Write a new draft (``summary`` None) or change a draft. A released summary cannot be changed. Audited."""
    text = _clean(body)
    now = utcnow()
    if summary is None:
        summary = ParentSummary(school_id=pupil.school_id, pupil_id=pupil.id, author_id=actor.id, created_at=now)
        db.session.add(summary)
    elif summary.released or summary.pupil_id != pupil.id:
        raise SummaryError("released")
    summary.body, summary.updated_at = text, now
    db.session.flush()
    audit.record(actor, AuditAction.SUMMARY_SAVED, school_id=summary.school_id, pupil_id=summary.pupil_id,
                 object_type="parent_summary", object_id=summary.uuid)
    db.session.commit()
    return summary


def release(*, actor: User, summary: ParentSummary) -> None:
    """Let the pupil's parents read the summary from now on; they are e-mailed (no text in the mail). Audited."""
    if summary.released:
        raise SummaryError("already released")
    summary.released_at, summary.released_by_id = utcnow(), actor.id
    _tell_parents(summary)
    audit.record(actor, AuditAction.SUMMARY_RELEASED, school_id=summary.school_id, pupil_id=summary.pupil_id,
                 object_type="parent_summary", object_id=summary.uuid)
    db.session.commit()


def withdraw(*, actor: User, summary: ParentSummary) -> None:
    """Take a release back: parents no longer see the summary; it is a draft again. Audited."""
    if not summary.released:
        raise SummaryError("not released")
    summary.released_at, summary.released_by_id = None, None
    summary.withdrawn_at, summary.withdrawn_by_id = utcnow(), actor.id
    audit.record(actor, AuditAction.SUMMARY_WITHDRAWN, school_id=summary.school_id, pupil_id=summary.pupil_id,
                 object_type="parent_summary", object_id=summary.uuid)
    db.session.commit()


def _tell_parents(summary: ParentSummary) -> int:
    """Queue one mail per language to the pupil's parents with an address: there is something to read (a link,
    never the text), in this transaction."""
    if not mail.configured():
        return 0
    pupil = summary.pupil
    parents = db.session.execute(select(User).join(PupilGuardian, PupilGuardian.user_id == User.id).where(
        PupilGuardian.pupil_id == pupil.id, User.active.is_(True), User.email.is_not(None), User.email != "")
    ).scalars()
    by_language: dict[str, list[str]] = {}
    for parent in parents:
        language = parent.preferred_language or pupil.school.default_language or "ru"
        by_language.setdefault(language, []).append(str(parent.email))
    url = absolute_url("parents.child", pupil_uuid=pupil.uuid)
    for language, emails in sorted(by_language.items()):
        with force_locale(language):
            subject = _("Senim: the school psychologist wrote to you")
            body = _("The school psychologist wrote a short summary for you. Open Senim to read it: %(url)s",
                     url=url) + "\n"
        mail.queue(recipients=emails, subject=subject, body=body, language=language)
    return len(by_language)


@dataclass(frozen=True)
class SummaryView:
    """A summary as a page shows it (decrypted)."""

    uuid: str
    body: str
    author: str
    created_at: datetime
    updated_at: datetime
    released_at: datetime | None
    withdrawn_at: datetime | None


def _view(summary: ParentSummary) -> SummaryView:
    return SummaryView(uuid=summary.uuid, body=summary.body, author=summary.author.display_name,
                       created_at=summary.created_at, updated_at=summary.updated_at,
                       released_at=summary.released_at, withdrawn_at=summary.withdrawn_at)


def for_psychologist(*, actor: User, pupil: Pupil) -> list[SummaryView]:
    """Every summary of the pupil (drafts and released), newest first; the reading is audited."""
    audit.record_read(actor, AuditAction.SUMMARY_LIST_READ, school_id=pupil.school_id, pupil_id=pupil.id,
                      object_type="pupil", object_id=pupil.uuid)
    rows = db.session.execute(visible_summaries(actor, Permission.PARENT_SUMMARY_MANAGE).where(
        ParentSummary.pupil_id == pupil.id).order_by(ParentSummary.created_at.desc())).scalars()
    return [_view(s) for s in rows]


def for_parent(*, actor: User, pupil: Pupil) -> list[SummaryView]:
    """The released summaries of the parent's child, newest release first (the child page's caller audits)."""
    rows = db.session.execute(visible_summaries(actor, Permission.PARENT_CHILD).where(
        ParentSummary.pupil_id == pupil.id).order_by(ParentSummary.released_at.desc())).scalars()
    return [_view(s) for s in rows]


def released_counts(*, actor: User) -> dict[int, int]:
    """For the parent's home page: how many released summaries each child has, per pupil id."""
    query = visible_summaries(actor, Permission.PARENT_CHILD).with_only_columns(ParentSummary.pupil_id)
    counts: dict[int, int] = {}
    for pupil_id in db.session.execute(query).scalars():
        counts[pupil_id] = counts.get(pupil_id, 0) + 1
    return counts

