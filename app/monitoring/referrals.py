"""Referrals out of a case and the inter-agency algorithm's steps on it; what is overdue.

A referral (to a specialist, the mobile group, the commission, the police, a support centre) has a deadline and
moves sent → accepted → outcome recorded, or is declined; each change is audited with the pupil's id only. When a
case's risk is set to high or acute, the algorithm's steps for that level are added to the case in the same
transaction (:func:`plan_steps`), each due a number of minutes later; team members tick them off. A referral
waiting past its deadline and a step not done by its due time are overdue.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from app.auth.models import User
from app.auth.permissions import Permission, case_school_ids, visible_cases, visible_transfers
from app.consent.services import today_local
from app.core import audit
from app.core.audit import AuditAction
from app.core.models import School, utcnow
from app.extensions import db
from app.monitoring import algorithm
from app.monitoring.conflicts import versioned
from app.monitoring.models import CaseStatus, MonitoringCase
from app.monitoring.referral_models import (
    REFERRAL_TRANSITIONS,
    REFERRAL_WAITING,
    CaseStep,
    Referral,
    ReferralDestination,
    ReferralStatus,
)

NOT_CLOSED = (CaseStatus.OPEN.value, CaseStatus.ACTIVE.value, CaseStatus.REVIEW.value)


class ReferralError(ValueError):
    """A change the referral's rules refuse (the view shows a message)."""


class CaseIsClosed(ReferralError):
    """A closed case gets no new referral and no ticked step."""


class TextRequired(ReferralError):
    """A reason, an outcome or a refusal's reason must be written."""


class BadReferralStatus(ReferralError):
    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"{current} -> {wanted}")
        self.current, self.wanted = current, wanted


class BadDate(ReferralError):
    """A deadline or outcome date before the referral was sent."""


class StepAlreadyDone(ReferralError):
    pass


def current_algorithm() -> algorithm.Algorithm:
    """The algorithm configured for this application (validated when the application started)."""
    return algorithm.load(current_app.config.get("MONITORING_ALGORITHM_FILE"))


def _audit(actor: User, action: AuditAction, case: MonitoringCase, object_type: str, object_id: str,
           **details: Any) -> None:
    audit.record(actor, action, school_id=case.school_id, pupil_id=case.pupil_id, object_type=object_type,
                 object_id=object_id, details=details or None)


def _text(value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        raise TextRequired()
    return text


# --- referrals ------------------------------------------------------------------------------------------------


def case_referrals(case: MonitoringCase) -> list[Referral]:
    """The case's referrals, newest first."""
    return list(db.session.execute(
        select(Referral).where(Referral.case_id == case.id).order_by(Referral.sent_on.desc(), Referral.id.desc())
    ).scalars())


def create_referral(*, actor: User, case: MonitoringCase, destination: ReferralDestination, reason: str,
                    sent_on: date, deadline: date) -> Referral:
    """Record a referral sent from the case (destination and reason encrypted) and audit it."""
    reason = _text(reason)
    if case.is_closed:
        raise CaseIsClosed()
    if deadline < sent_on:
        raise BadDate()
    now = utcnow()
    referral = Referral(school_id=case.school_id, case_id=case.id, status=ReferralStatus.SENT.value,
                        sent_on=sent_on, deadline=deadline, created_at=now, created_by_id=actor.id,
                        updated_at=now, updated_by_id=actor.id)
    referral.destination = destination.value
    referral.reason = reason
    db.session.add(referral)
    db.session.flush()
    _audit(actor, AuditAction.REFERRAL_CREATED, case, "referral", referral.uuid)
    db.session.commit()
    return referral


def allowed_referral_statuses(referral: Referral) -> tuple[ReferralStatus, ...]:
    return REFERRAL_TRANSITIONS[ReferralStatus(referral.status)]


def update_referral(*, actor: User, referral: Referral, version: int | None, status: ReferralStatus,
                    text: str | None, on: date | None) -> Referral:
    """Move a referral on: accepted, outcome recorded (the outcome and its date), or declined (with the reason)."""
    case = referral.case
    if case.is_closed:
        raise CaseIsClosed()
    if status in (ReferralStatus.OUTCOME, ReferralStatus.DECLINED):
        text = _text(text)
    with versioned(actor=actor, record=referral, version=version, object_type="referral"):
        previous = referral.status
        if status not in allowed_referral_statuses(referral):
            raise BadReferralStatus(previous, status.value)
        if status in (ReferralStatus.OUTCOME, ReferralStatus.DECLINED):
            day = on or today_local()
            if day < referral.sent_on:
                raise BadDate()
            referral.outcome, referral.outcome_on = text, day
        referral.status = status.value
        referral.updated_at, referral.updated_by_id = utcnow(), actor.id
        _audit(actor, AuditAction.REFERRAL_UPDATED, case, "referral", referral.uuid,
               **{"from": previous, "to": status.value})
    return referral


# --- the algorithm's steps ------------------------------------------------------------------------------------


def case_steps(case: MonitoringCase) -> list[CaseStep]:
    """The case's algorithm steps: open ones first by due time, then done ones."""
    steps = list(db.session.execute(select(CaseStep).where(CaseStep.case_id == case.id)).scalars())
    steps.sort(key=lambda s: (s.done_at is not None, s.due_at, s.id))
    return steps


def plan_steps(*, case: MonitoringCase, level: str, now: datetime | None = None) -> list[CaseStep]:
    """Add the algorithm's steps for ``level`` to the case (in the caller's transaction), due from ``now``; a step
    already open on the case is not added twice. Low and moderate risk add nothing."""
    chosen = current_algorithm()
    steps = chosen.steps_for(level)
    if not steps:
        return []
    now = now or utcnow()
    db.session.flush()
    open_keys = {s.data.get("key") for s in db.session.execute(
        select(CaseStep).where(CaseStep.case_id == case.id, CaseStep.done_at.is_(None))).scalars()}
    added = []
    for step in steps:
        if step.key in open_keys:
            continue
        row = CaseStep(school_id=case.school_id, case_id=case.id, created_at=now,
                       due_at=now + timedelta(minutes=step.due_minutes))
        row.data = {"level": level, "key": step.key, "algorithm": chosen.version}
        db.session.add(row)
        added.append(row)
    return added


def complete_step(*, actor: User, step: CaseStep, version: int | None, note: str | None) -> CaseStep:
    """Tick a step off (who and when, and optionally what was done, encrypted) and audit it."""
    case = step.case
    if case.is_closed:
        raise CaseIsClosed()
    with versioned(actor=actor, record=step, version=version, object_type="case_step"):
        if step.done_at is not None:
            raise StepAlreadyDone()
        step.done_at, step.done_by_id = utcnow(), actor.id
        step.note = (note or "").strip() or None
        _audit(actor, AuditAction.CASE_STEP_DONE, case, "case_step", step.uuid)
    return step


@dataclass(frozen=True)
class StepView:
    """A step as the case page shows it, in the reader's language."""

    step: CaseStep
    level: str
    action: str
    who: str
    confirmed: bool
    overdue: bool


def step_views(steps: list[CaseStep], *, language: str, now: datetime | None = None) -> list[StepView]:
    """The steps with their texts from the algorithm (a step of a key the file no longer has shows its key)."""
    chosen = current_algorithm()
    now = now or utcnow()
    views = []
    for row in steps:
        data = row.data
        step = chosen.step(str(data.get("level")), str(data.get("key")))
        views.append(StepView(step=row, level=str(data.get("level")),
                              action=step.text("action", language) if step else str(data.get("key")),
                              who=step.text("who", language) if step else "—",
                              confirmed=step.confirmed if step else False, overdue=row.is_overdue(now)))
    return views


# --- what is overdue ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overdue:
    referrals: int = 0
    steps: int = 0

    @property
    def total(self) -> int:
        return self.referrals + self.steps


@dataclass
class OverdueSummary:
    """Overdue counts per case the reader is on, and (for a school administrator) per school, counts only."""

    by_case: dict[str, Overdue] = field(default_factory=dict)
    schools: list[tuple[str, Overdue]] = field(default_factory=list)
    #: Cases other schools want to hand over to the reader's school (psychologists), waiting for an answer.
    transfers_waiting: int = 0

    @property
    def total(self) -> Overdue:
        return Overdue(referrals=sum(o.referrals for o in self.by_case.values()),
                       steps=sum(o.steps for o in self.by_case.values()))


def _counts(case_ids: Any, *, now: datetime, group: Any) -> dict[Any, Overdue]:
    """Overdue referrals and steps of the open cases in ``case_ids`` (a subquery), grouped by ``group``."""
    referrals: dict[Any, int] = dict(db.session.execute(
        select(group, func.count(Referral.id)).join(MonitoringCase, MonitoringCase.id == Referral.case_id)
        .where(Referral.case_id.in_(case_ids), MonitoringCase.status.in_(NOT_CLOSED),
               Referral.status.in_(REFERRAL_WAITING), Referral.deadline < now.date())
        .group_by(group)).all())
    steps: dict[Any, int] = dict(db.session.execute(
        select(group, func.count(CaseStep.id)).join(MonitoringCase, MonitoringCase.id == CaseStep.case_id)
        .where(CaseStep.case_id.in_(case_ids), MonitoringCase.status.in_(NOT_CLOSED),
               CaseStep.done_at.is_(None), CaseStep.due_at < now)
        .group_by(group)).all())
    counter: Counter[Any] = Counter()
    counter.update(referrals.keys())
    counter.update(steps.keys())
    return {key: Overdue(referrals=referrals.get(key, 0), steps=steps.get(key, 0)) for key in counter}


def overdue_summary(*, actor: User, now: datetime | None = None) -> OverdueSummary:
    """What is overdue on the cases ``actor`` is on (by case uuid) and, for a school administrator, the counts of
    the whole school (no case, no pupil: numbers only)."""
    now = now or utcnow()
    mine = visible_cases(actor, Permission.MONITORING_CASE_READ).with_only_columns(MonitoringCase.id)
    summary = OverdueSummary(by_case=_counts(mine, now=now, group=MonitoringCase.uuid))
    summary.transfers_waiting = db.session.execute(
        select(func.count()).select_from(visible_transfers(actor).subquery())).scalar_one()
    schools = case_school_ids(actor, Permission.MONITORING_OVERDUE_COUNTS)
    if schools:
        whole = select(MonitoringCase.id).where(MonitoringCase.school_id.in_(schools))
        counts = _counts(whole, now=now, group=MonitoringCase.school_id)
        found = db.session.execute(select(School).where(School.id.in_(schools))).scalars()
        summary.schools = sorted(((school.name, counts.get(school.id, Overdue())) for school in found),
                                 key=lambda item: item[0].casefold())
    return summary
