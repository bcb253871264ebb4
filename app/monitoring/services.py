"""Case files: open (by hand or from an alert), read, change risk, status, review date and team, add notes.

Every read and write of case data is audited with the pupil's id (so it shows in "who viewed this record"), in
the same transaction as the change; audit details carry ids and status names only, never a risk level, a reason
or a note. Edits check the form's version (:mod:`app.monitoring.conflicts`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.auth.models import RoleAssignment, User
from app.auth.permissions import Permission, visible_cases
from app.auth.roles import Role
from app.core import audit
from app.core.audit import AuditAction
from app.core.models import Pupil, utcnow
from app.extensions import db
from app.monitoring import referrals
from app.monitoring.conflicts import versioned
from app.monitoring.models import (
    TRANSITIONS,
    CaseEvent,
    CaseEventKind,
    CaseMember,
    CaseNote,
    CaseOrigin,
    CaseStatus,
    MonitoringCase,
    RiskLevel,
    TeamRole,
)
from app.screening.alerts import AlertAlreadyResolved, close_into_case
from app.screening.models import Alert

#: The risk a case opened from an alert starts at (the psychologist then reviews it, with a reason).
RISK_FROM_SEVERITY = {"acute": RiskLevel.ACUTE, "urgent": RiskLevel.HIGH, "routine": RiskLevel.MODERATE}
#: Roles at the case's school that can be on its team, and what as.
TEAM_ROLES = {Role.PSYCHOLOGIST: TeamRole.PSYCHOLOGIST, Role.SOCIAL_PEDAGOGUE: TeamRole.SOCIAL_PEDAGOGUE,
              Role.DIRECTOR: TeamRole.ADMINISTRATOR}
NOT_CLOSED = (CaseStatus.OPEN.value, CaseStatus.ACTIVE.value, CaseStatus.REVIEW.value)


class CaseError(ValueError):
    """A change the case's rules refuse (the view shows a message)."""


class PupilHasOpenCase(CaseError):
    """The pupil already has a case that is not closed: follow-up goes into it."""

    def __init__(self, case: MonitoringCase) -> None:
        super().__init__(case.id)
        self.case = case


class InvalidTransition(CaseError):
    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"{current} -> {wanted}")
        self.current, self.wanted = current, wanted


class ReasonRequired(CaseError):
    """A risk or status change needs a written reason."""


class CaseClosed(CaseError):
    """A closed case changes only by being reopened."""


class NotEligible(CaseError):
    """That person cannot be on this case's team (not staff of its school in a team role, or already on it)."""


class SameRisk(CaseError):
    """The new risk level is the current one."""


def _audit(actor: User | None, action: AuditAction, case: MonitoringCase, **details: Any) -> None:
    audit.record(actor, action, school_id=case.school_id, pupil_id=case.pupil_id, object_type="case",
                 object_id=case.uuid, details=details or None)


def _event(actor: User | None, case: MonitoringCase, kind: CaseEventKind, data: dict[str, Any]) -> CaseEvent:
    event = CaseEvent(school_id=case.school_id, case_id=case.id, actor_id=actor.id if actor else None, at=utcnow())
    event.record(kind, data)
    db.session.add(event)
    return event


def _touch(actor: User, case: MonitoringCase) -> None:
    """Mark the case as changed (its version moves on: a form loaded earlier now conflicts)."""
    case.updated_at, case.updated_by_id = utcnow(), actor.id


def _reason(text: str | None) -> str:
    reason = (text or "").strip()
    if not reason:
        raise ReasonRequired()
    return reason


def open_case_of(pupil_id: int) -> MonitoringCase | None:
    """The pupil's case that is not closed, if any (unscoped: for rules, never shown as such)."""
    return db.session.execute(select(MonitoringCase).where(
        MonitoringCase.pupil_id == pupil_id, MonitoringCase.status.in_(NOT_CLOSED))).scalar_one_or_none()


def open_cases_by_pupil(*, pupil_ids: Iterable[int]) -> dict[int, MonitoringCase]:
    """Each pupil's case that is not closed (one query), by pupil id."""
    ids = list(set(pupil_ids))
    if not ids:
        return {}
    cases = db.session.execute(select(MonitoringCase).options(selectinload(MonitoringCase.owner)).where(
        MonitoringCase.pupil_id.in_(ids), MonitoringCase.status.in_(NOT_CLOSED))).scalars()
    return {case.pupil_id: case for case in cases}


def open_case_dates(*, pupil_ids: Iterable[int]) -> dict[int, date]:
    """For class teachers' flags: the day each pupil's open case was opened (local date), nothing else."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return {pid: case.opened_at.astimezone(zone).date()
            for pid, case in open_cases_by_pupil(pupil_ids=pupil_ids).items()}


def _new_case(*, actor: User, pupil: Pupil, origin: CaseOrigin, risk: RiskLevel, reason: str | None,
              next_review_on: date | None) -> MonitoringCase:
    now = utcnow()
    case = MonitoringCase(school_id=pupil.school_id, pupil_id=pupil.id, owner_id=actor.id,
                          status=CaseStatus.OPEN.value, opened_at=now, opened_by_id=actor.id,
                          next_review_on=next_review_on, updated_at=now, updated_by_id=actor.id)
    case.risk_level = risk.value
    case.origin = origin.value
    db.session.add(case)
    db.session.flush()
    _event(actor, case, CaseEventKind.OPENED, {"origin": origin.value, "risk": risk.value, "reason": reason})
    referrals.plan_steps(case=case, level=risk.value)  # high/acute: the inter-agency steps, due from now
    _audit(actor, AuditAction.CASE_OPENED, case)
    return case


def open_case(*, actor: User, pupil: Pupil, origin: CaseOrigin, risk: RiskLevel, reason: str,
              next_review_on: date | None = None) -> MonitoringCase:
    """Open a case for ``pupil`` owned by ``actor`` (a psychologist); :class:`PupilHasOpenCase` if one is open."""
    reason = _reason(reason)
    existing = open_case_of(pupil.id)
    if existing is not None:
        raise PupilHasOpenCase(existing)
    try:
        case = _new_case(actor=actor, pupil=pupil, origin=origin, risk=risk, reason=reason,
                         next_review_on=next_review_on)
        db.session.commit()
    except IntegrityError:  # someone opened one at the same moment: the unique index keeps it to one
        db.session.rollback()
        existing = open_case_of(pupil.id)
        if existing is None:
            raise
        raise PupilHasOpenCase(existing) from None
    return case


def case_from_alert(*, actor: User, alert: Alert) -> tuple[MonitoringCase, bool]:
    """One click from the inbox: open a case for the alert's pupil, or add the alert to the pupil's open case;
    the alert is linked to the case and resolved into it, all in one transaction. Returns (case, opened)."""
    for attempt in range(2):
        if alert.resolved_at is not None:
            raise AlertAlreadyResolved(alert.id)
        pupil = db.session.get_one(Pupil, alert.pupil_id)
        case = open_case_of(pupil.id)
        opened = case is None
        try:
            if case is None:
                case = _new_case(actor=actor, pupil=pupil, origin=CaseOrigin.ALERT,
                                 risk=RISK_FROM_SEVERITY.get(alert.severity, RiskLevel.MODERATE), reason=None,
                                 next_review_on=None)
            _event(actor, case, CaseEventKind.ALERT_LINKED, {
                "alert": alert.uuid, "instrument": alert.instrument_ref, "severity": alert.severity,
                "raised_at": alert.raised_at.isoformat()})
            close_into_case(actor=actor, alert=alert, case_uuid=case.uuid)
            _audit(actor, AuditAction.CASE_ALERT_LINKED, case)
            db.session.commit()
        except IntegrityError:  # a case was opened for the pupil meanwhile: add the alert to it instead
            db.session.rollback()
            if attempt:
                raise
            continue
        except Exception:
            db.session.rollback()  # nothing of a half-done link stays in the session
            raise
        return case, opened
    raise AssertionError("unreachable")


def read_case(*, actor: User, case: MonitoringCase) -> MonitoringCase:
    """Audit the opening of a case file before it is shown."""
    audit.record_read(actor, AuditAction.CASE_READ, school_id=case.school_id, pupil_id=case.pupil_id,
                      object_type="case", object_id=case.uuid)
    return case


@dataclass(frozen=True)
class CaseRow:
    """One line of the caseload page (decrypted before the reading is audited, shown after)."""

    uuid: str
    pupil_name: str
    class_label: str
    risk: str
    status: str
    next_review_on: date | None
    owner_name: str
    is_owner: bool

    def review_overdue(self, today: date) -> bool:
        return self.next_review_on is not None and self.next_review_on < today and self.status != "closed"


_RISK_ORDER = {level.value: n for n, level in enumerate(reversed(list(RiskLevel)))}


def caseload(*, actor: User, include_closed: bool = False) -> list[CaseRow]:
    """The cases ``actor`` may read (owner, team, grant): most severe risk first, then the earliest review; the
    reading is audited once (ids and a count)."""
    query = visible_cases(actor, Permission.MONITORING_CASE_READ).options(
        selectinload(MonitoringCase.pupil).selectinload(Pupil.school_class),
        selectinload(MonitoringCase.owner).lazyload(User.assignments))  # a name is all the list shows
    if not include_closed:
        query = query.where(MonitoringCase.status.in_(NOT_CLOSED))
    rows = [CaseRow(uuid=c.uuid, pupil_name=c.pupil.short_name,
                    class_label=c.pupil.school_class.label if c.pupil.school_class else "—",
                    risk=c.risk_level, status=c.status, next_review_on=c.next_review_on,
                    owner_name=c.owner.display_name, is_owner=c.owner_id == actor.id)
            for c in db.session.execute(query).scalars()]
    rows.sort(key=lambda r: (r.status == CaseStatus.CLOSED.value, _RISK_ORDER.get(r.risk, 9),
                             r.next_review_on or date.max, r.pupil_name.casefold()))
    audit.record_read(actor, AuditAction.CASE_LIST_READ, details={"count": len(rows), "closed": include_closed})
    return rows


def change_risk(*, actor: User, case: MonitoringCase, version: int | None, risk: RiskLevel,
                reason: str) -> MonitoringCase:
    """Set a new risk level with its reason (kept in the case's history)."""
    reason = _reason(reason)
    if case.is_closed:
        raise CaseClosed()
    with versioned(actor=actor, record=case, version=version, object_type="case"):
        previous = case.risk_level
        if previous == risk.value:
            raise SameRisk()
        case.risk_level = risk.value
        _touch(actor, case)
        _event(actor, case, CaseEventKind.RISK, {"from": previous, "to": risk.value, "reason": reason})
        referrals.plan_steps(case=case, level=risk.value)
        _audit(actor, AuditAction.CASE_RISK_CHANGED, case)
    return case


def allowed_statuses(case: MonitoringCase) -> tuple[CaseStatus, ...]:
    """The statuses the case can move to from where it is."""
    return TRANSITIONS[CaseStatus(case.status)]


def change_status(*, actor: User, case: MonitoringCase, version: int | None, status: CaseStatus,
                  reason: str) -> MonitoringCase:
    """Move the case along its workflow (or reopen it) with a reason; invalid moves raise InvalidTransition."""
    reason = _reason(reason)
    with versioned(actor=actor, record=case, version=version, object_type="case"):
        previous = case.status
        if status not in allowed_statuses(case):
            raise InvalidTransition(previous, status.value)
        if previous == CaseStatus.CLOSED.value:
            other = open_case_of(case.pupil_id)
            if other is not None:
                raise PupilHasOpenCase(other)
        case.status = status.value
        case.closed_at = utcnow() if status is CaseStatus.CLOSED else None
        _touch(actor, case)
        _event(actor, case, CaseEventKind.STATUS, {"from": previous, "to": status.value, "reason": reason})
        _audit(actor, AuditAction.CASE_STATUS_CHANGED, case, **{"from": previous, "to": status.value})
    return case


def set_review_date(*, actor: User, case: MonitoringCase, version: int | None,
                    next_review_on: date | None) -> MonitoringCase:
    """Set (or clear) the date of the case's next review."""
    if case.is_closed:
        raise CaseClosed()
    with versioned(actor=actor, record=case, version=version, object_type="case"):
        previous = case.next_review_on
        case.next_review_on = next_review_on
        _touch(actor, case)
        _event(actor, case, CaseEventKind.REVIEW_DATE, {
            "from": previous.isoformat() if previous else None,
            "to": next_review_on.isoformat() if next_review_on else None})
        _audit(actor, AuditAction.CASE_REVIEW_DATE_SET, case)
    return case


def _team_role(user: User, school_id: int) -> TeamRole | None:
    for assignment in user.assignments:
        role = Role(assignment.role)
        if assignment.school_id == school_id and role in TEAM_ROLES:
            return TEAM_ROLES[role]
    return None


def eligible_team(case: MonitoringCase) -> list[tuple[User, TeamRole]]:
    """Active staff of the case's school who can join its team (psychologists, social pedagogues, the school
    administration), without the owner and the current members."""
    taken = {case.owner_id} | {m.user_id for m in case.current_members}
    users = db.session.execute(
        select(User).join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.school_id == case.school_id,
               RoleAssignment.role.in_([r.value for r in TEAM_ROLES]), User.active.is_(True))
        .order_by(User.full_name, User.id)).scalars().unique()
    found = []
    for user in users:
        role = _team_role(user, case.school_id)
        if user.id not in taken and role is not None:
            found.append((user, role))
    return found


def add_member(*, actor: User, case: MonitoringCase, version: int | None, user_id: int) -> CaseMember:
    """Put a member of the school's staff on the case's team."""
    if case.is_closed:
        raise CaseClosed()
    candidates = {user.id: role for user, role in eligible_team(case)}
    if user_id not in candidates:
        raise NotEligible(user_id)
    with versioned(actor=actor, record=case, version=version, object_type="case"):
        member = CaseMember(case_id=case.id, user_id=user_id, team_role=candidates[user_id].value,
                            added_at=utcnow(), added_by_id=actor.id)
        db.session.add(member)
        _touch(actor, case)
        _event(actor, case, CaseEventKind.MEMBER_ADDED, {"user": user_id, "role": candidates[user_id].value})
        _audit(actor, AuditAction.CASE_MEMBER_ADDED, case, user=user_id)
    return member


def remove_member(*, actor: User, case: MonitoringCase, version: int | None, member_id: int) -> CaseMember:
    """End a team membership (the row stays: who was on the team, and until when)."""
    member = next((m for m in case.current_members if m.id == member_id), None)
    if member is None:
        raise NotEligible(member_id)
    with versioned(actor=actor, record=case, version=version, object_type="case"):
        member.removed_at, member.removed_by_id = utcnow(), actor.id
        _touch(actor, case)
        _event(actor, case, CaseEventKind.MEMBER_REMOVED, {"user": member.user_id, "role": member.team_role})
        _audit(actor, AuditAction.CASE_MEMBER_REMOVED, case, user=member.user_id)
    return member


def add_note(*, actor: User, case: MonitoringCase, body: str) -> CaseNote:
    """Append a note (encrypted under the school's key) with its author and time; notes are never edited."""
    text = (body or "").strip()
    if not text:
        raise ReasonRequired()
    if case.is_closed:
        raise CaseClosed()
    note = CaseNote(school_id=case.school_id, case_id=case.id, author_id=actor.id, at=utcnow())
    note.body = text
    db.session.add(note)
    db.session.flush()
    _audit(actor, AuditAction.CASE_NOTE_ADDED, case, note=note.uuid)
    db.session.commit()
    return note
