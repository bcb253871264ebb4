"""Class teacher's view: the teacher's classes and one summary flag per pupil.

A teacher sees a colour, a short text and a next step ("talk to the school psychologist"), never the
instrument, the score, the notes or any registry status (security.md §7 A3). Templates get
:class:`FlagRow` summaries, not :class:`~app.core.models.Pupil` objects.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

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
    """What a class teacher may know about a pupil: a colour, a short text and the next step."""

    colour: FlagColour
    text: str | LazyString
    next_step: str | LazyString | None = None


#: No flag: nothing for the teacher to do.
NO_FLAG = Flag(FlagColour.GREY, _l("No flag"), None)
#: Texts for the screening module to use, so that teachers always read the same wording.
ATTENTION_FLAG = Flag(FlagColour.AMBER, _l("Needs attention"),
                      _l("Talk to the school psychologist"))
URGENT_FLAG = Flag(FlagColour.RED, _l("Please contact the psychologist today"),
                   _l("Talk to the school psychologist today"))


@dataclass(frozen=True)
class FlagRow:
    """One line of the flags page."""

    pupil_name: str
    flag: Flag


def flags_for_class(school_class: SchoolClass) -> dict[int, Flag]:
    """The flag of each pupil of ``school_class`` (pupil id -> flag); pupils without one get :data:`NO_FLAG`.

    From screening alerts not yet resolved by the psychologist: an acute or urgent one gives
    :data:`URGENT_FLAG`, a routine one :data:`ATTENTION_FLAG`. Only these fixed texts reach the teacher:
    never an instrument name, a score, a note or a registry status. (The monitoring module will add
    its own source here.)
    """
    from app.screening.models import Alert

    rows = db.session.execute(
        select(Alert.pupil_id, Alert.severity)
        .join(Pupil, Pupil.id == Alert.pupil_id)
        .where(Pupil.class_id == school_class.id, Alert.resolved_at.is_(None))
    ).all()
    flags: dict[int, Flag] = {}
    for pupil_id, severity in rows:
        if severity in ("acute", "urgent"):
            flags[pupil_id] = URGENT_FLAG
        else:
            flags.setdefault(pupil_id, ATTENTION_FLAG)
    return flags


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
