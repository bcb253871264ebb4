"""Safety plans, support plans, plan reviews, follow-ups and contacts with parents (issue 10 items 3-5).

Everything a pupil or a parent said, and everything that was done, is encrypted under the school's data key
(:class:`~app.core.school_keys.SchoolEncrypted`). Plaintext is what schedules and scoping query by: school, pupil,
case, dates and an action's status. A safety plan keeps every saved version; reviews, follow-ups and contacts
are append-only; the editable rows (the plans, an action, a case's follow-up interval) carry a ``version``.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import new_uuid, utcnow
from app.core.school_keys import SchoolEncrypted
from app.extensions import Model
from app.monitoring.models import _json_property

if TYPE_CHECKING:
    from app.auth.models import User


class SafetySection(enum.StrEnum):
    """The six steps of a Stanley–Brown safety plan, in the plan's order."""

    WARNING_SIGNS = "warning_signs"
    COPING = "coping"
    DISTRACTION = "distraction"
    PEOPLE = "people"
    PROFESSIONALS = "professionals"
    ENVIRONMENT = "environment"


#: Helplines always printed on the pupil's plan and prefilled in the professionals step (safe messaging).
HELPLINES = ("150", "111", "112")


class ActionStatus(enum.StrEnum):
    PLANNED = "planned"
    DONE = "done"
    NOT_DONE = "not_done"
    CANCELLED = "cancelled"


class PlanKind(enum.StrEnum):
    SAFETY = "safety"
    SUPPORT = "support"


class ContactWay(enum.StrEnum):
    MEETING = "meeting"
    PHONE = "phone"
    MESSAGE = "message"
    HOME_VISIT = "home_visit"
    LETTER = "letter"


class SafetyPlan(Model):
    """A case's safety plan: its current text and review date; every save appends a :class:`SafetyPlanVersion`."""

    __tablename__ = "safety_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("monitoring_cases.id"), unique=True)
    #: Sensitive (mental health): school-key ciphertext of the JSON {section: text} of :class:`SafetySection`.
    content_ct: Mapped[bytes] = mapped_column(LargeBinary)
    review_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Optimistic locking: every UPDATE checks and increments it.
    version: Mapped[int] = mapped_column(default=1)

    content_json = SchoolEncrypted("content_ct")
    content = _json_property("content_json", "content_ct")

    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    versions: Mapped[list[SafetyPlanVersion]] = relationship(
        back_populates="plan", order_by="SafetyPlanVersion.number.desc()")

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<SafetyPlan {self.id}>"


class SafetyPlanVersion(Model):
    """One saved version of a safety plan (the history: nothing typed is ever overwritten). Append-only."""

    __tablename__ = "safety_plan_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("safety_plans.id"), index=True)
    number: Mapped[int]
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)
    saved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_on: Mapped[date | None]
    #: Sensitive: school-key ciphertext of the plan's JSON text as saved.
    content_ct: Mapped[bytes] = mapped_column(LargeBinary)

    content_json = SchoolEncrypted("content_ct")
    content = _json_property("content_json", "content_ct")

    plan: Mapped[SafetyPlan] = relationship(back_populates="versions")
    saved_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<SafetyPlanVersion {self.id}>"


class SupportPlan(Model):
    """A case's support plan: its review date; the actions are :class:`SupportAction` rows."""

    __tablename__ = "support_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("monitoring_cases.id"), unique=True)
    review_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)

    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    actions: Mapped[list[SupportAction]] = relationship(
        back_populates="plan", order_by="SupportAction.id")

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<SupportPlan {self.id}>"


class SupportAction(Model):
    """One action of a support plan: what, who is responsible, by when, its outcome and status."""

    __tablename__ = "support_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("support_plans.id"), index=True)
    #: Sensitive: school-key ciphertext of the JSON {"action", "responsible", "outcome"}.
    details_ct: Mapped[bytes] = mapped_column(LargeBinary)
    due_on: Mapped[date | None]
    #: planned | done | not_done | cancelled (says nothing about the pupil alone).
    status: Mapped[str] = mapped_column(String(16), default=ActionStatus.PLANNED.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)

    details_json = SchoolEncrypted("details_ct")
    details = _json_property("details_json", "details_ct")

    plan: Mapped[SupportPlan] = relationship(back_populates="actions")
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<SupportAction {self.id}>"


class PlanReview(Model):
    """A review of a safety or support plan: when, by whom, what was concluded, the next review. Append-only."""

    __tablename__ = "plan_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("monitoring_cases.id"), index=True)
    #: safety | support (which plan; plaintext: the case itself is known to have plans).
    plan: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    next_review_on: Mapped[date | None]
    #: Sensitive: school-key ciphertext of what the review concluded.
    note_ct: Mapped[bytes] = mapped_column(LargeBinary)

    note = SchoolEncrypted("note_ct")

    actor: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<PlanReview {self.id}>"


class FollowUpSetting(Model):
    """A case's own follow-up interval (without one, the configured default applies)."""

    __tablename__ = "followup_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("monitoring_cases.id"), unique=True)
    interval_days: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)

    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<FollowUpSetting {self.id}>"


class FollowUp(Model):
    """A scheduled review of a pupil under monitoring (in a case, or on a registry without a case). Append-only."""

    __tablename__ = "followups"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    #: The case it belongs to; None for a registered pupil without an open case.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("monitoring_cases.id"), index=True)
    done_on: Mapped[date]
    next_on: Mapped[date | None]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Sensitive: school-key ciphertext of the JSON {"done": what was done, "outcome": its outcome}.
    details_ct: Mapped[bytes] = mapped_column(LargeBinary)

    details_json = SchoolEncrypted("details_ct")
    details = _json_property("details_json", "details_ct")

    actor: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<FollowUp {self.id}>"


class ParentContact(Model):
    """A contact with the pupil's parents in a case: date, way, summary (encrypted). Append-only."""

    __tablename__ = "parent_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("monitoring_cases.id"), index=True)
    contacted_on: Mapped[date]
    #: Sensitive: school-key ciphertext of the JSON {"way": :class:`ContactWay`, "summary": text}.
    details_ct: Mapped[bytes] = mapped_column(LargeBinary)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    details_json = SchoolEncrypted("details_ct")
    details = _json_property("details_json", "details_ct")

    actor: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<ParentContact {self.id}>"


def section_lines(content: dict[str, Any], section: SafetySection) -> list[str]:
    """The non-empty lines of one step of a plan (one item per line)."""
    return [line.strip() for line in str(content.get(section.value, "")).splitlines() if line.strip()]
