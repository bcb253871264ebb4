"""Guidance codes in words (kk/ru/en through the catalogues): topics, audiences, statuses, translations."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.guidance.models import Audience, Status, Topic, Translation

TOPICS = {
    Topic.SIGNS_OF_DISTRESS.value: _l("Signs of distress"),
    Topic.TALKING_WITH_A_TEENAGER.value: _l("Talking with a teenager"),
    Topic.BULLYING.value: _l("Bullying and cyberbullying"),
    Topic.ONLINE_SAFETY.value: _l("Online safety and digital reputation"),
    Topic.FAMILY.value: _l("Family upbringing"),
    Topic.EXAM_STRESS.value: _l("Exam stress"),
    Topic.GRIEF.value: _l("Grief and loss"),
    Topic.SCHOOL_PSYCHOLOGIST.value: _l("What the school psychologist does"),
}
AUDIENCES = {
    Audience.PARENTS.value: _l("Parents"),
    Audience.TEACHERS.value: _l("Teachers and school staff"),
    Audience.PUPILS.value: _l("Pupils"),
}
STATUSES = {
    Status.DRAFT.value: _l("Draft"),
    Status.REVIEW.value: _l("In review"),
    Status.PUBLISHED.value: _l("Published"),
    Status.ARCHIVED.value: _l("Archived"),
}
TRANSLATIONS = {
    Translation.WRITTEN.value: _l("written in this language"),
    Translation.REVIEWED.value: _l("translated and checked"),
    Translation.MACHINE.value: _l("machine translation, not yet checked"),
}
LANGUAGE_NAMES = {"kk": _l("Kazakh"), "ru": _l("Russian"), "en": _l("English")}
STATUS_BADGES = {Status.DRAFT.value: "neutral", Status.REVIEW.value: "warning", Status.PUBLISHED.value: "success",
                 Status.ARCHIVED.value: "neutral"}


def template_labels() -> dict[str, object]:
    return {"topics": TOPICS, "audiences": AUDIENCES, "statuses": STATUSES, "translations": TRANSLATIONS,
            "language_names": LANGUAGE_NAMES, "status_badges": STATUS_BADGES}
