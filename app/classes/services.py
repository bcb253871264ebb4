"""Class teacher's view: the teacher's classes and one summary flag per pupil.

A teacher sees one kind of flag, "talk to the school psychologist", with the date it went up, never the
instrument, the score, the severity, the notes or any registry status (security.md §7 A3; issue 9: a red flag
for acute and urgent alerts told the teacher more than that). Templates get :class:`FlagRow` summaries, not
:class:`~app.core.models.Pupil` objects.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import date

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.auth.models import User
from app.auth.permissions import Permission, visible_classes, visible_pupils
from app.core import audit
from app.core.audit import AuditAction
from app.core.models import Pupil, SchoolClass
from app.extensions import db
from app.parents.services import SchoolContact, school_psychologists


class FlagColour(enum.StrEnum):
    """The colours ``ui.flag`` draws (each with its own shape, never colour alone)."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    GREY = "grey"


@dataclass(frozen=True)
class Flag:
    """What a class teacher may know about a pupil: a colour, a short text, the next step and since when."""

    colour: FlagColour
    text: str | LazyString
    next_step: str | LazyString | None = None
    since: date | None = None


#: No flag: nothing for the teacher to do.
NO_FLAG = Flag(FlagColour.GREY, _l("No flag"), None)
#: The one flag a teacher sees, whatever raised it and however serious: the psychologist says the rest in person.
TALK_FLAG = Flag(FlagColour.AMBER, _l("Talk to the psychologist"), _l("Talk to the school psychologist"))


def talk_flag(since: date) -> Flag:
    """The flag, dated."""
    return replace(TALK_FLAG, since=since)


@dataclass(frozen=True)
class FlagRow:
    """One line of the flags page."""

    pupil_name: str
    flag: Flag


def flags_for_class(school_class: SchoolClass) -> dict[int, Flag]:
    """The flag of each pupil of ``school_class`` (pupil id -> flag); pupils without one get :data:`NO_FLAG`.

    A pupil with anything open for the psychologist (each source below gives the date it began) gets
    :func:`talk_flag` with the earliest date. Only that fixed text reaches the teacher: never an instrument name,
    a score, a severity, a note or a registry status. Sources: open screening alerts and monitoring cases that are
    not closed (the date the case was opened: never its risk, status, registry or notes).
    """
    from app.monitoring.services import open_case_dates
    from app.screening.alerts import open_alert_dates

    pupil_ids = db.session.execute(select(Pupil.id).where(Pupil.class_id == school_class.id)).scalars().all()
    since: dict[int, date] = {}
    for source in (open_alert_dates, open_case_dates):
        for pupil_id, day in source(pupil_ids=pupil_ids).items():
            since[pupil_id] = min(day, since.get(pupil_id, day))
    return {pupil_id: talk_flag(day) for pupil_id, day in since.items()}


def teacher_classes(*, actor: User) -> list[SchoolClass]:
    """The classes whose flags ``actor`` may see."""
    query = visible_classes(actor, Permission.CLASS_FLAGS).order_by(
        SchoolClass.school_year.desc(), SchoolClass.grade, SchoolClass.letter)
    return list(db.session.execute(query).scalars())


def class_flags(*, actor: User, school_class: SchoolClass) -> list[FlagRow]:
    """One flag row per pupil of the class, sorted by name; the reading is audited."""
    pupils = db.session.execute(
        visible_pupils(actor, Permission.CLASS_FLAGS).where(Pupil.class_id == school_class.id)
    ).scalars().all()
    flags = flags_for_class(school_class)
    rows = [FlagRow(pupil.short_name, flags.get(pupil.id, NO_FLAG)) for pupil in pupils]
    rows.sort(key=lambda r: r.pupil_name.casefold())
    audit.record_read(actor, AuditAction.CLASS_FLAGS_READ, school_id=school_class.school_id,
                      object_type="class", object_id=school_class.id,
                      details={"count": len(rows), "flagged": sum(r.flag is not NO_FLAG for r in rows)})
    return rows


def psychologists_of(school_class: SchoolClass) -> list[SchoolContact]:
    """Who the teacher should talk to: the psychologists of the class's school."""
    return school_psychologists(school_id=school_class.school_id)
