"""Parents' pages: their own children, a child's summary, and who the school psychologist is.

A parent gets a :class:`ChildSummary` (name, class, school, psychologists), never a
:class:`~app.core.models.Pupil`: no screening answers, scores, monitoring notes or registry status can
reach the template.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import select

from app.auth.models import RoleAssignment, User
from app.auth.permissions import Permission, visible_pupils
from app.auth.roles import Role
from app.core import audit
from app.core.audit import AuditAction
from app.core.models import Pupil
from app.extensions import db


@dataclass(frozen=True)
class SchoolContact:
    """A school psychologist as parents and teachers see them: a name and an e-mail address."""

    name: str
    email: str | None


@dataclass(frozen=True)
class ChildSummary:
    """Everything the parent pages show about a child."""

    uuid: str
    name: str
    first_name: str
    class_label: str | None
    school_name: str
    psychologists: tuple[SchoolContact, ...] = ()
    #: Last day of the valid consent to screening, or None when there is none (not given, withdrawn, expired).
    consent_until: date | None = None


def school_psychologists(*, school_id: int) -> list[SchoolContact]:
    """Active psychologists of a school, by name (staff names are not sensitive)."""
    users = db.session.execute(
        select(User).join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.role == Role.PSYCHOLOGIST.value, RoleAssignment.school_id == school_id,
               User.active.is_(True))
        .distinct().order_by(User.full_name, User.id)
    ).scalars()
    return [SchoolContact(name=u.full_name or u.username, email=u.email or None) for u in users]


def _summary(pupil: Pupil, *, with_contacts: bool) -> ChildSummary:
    return ChildSummary(
        uuid=pupil.uuid, name=pupil.full_name, first_name=pupil.first_name,
        class_label=pupil.school_class.label if pupil.school_class else None,
        school_name=pupil.school.name,
        psychologists=tuple(school_psychologists(school_id=pupil.school_id)) if with_contacts else (),
    )


def my_children(*, actor: User) -> list[ChildSummary]:
    """The actor's own children (the parent scope of :func:`visible_pupils`)."""
    pupils = db.session.execute(
        visible_pupils(actor, Permission.PARENT_CHILD).order_by(Pupil.id)
    ).scalars()
    return sorted((_summary(p, with_contacts=False) for p in pupils), key=lambda c: c.name.casefold())


def read_child(*, actor: User, pupil: Pupil) -> ChildSummary:
    """Audit a parent's opening of their child's page, then give its summary with the consent status."""
    from app.consent.services import current_consent

    audit.record_read(actor, AuditAction.PARENT_CHILD_READ, school_id=pupil.school_id, pupil_id=pupil.id,
                      object_type="pupil", object_id=pupil.uuid)
    consent = current_consent(pupil)
    return replace(_summary(pupil, with_contacts=True), consent_until=consent.valid_until if consent else None)
