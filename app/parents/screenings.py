"""What a parent is told about screenings: the campaigns coming for a child's class, and each questionnaire in plain
words. Never whether the child took part, nor any answer or result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.core.models import Pupil, utcnow
from app.extensions import db
from app.screening import labels
from app.screening.models import Campaign, campaign_classes

#: What each shipped questionnaire asks about, for parents (by instrument id; any version).
PLAIN_WORDS: dict[str, LazyString] = {
    "phq-a": _l("Questions about mood: how often in the last two weeks your child felt low, tired or without "
                "interest in things."),
    "asq": _l("A few short questions about safety that help the psychologist notice at once a child who needs "
              "support."),
    "gad-7": _l("Questions about worry: how often in the last two weeks your child felt nervous or could not stop "
                "worrying."),
    "k6": _l("Six questions about how your child felt in the last month: nervous, restless, hopeless or tired."),
    "psc-17-y": _l("A short checklist about attention, mood and behaviour, answered by your child."),
    "psc-17-p": _l("A short checklist about attention, mood and behaviour, answered by a parent."),
    "rses": _l("Ten statements about how your child sees himself or herself (self-esteem)."),
    "who-5": _l("Five questions about good mood, calm and energy over the last two weeks."),
}
#: A school's own method: the psychologist chose it; the title says what it is.
LOCAL_METHOD = _l("A questionnaire chosen by the school psychologist.")


@dataclass(frozen=True)
class Questionnaire:
    title: str
    about: str


@dataclass(frozen=True)
class UpcomingScreening:
    """A campaign that includes the child's class and has not closed yet."""

    title: str
    opens_at: datetime
    closes_at: datetime
    open_now: bool
    questionnaires: tuple[Questionnaire, ...]


def describe(ref: str) -> Questionnaire:
    """An instrument reference ("phq-a@1.1") as a parent reads it: its title and what it asks about."""
    instrument_id = ref.partition("@")[0]
    about = PLAIN_WORDS.get(instrument_id, LOCAL_METHOD)
    return Questionnaire(title=labels.instrument_title(ref), about=str(about))


def upcoming_for(pupils: list[Pupil], *, now: datetime | None = None) -> dict[int, list[UpcomingScreening]]:
    """Per pupil id: the campaigns of the pupil's class that have not closed, soonest first (one query)."""
    moment = now or utcnow()
    class_ids = {p.class_id for p in pupils if p.class_id is not None}
    if not class_ids:
        return {}
    rows = db.session.execute(
        select(campaign_classes.c.class_id, Campaign).join(Campaign, Campaign.id == campaign_classes.c.campaign_id)
        .where(campaign_classes.c.class_id.in_(class_ids), Campaign.closes_at >= moment)
        .order_by(Campaign.opens_at, Campaign.id)).all()
    by_class: dict[int, list[UpcomingScreening]] = {}
    for class_id, campaign in rows:
        by_class.setdefault(class_id, []).append(UpcomingScreening(
            title=campaign.title, opens_at=campaign.opens_at, closes_at=campaign.closes_at,
            open_now=campaign.opens_at <= moment,
            questionnaires=tuple(describe(ref) for ref in campaign.instrument_refs)))
    return {p.id: by_class.get(p.class_id, []) for p in pupils if p.class_id is not None}
