"""Safety plans (Stanley–Brown) and support plans of a case, and their reviews.

A safety plan is saved whole: each save appends a version (the history) and moves the plan's version on, so a
form loaded before someone else's save gets the conflict page. Every change is audited with the pupil's id only.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.core import audit
from app.core.audit import AuditAction
from app.core.models import utcnow
from app.extensions import db
from app.monitoring.conflicts import refused, versioned
from app.monitoring.models import MonitoringCase
from app.monitoring.plan_models import (
    HELPLINES,
    ActionStatus,
    PlanKind,
    PlanReview,
    SafetyPlan,
    SafetyPlanVersion,
    SafetySection,
    SupportAction,
    SupportPlan,
)
from app.monitoring.services import CaseClosed, ReasonRequired


def _audit(actor: User, action: AuditAction, case: MonitoringCase, object_type: str, object_id: str) -> None:
    audit.record(actor, action, school_id=case.school_id, pupil_id=case.pupil_id, object_type=object_type,
                 object_id=object_id)


def _open(case: MonitoringCase) -> None:
    if case.is_closed:
        raise CaseClosed()


def blank_safety_content() -> dict[str, str]:
    """A new plan's text: every step empty except the helplines, which are always there."""
    content = dict.fromkeys((s.value for s in SafetySection), "")
    content[SafetySection.PROFESSIONALS.value] = "\n".join(HELPLINES)
    return content


def safety_plan_of(case: MonitoringCase) -> SafetyPlan | None:
    """The case's safety plan, if one was saved."""
    return db.session.execute(select(SafetyPlan).where(SafetyPlan.case_id == case.id)).scalar_one_or_none()


def read_safety_plan(*, actor: User, case: MonitoringCase, printed: bool = False) -> SafetyPlan | None:
    """The case's safety plan, its reading (or printing) audited first."""
    plan = safety_plan_of(case)
    audit.record_read(actor, AuditAction.SAFETY_PLAN_PRINTED if printed else AuditAction.SAFETY_PLAN_READ,
                      school_id=case.school_id, pupil_id=case.pupil_id, object_type="case", object_id=case.uuid)
    return plan


def _clean(content: dict[str, Any]) -> dict[str, str]:
    cleaned = {s.value: str(content.get(s.value) or "").strip() for s in SafetySection}
    lines = cleaned[SafetySection.PROFESSIONALS.value].splitlines()
    missing = [number for number in HELPLINES if not any(number in line for line in lines)]
    if missing:  # the helplines are part of every plan, whatever was typed
        cleaned[SafetySection.PROFESSIONALS.value] = "\n".join([*lines, *missing]).strip()
    return cleaned


def save_safety_plan(*, actor: User, case: MonitoringCase, version: int | None, content: dict[str, Any],
                     review_on: date | None) -> SafetyPlan:
    """Save the plan's text (a new version kept in its history); ``version`` is the plan's version the form was
    loaded with (None for a new plan). EditConflict if someone saved in between."""
    _open(case)
    cleaned = _clean(content)
    now = utcnow()
    plan = safety_plan_of(case)
    if plan is None:
        if version is not None:  # the form saw a plan that is gone: cannot happen, but never guess
            raise ReasonRequired()
        return _first_safety_plan(actor, case, cleaned, review_on)
    with versioned(actor=actor, record=plan, version=version, object_type="safety_plan"):
        plan.content = cleaned
        plan.review_on = review_on
        plan.updated_at, plan.updated_by_id = now, actor.id
        number = 1 + max((v.number for v in plan.versions), default=0)
        _add_version(actor, plan, cleaned, review_on, number)
        _audit(actor, AuditAction.SAFETY_PLAN_SAVED, case, "safety_plan", plan.uuid)
    return plan


def _first_safety_plan(actor: User, case: MonitoringCase, content: dict[str, str],
                       review_on: date | None) -> SafetyPlan:
    """Save the case's first plan. Two people saving a first plan at the same moment both find none; the unique
    case index lets one in, and the other gets :class:`EditConflict` with the plan that won (never an error page,
    never an overwrite)."""
    now = utcnow()
    plan = SafetyPlan(school_id=case.school_id, pupil_id=case.pupil_id, case_id=case.id, created_at=now,
                      updated_at=now, updated_by_id=actor.id, review_on=review_on)
    plan.content = content
    try:
        db.session.add(plan)
        db.session.flush()
        _add_version(actor, plan, content, review_on, 1)
        _audit(actor, AuditAction.SAFETY_PLAN_SAVED, case, "safety_plan", plan.uuid)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        winner = safety_plan_of(case)
        if winner is None:
            raise
        raise refused(actor, winner, "safety_plan") from None
    return plan


def _add_version(actor: User, plan: SafetyPlan, content: dict[str, str], review_on: date | None,
                 number: int) -> None:
    saved = SafetyPlanVersion(school_id=plan.school_id, plan_id=plan.id, number=number, saved_at=utcnow(),
                              saved_by_id=actor.id, review_on=review_on)
    saved.content = content
    db.session.add(saved)


# --- the support plan -------------------------------------------------------------------------------------------


def support_plan_of(case: MonitoringCase) -> SupportPlan | None:
    """The case's support plan, if it has one."""
    return db.session.execute(select(SupportPlan).where(SupportPlan.case_id == case.id)).scalar_one_or_none()


def read_support_plan(*, actor: User, case: MonitoringCase) -> SupportPlan | None:
    """The case's support plan, its reading audited first."""
    plan = support_plan_of(case)
    audit.record_read(actor, AuditAction.SUPPORT_PLAN_READ, school_id=case.school_id, pupil_id=case.pupil_id,
                      object_type="case", object_id=case.uuid)
    return plan


def _support_plan(actor: User, case: MonitoringCase) -> SupportPlan:
    """The case's support plan, made on first use. When two people add the first action at the same moment, the
    unique case index lets one plan in; the other's insert is undone alone (a savepoint) and its action joins the
    plan that won: both actions kept, no error page."""
    plan = support_plan_of(case)
    if plan is None:
        now = utcnow()
        plan = SupportPlan(school_id=case.school_id, pupil_id=case.pupil_id, case_id=case.id, created_at=now,
                           updated_at=now, updated_by_id=actor.id)
        try:
            with db.session.begin_nested():
                db.session.add(plan)
        except IntegrityError:
            won = support_plan_of(case)
            if won is None:
                raise
            plan = won
    return plan


def _text(value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        raise ReasonRequired()
    return text


def add_action(*, actor: User, case: MonitoringCase, action: str, responsible: str,
               due_on: date | None) -> SupportAction:
    """Add an action to the case's support plan (made on first use)."""
    _open(case)
    what, who = _text(action), _text(responsible)
    plan = _support_plan(actor, case)
    now = utcnow()
    row = SupportAction(school_id=case.school_id, pupil_id=case.pupil_id, plan_id=plan.id, due_on=due_on,
                        status=ActionStatus.PLANNED.value, created_at=now, updated_at=now, updated_by_id=actor.id)
    row.details = {"action": what, "responsible": who, "outcome": ""}
    db.session.add(row)
    db.session.flush()
    _audit(actor, AuditAction.SUPPORT_ACTION_ADDED, case, "support_action", row.uuid)
    db.session.commit()
    return row


def update_action(*, actor: User, case: MonitoringCase, row: SupportAction, version: int | None,
                  status: ActionStatus, outcome: str, due_on: date | None) -> SupportAction:
    """Record an action's status and outcome (or move its due date) from a form loaded at ``version``."""
    _open(case)
    with versioned(actor=actor, record=row, version=version, object_type="support_action"):
        row.details = {**row.details, "outcome": (outcome or "").strip()}
        row.status, row.due_on = status.value, due_on
        row.updated_at, row.updated_by_id = utcnow(), actor.id
        _audit(actor, AuditAction.SUPPORT_ACTION_UPDATED, case, "support_action", row.uuid)
    return row


def action_of(case: MonitoringCase, action_uuid: str) -> SupportAction | None:
    """An action of this case's support plan (None for any other id)."""
    return db.session.execute(select(SupportAction).join(SupportPlan).where(
        SupportPlan.case_id == case.id, SupportAction.uuid == action_uuid)).scalar_one_or_none()


# --- reviews ------------------------------------------------------------------------------------------------------


def review_plan(*, actor: User, case: MonitoringCase, kind: PlanKind, note: str,
                next_review_on: date | None) -> PlanReview:
    """Record a review of the case's safety or support plan and set the plan's next review date."""
    _open(case)
    text = _text(note)
    if kind is PlanKind.SAFETY:
        plan: SafetyPlan | SupportPlan | None = safety_plan_of(case)
        if plan is None:
            raise ReasonRequired()
    else:
        plan = _support_plan(actor, case)
    review = PlanReview(school_id=case.school_id, pupil_id=case.pupil_id, case_id=case.id, plan=kind.value,
                        at=utcnow(), actor_id=actor.id, next_review_on=next_review_on)
    review.note = text
    db.session.add(review)
    plan.review_on = next_review_on
    plan.updated_at, plan.updated_by_id = utcnow(), actor.id
    db.session.flush()
    _audit(actor, AuditAction.PLAN_REVIEWED, case, "plan_review", review.uuid)
    db.session.commit()
    return review


def reviews_of(case: MonitoringCase, kind: PlanKind) -> list[PlanReview]:
    """The reviews of one plan of the case, newest first."""
    return list(db.session.execute(select(PlanReview).where(
        PlanReview.case_id == case.id, PlanReview.plan == kind.value).order_by(PlanReview.id.desc())).scalars())
