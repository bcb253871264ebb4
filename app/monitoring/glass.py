"""Break-the-glass: emergency access to a case for a staff member of the school who is not on it.

A staff member of the pupil's school who holds a monitoring role (another psychologist, the social pedagogue on
duty, the school administrator) writes a reason and enters a fresh code from their authenticator (even when signed
in a minute ago): access is granted at once, for ``SENIM_EMERGENCY_ACCESS`` (4 hours by default), as a
:class:`CaseAccessGrant` that :func:`app.auth.permissions.case_scope` honours only until it expires. The grant is
audited with the pupil's id, e-mailed (no pupil details) to the case owner and the school administrators in the
same transaction, and waits in a review queue where the owner or a school administrator marks it justified or not,
with a note (both the reason and the note are encrypted under the school's key).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth import services as auth_services
from app.auth.models import RoleAssignment, User
from app.auth.permissions import Permission, visible_cases, visible_emergency_grants
from app.auth.roles import Role
from app.core import audit, mail
from app.core.audit import AuditAction, Outcome
from app.core.links import absolute_url
from app.core.models import Pupil, School, utcnow
from app.extensions import db
from app.monitoring.conflicts import versioned
from app.monitoring.models import CaseAccessGrant, MonitoringCase
from app.monitoring.services import open_case_of


class EmergencyError(ValueError):
    """Emergency access refused (the view says why)."""


class NoOpenCase(EmergencyError):
    """The pupil has no open case: there is nothing to open in an emergency."""


class AlreadyOnCase(EmergencyError):
    """The user can already read the case (owner, team or a live grant)."""

    def __init__(self, case: MonitoringCase) -> None:
        super().__init__(case.id)
        self.case = case


class ReasonMissing(EmergencyError):
    """Emergency access needs a written reason."""


class WrongCode(EmergencyError):
    """The second-factor code was wrong, used before, or the user has none."""


class NotLive(EmergencyError):
    """The emergency access has already ended (ran out or was revoked)."""


def _audit(actor: User, case: MonitoringCase, action: AuditAction, *, outcome: Outcome = Outcome.SUCCESS,
           **details: object) -> None:
    audit.record(actor, action, outcome=outcome, school_id=case.school_id, pupil_id=case.pupil_id,
                 object_type="case", object_id=case.uuid, details=details or None)


def _can_read(user: User, case: MonitoringCase) -> bool:
    return db.session.execute(visible_cases(user).where(MonitoringCase.id == case.id)).first() is not None


def live_grant(*, user: User, case: MonitoringCase) -> CaseAccessGrant | None:
    """The user's emergency access to ``case`` that is running now, if any."""
    now = utcnow()
    return db.session.execute(select(CaseAccessGrant).where(
        CaseAccessGrant.case_id == case.id, CaseAccessGrant.user_id == user.id,
        CaseAccessGrant.revoked_at.is_(None), CaseAccessGrant.starts_at <= now, CaseAccessGrant.expires_at > now,
    ).order_by(CaseAccessGrant.expires_at.desc()).limit(1)).scalar_one_or_none()


def request_access(*, actor: User, pupil: Pupil, reason: str, code: str, ip: str) -> CaseAccessGrant:
    """Grant ``actor`` emergency access to the pupil's open case after a written reason and a fresh second-factor
    code; audited, notified and queued for review in one transaction."""
    text = (reason or "").strip()
    if not text:
        raise ReasonMissing()
    case = open_case_of(pupil.id)
    if case is None:
        raise NoOpenCase()
    if _can_read(actor, case):
        raise AlreadyOnCase(case)
    # The check joins this transaction: the code's use, the grant and both audit entries commit together.
    if not auth_services.check_mfa(user=actor, code=(code or "").strip(), ip=ip):
        _audit(actor, case, AuditAction.CASE_EMERGENCY_ACCESS, outcome=Outcome.DENIED, reason="code")
        db.session.commit()
        raise WrongCode()
    now = utcnow()
    grant = CaseAccessGrant(school_id=case.school_id, case_id=case.id, user_id=actor.id, granted_by_id=None,
                            starts_at=now, expires_at=now + current_app.config["SENIM_EMERGENCY_ACCESS"])
    grant.reason = text
    db.session.add(grant)
    db.session.flush()
    _audit(actor, case, AuditAction.CASE_EMERGENCY_ACCESS, grant=grant.uuid, until=grant.expires_at.isoformat())
    try:
        _notify(grant=grant, case=case, actor=actor)
        db.session.commit()
    except Exception:
        db.session.rollback()  # no grant, no audit entry and no used code of a half-done request
        raise
    return grant


def local_time(moment: datetime) -> str:
    """HH:MM in the school day's time zone."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return _aware(moment).astimezone(zone).strftime("%H:%M")


def _recipients(case: MonitoringCase) -> dict[str, set[str]]:
    """The case owner and the school's administrators, by the language to write to them in."""
    directors = select(RoleAssignment.user_id).where(RoleAssignment.school_id == case.school_id,
                                                     RoleAssignment.role == Role.DIRECTOR.value)
    query = (select(User.email, User.preferred_language, School.default_language)
             .join(School, School.id == case.school_id)
             .where(User.active.is_(True), User.email.is_not(None), User.email != "",
                    (User.id == case.owner_id) | User.id.in_(directors)))
    found: dict[str, set[str]] = {}
    for email, preferred, default in db.session.execute(query):
        if email:
            found.setdefault(preferred or default or "ru", set()).add(email)
    return found


def _notify(*, grant: CaseAccessGrant, case: MonitoringCase, actor: User) -> int:
    """Queue the e-mail (no pupil details) to the owner and the school administrators, in this transaction."""
    if not mail.configured():
        return 0
    url, queued = absolute_url("monitoring.emergency_reviews"), 0
    for language, emails in sorted(_recipients(case).items()):
        with force_locale(language):
            subject = _("Senim: emergency access to a case file at your school")
            body = _("%(name)s took emergency access to a case file at your school until %(until)s. "
                     "Please review whether it was justified: %(url)s",
                     name=actor.display_name, until=local_time(grant.expires_at), url=url) + "\n"
        mail.queue(recipients=sorted(emails), subject=subject, body=body, language=language)
        queued += 1
    return queued


@dataclass(frozen=True)
class ReviewRow:
    """One emergency access in the review queue (decrypted before the reading is audited)."""

    grant: CaseAccessGrant
    who: str
    pupil_name: str
    reason: str
    review_note: str | None
    live: bool
    revoked: bool


def review_queue(*, actor: User) -> list[ReviewRow]:
    """Emergency accesses ``actor`` reviews: those not yet reviewed first, then the newest; the reading is
    audited once."""
    grants = db.session.execute(visible_emergency_grants(actor).options(
        selectinload(CaseAccessGrant.user), selectinload(CaseAccessGrant.case).selectinload(MonitoringCase.pupil),
    ).order_by(CaseAccessGrant.reviewed_at.is_not(None), CaseAccessGrant.starts_at.desc())).scalars().all()
    now = utcnow()
    rows = [ReviewRow(grant=g, who=g.user.display_name, pupil_name=g.case.pupil.short_name, reason=g.reason,
                      review_note=g.review_note, live=g.revoked_at is None and _aware(g.expires_at) > now,
                      revoked=g.revoked_at is not None and _aware(g.revoked_at) < _aware(g.expires_at))
            for g in grants]
    audit.record_read(actor, AuditAction.CASE_EMERGENCY_QUEUE_READ, details={"count": len(rows)})
    return rows


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def review(*, actor: User, grant: CaseAccessGrant, version: int | None, justified: bool,
           note: str) -> CaseAccessGrant:
    """Mark an emergency access as justified or not, with a note (encrypted)."""
    text = (note or "").strip()
    if not text:
        raise ReasonMissing()
    with versioned(actor=actor, record=grant, version=version, object_type="emergency_access"):
        grant.reviewed_at, grant.reviewed_by_id, grant.justified = utcnow(), actor.id, justified
        grant.review_note = text
        _audit(actor, grant.case, AuditAction.CASE_EMERGENCY_REVIEWED, grant=grant.uuid, justified=justified)
    return grant


def revoke(*, actor: User, grant: CaseAccessGrant, version: int | None) -> CaseAccessGrant:
    """End a running emergency access now (the case owner or the school administrator, from the review queue):
    the grantee loses access with their next request. Audited; the grant stays in the queue, marked ended early."""
    with versioned(actor=actor, record=grant, version=version, object_type="emergency_access"):
        if grant.revoked_at is not None or _aware(grant.expires_at) <= utcnow():
            raise NotLive()
        grant.revoked_at = utcnow()
        _audit(actor, grant.case, AuditAction.CASE_EMERGENCY_REVOKED, grant=grant.uuid)
    return grant


def can_review(user: User) -> bool:
    """For links: whether the user reviews emergency accesses at all."""
    from app.auth.permissions import has_permission

    return has_permission(user, Permission.MONITORING_EMERGENCY_REVIEW)
