"""Parents' pages: their own children, a child's summary, and who the school psychologist is.

A parent gets a :class:`ChildSummary` (name, class, school, psychologists, consent, coming screenings), never a
:class:`~app.core.models.Pupil`: no screening answers, scores, monitoring notes or registry status can
reach the template.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import select

from app.auth.models import RoleAssignment, User
from app.auth.permissions import Permission, visible_pupils
from app.auth.roles import Role
from app.core import audit
from app.core.audit import AuditAction
from app.core.models import Pupil
from app.extensions import db
from app.parents.screenings import UpcomingScreening, upcoming_for


@dataclass(frozen=True)
class SchoolContact:
    """A school psychologist as parents and teachers see them: a name and an e-mail address."""

    name: str
    email: str | None


@dataclass(frozen=True)
class ConsentRecord:
    """One consent as its parent reads it: when and how it was given, until when, and when and how it ended."""

    given_at: datetime
    #: ConsentMethod: "online" (by a parent) or "paper" (a signed form the school recorded).
    method: str
    valid_until: date
    withdrawn_at: datetime | None
    #: "online" (by a parent), "paper" (recorded by the school), or None (not withdrawn, or not known).
    withdrawn_method: str | None


@dataclass(frozen=True)
class ConsentStatus:
    """The child's consent to screening now: "given", "withdrawn", "expired" or "none", with its records."""

    state: str
    current: ConsentRecord | None = None
    #: Every record, newest first.
    history: tuple[ConsentRecord, ...] = ()


def consent_status(pupil: Pupil, *, on: date | None = None) -> ConsentStatus:
    """The pupil's consent as a parent reads it (the newest record decides when none is valid)."""
    from app.consent.services import consent_history, current_consent, today_local

    day = on or today_local()
    records = consent_history(pupil)
    history = tuple(ConsentRecord(c.given_at, c.method, c.valid_until, c.withdrawn_at, c.withdrawn_method)
                    for c in records)
    current = current_consent(pupil, on=day)
    if current is not None:
        return ConsentStatus("given", history[records.index(current)], history)
    if not records:
        return ConsentStatus("none")
    newest = history[0]
    return ConsentStatus("withdrawn" if newest.withdrawn_at is not None else "expired", newest, history)


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
    consent: ConsentStatus = field(default_factory=lambda: ConsentStatus("none"))
    #: Campaigns of the child's class that have not closed (what is asked, when; never the child's part in them).
    screenings: tuple[UpcomingScreening, ...] = ()
    #: The parent's meeting requests about this child still waiting or arranged (home page).
    open_meetings: int = 0
    #: Of these, the times the psychologist proposed that wait for the parent's answer (home page).
    proposed_meetings: int = 0
    #: Summaries the psychologist has released to the parents (home page).
    summaries: int = 0


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


def home(*, actor: User) -> list[ChildSummary]:
    """The parent's home page: each own child with consent, coming screenings, open meeting requests and released
    summaries (counts only: the texts are on the child's page, whose opening is audited)."""
    from app.parents import meetings, summaries
    from app.parents.models import MeetingStatus

    pupils = list(db.session.execute(visible_pupils(actor, Permission.PARENT_CHILD).order_by(Pupil.id)).scalars())
    upcoming = upcoming_for(pupils)
    open_meetings = meetings.open_counts(actor=actor)
    proposed = meetings.open_counts(actor=actor, statuses=(MeetingStatus.SCHEDULED.value,))
    released = summaries.released_counts(actor=actor)
    children = [replace(_summary(p, with_contacts=False), consent=consent_status(p),
                        screenings=tuple(upcoming.get(p.id, ())), open_meetings=open_meetings.get(p.id, 0),
                        proposed_meetings=proposed.get(p.id, 0),
                        summaries=released.get(p.id, 0)) for p in pupils]
    return sorted(children, key=lambda c: c.name.casefold())


def read_child(*, actor: User, pupil: Pupil) -> ChildSummary:
    """Audit a parent's opening of their child's page, then give its summary with the consent status."""
    from app.consent.services import current_consent

    audit.record_read(actor, AuditAction.PARENT_CHILD_READ, school_id=pupil.school_id, pupil_id=pupil.id,
                      object_type="pupil", object_id=pupil.uuid)
    consent = current_consent(pupil)
    return replace(_summary(pupil, with_contacts=True), consent_until=consent.valid_until if consent else None,
                   consent=consent_status(pupil), screenings=tuple(upcoming_for([pupil]).get(pupil.id, ())))
