"""A pupil's chronology: one timeline of everything the viewer may see about the pupil.

Each source is read only when the viewer may read it (screening dates and instruments with the results
permission, alerts with the alert inbox's, registry changes with the registry's, and the records of the cases the
viewer is on). Every source is one statement (its people joined in), so the number of queries does not grow with
the history. The reading is audited as a read of the pupil.

A page shows the newest :data:`PAGE_SIZE` lines (whole days: a day is never split between pages) and links to
the earlier ones with the "to" filter. Each source reads at most a page and one row more, newest first, within the
date filter, and a line is decrypted only when it is shown: a pupil with ten years of records costs what one
page costs.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.auth.models import User
from app.auth.permissions import Permission, has_permission, visible_cases, visible_registry_entries
from app.core import audit
from app.core.audit import AuditAction
from app.core.models import Pupil
from app.extensions import db
from app.monitoring import labels
from app.monitoring.models import CaseEvent, CaseNote, MonitoringCase, RegistryEntry, RegistryEvent
from app.monitoring.plan_models import (
    FollowUp,
    ParentContact,
    PlanReview,
    SafetyPlan,
    SafetyPlanVersion,
)
from app.screening.models import Alert, ScreeningResult, pupil_ref


class EntryType(enum.StrEnum):
    """What a line of the chronology is (the filter's choices)."""

    SCREENING = "screening"
    ALERT = "alert"
    REGISTRY = "registry"
    CASE = "case"
    NOTE = "note"
    PLAN = "plan"
    FOLLOWUP = "followup"
    PARENT_CONTACT = "parent_contact"


@dataclass(frozen=True)
class Entry:
    """One line of the chronology (decrypted; shown only after the reading is audited)."""

    at: datetime
    type: EntryType
    title: str
    detail: str = ""
    who: str = ""
    #: A record of a day, not of a moment (follow-ups, contacts): shown with its date only.
    whole_day: bool = False

    @property
    def day(self) -> date:
        return self.at.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


#: Lines on one page of the chronology.
PAGE_SIZE = 50


@dataclass(frozen=True)
class Line:
    """A line before it is shown: its time and type (plaintext columns) and how to word it (decrypts)."""

    at: datetime
    type: EntryType
    make: Callable[[], Entry]


@dataclass(frozen=True)
class Window:
    """The part of the history a page reads: the date filter (school days, inclusive) and a row limit per source."""

    start: date | None = None
    end: date | None = None
    limit: int | None = None

    def _moment(self, day: date) -> datetime:
        zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
        return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)

    def moments(self, query: Any, column: Any) -> Any:
        """``query`` limited to rows whose time ``column`` falls in the window, newest first."""
        if self.start is not None:
            query = query.where(column >= self._moment(self.start))
        if self.end is not None:
            query = query.where(column < self._moment(self.end + timedelta(days=1)))
        return self._limited(query.order_by(column.desc()))

    def days(self, query: Any, column: Any, tiebreak: Any) -> Any:
        """``query`` limited to rows whose date ``column`` falls in the window, newest first."""
        if self.start is not None:
            query = query.where(column >= self.start)
        if self.end is not None:
            query = query.where(column <= self.end)
        return self._limited(query.order_by(column.desc(), tiebreak.desc()))

    def _limited(self, query: Any) -> Any:
        return query.limit(self.limit + 1) if self.limit is not None else query


def _person(relationship: Any) -> Any:
    """Load a line's author with it (one join), without their role assignments: a name is all a line shows."""
    return joinedload(relationship).lazyload(User.assignments)


def _name(user: User | None) -> str:
    return user.display_name if user is not None else ""


def _midday(day: date) -> datetime:
    """A date-only record placed on its day (noon in the school's zone, so it sorts within that day)."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime(day.year, day.month, day.day, 12, tzinfo=zone)


def allowed_types(actor: User) -> list[EntryType]:
    """The kinds of lines ``actor`` may see in a chronology."""
    types = []
    if has_permission(actor, Permission.SCREENING_RESULTS):
        types.append(EntryType.SCREENING)
    if has_permission(actor, Permission.SCREENING_ALERTS):
        types.append(EntryType.ALERT)
    if has_permission(actor, Permission.MONITORING_REGISTRY_READ):
        types.append(EntryType.REGISTRY)
    if has_permission(actor, Permission.MONITORING_CASE_READ):
        types += [EntryType.CASE, EntryType.NOTE, EntryType.PLAN, EntryType.FOLLOWUP, EntryType.PARENT_CONTACT]
    return types


def _screenings(pupil: Pupil, window: Window) -> list[Line]:
    from app.screening.labels import instrument_title

    titles: dict[str, str] = {}

    def line(ref: str, completed_at: datetime) -> Line:
        def make() -> Entry:
            if ref not in titles:
                titles[ref] = instrument_title(ref)
            return Entry(at=completed_at, type=EntryType.SCREENING, title=_("Screening completed"),
                         detail=titles[ref])
        return Line(at=completed_at, type=EntryType.SCREENING, make=make)

    rows = db.session.execute(window.moments(
        select(ScreeningResult.instrument_id, ScreeningResult.instrument_version, ScreeningResult.completed_at)
        .where(ScreeningResult.pupil_id == pupil.id), ScreeningResult.completed_at)).all()
    return [line(f"{instrument_id}@{version}", completed_at) for instrument_id, version, completed_at in rows]


def _same(entry: Entry) -> Entry:
    return entry


def _alerts(pupil: Pupil) -> list[Line]:
    """A pupil's alerts are few, and their time is inside the encrypted details: all are read."""
    found = []
    rows = db.session.execute(select(Alert).where(Alert.pupil_ref == pupil_ref(pupil.id))).scalars()
    for alert in rows:
        details = alert.details
        if details.pupil_id != pupil.id:
            continue
        severity = {"acute": _("Acute"), "urgent": _("Urgent"), "routine": _("Routine")}.get(details.severity, "")
        raised = Entry(at=details.raised_at, type=EntryType.ALERT, title=_("Screening alert raised"), detail=severity)
        found.append(Line(at=raised.at, type=EntryType.ALERT, make=partial(_same, raised)))
        if alert.resolved_at is not None:
            resolved = Entry(at=alert.resolved_at, type=EntryType.ALERT, title=_("Screening alert resolved"))
            found.append(Line(at=resolved.at, type=EntryType.ALERT, make=partial(_same, resolved)))
    return found


def _registry(actor: User, pupil: Pupil, window: Window) -> list[Line]:
    entries = visible_registry_entries(actor, Permission.MONITORING_REGISTRY_READ).where(
        RegistryEntry.pupil_id == pupil.id).with_only_columns(RegistryEntry.id)
    rows = db.session.execute(window.moments(select(RegistryEvent).options(_person(RegistryEvent.actor))
                                             .where(RegistryEvent.entry_id.in_(entries)), RegistryEvent.at)).scalars()

    def line(event: RegistryEvent) -> Line:
        def make() -> Entry:
            return Entry(at=event.at, type=EntryType.REGISTRY, title=labels.label(labels.REGISTRY_EVENT, event.kind),
                         detail=labels.label(labels.REGISTRY_KIND, event.snapshot.get("kind")),
                         who=_name(event.actor))
        return Line(at=event.at, type=EntryType.REGISTRY, make=make)

    return [line(event) for event in rows]


def _case_event_detail(event: CaseEvent) -> str:
    data = event.data
    if event.kind == "risk":
        return f"{labels.label(labels.RISK, data.get('from'))} → {labels.label(labels.RISK, data.get('to'))}"
    if event.kind == "status":
        return f"{labels.label(labels.STATUS, data.get('from'))} → {labels.label(labels.STATUS, data.get('to'))}"
    if event.kind == "opened":
        return labels.label(labels.RISK, data.get("risk"))
    return ""


def _case_event(event: CaseEvent) -> Entry:
    return Entry(at=event.at, type=EntryType.CASE, title=labels.label(labels.CASE_EVENT, event.kind),
                 detail=_case_event_detail(event), who=_name(event.actor))


def _note(note: CaseNote) -> Entry:
    return Entry(at=note.at, type=EntryType.NOTE, title=_("Note"), detail=note.body, who=_name(note.author))


def _review(review: PlanReview) -> Entry:
    title = _("Safety plan reviewed") if review.plan == "safety" else _("Support plan reviewed")
    return Entry(at=review.at, type=EntryType.PLAN, title=title, detail=review.note, who=_name(review.actor))


def _plan_saved(saved: SafetyPlanVersion) -> Entry:
    return Entry(at=saved.saved_at, type=EntryType.PLAN, title=_("Safety plan saved"),
                 detail=_("Version %(number)d", number=saved.number), who=_name(saved.saved_by))


def _followup(row: FollowUp) -> Entry:
    details = row.details
    text = details.get("done", "") + (f" — {details['outcome']}" if details.get("outcome") else "")
    return Entry(at=_midday(row.done_on), type=EntryType.FOLLOWUP, title=_("Follow-up"), detail=text,
                 who=_name(row.actor), whole_day=True)


def _contact(contact: ParentContact) -> Entry:
    from app.monitoring.plan_labels import CONTACT_WAY

    details = contact.details
    return Entry(at=_midday(contact.contacted_on), type=EntryType.PARENT_CONTACT,
                 title=_("Contact with parents") + " · " + labels.label(CONTACT_WAY, details.get("way")),
                 detail=details.get("summary", ""), who=_name(contact.actor), whole_day=True)


def _lines(rows: Any, kind: EntryType, at: Callable[[Any], datetime], make: Callable[[Any], Entry]) -> list[Line]:
    return [Line(at=at(row), type=kind, make=partial(make, row)) for row in rows]


def _cases(actor: User, pupil: Pupil, wanted: set[EntryType], window: Window) -> list[Line]:
    cases = visible_cases(actor, Permission.MONITORING_CASE_READ).where(
        MonitoringCase.pupil_id == pupil.id).with_only_columns(MonitoringCase.id)
    found: list[Line] = []

    def rows(query: Any) -> Any:
        return db.session.execute(query).scalars()

    if EntryType.CASE in wanted:
        found += _lines(rows(window.moments(select(CaseEvent).options(_person(CaseEvent.actor))
                                            .where(CaseEvent.case_id.in_(cases)), CaseEvent.at)),
                        EntryType.CASE, lambda e: e.at, _case_event)
    if EntryType.NOTE in wanted:
        found += _lines(rows(window.moments(select(CaseNote).options(_person(CaseNote.author))
                                            .where(CaseNote.case_id.in_(cases)), CaseNote.at)),
                        EntryType.NOTE, lambda n: n.at, _note)
    if EntryType.PLAN in wanted:
        found += _lines(rows(window.moments(select(PlanReview).options(_person(PlanReview.actor))
                                            .where(PlanReview.case_id.in_(cases)), PlanReview.at)),
                        EntryType.PLAN, lambda r: r.at, _review)
        found += _lines(rows(window.moments(
            select(SafetyPlanVersion).options(_person(SafetyPlanVersion.saved_by))
            .join(SafetyPlan, SafetyPlan.id == SafetyPlanVersion.plan_id)
            .where(SafetyPlan.case_id.in_(cases)), SafetyPlanVersion.saved_at)),
            EntryType.PLAN, lambda v: v.saved_at, _plan_saved)
    if EntryType.FOLLOWUP in wanted:
        condition: Any = FollowUp.case_id.in_(cases)
        if has_permission(actor, Permission.MONITORING_REGISTRY_READ):
            condition = condition | ((FollowUp.pupil_id == pupil.id) & FollowUp.case_id.is_(None))
        found += _lines(rows(window.days(select(FollowUp).options(_person(FollowUp.actor)).where(condition),
                                         FollowUp.done_on, FollowUp.id)),
                        EntryType.FOLLOWUP, lambda f: _midday(f.done_on), _followup)
    if EntryType.PARENT_CONTACT in wanted:
        found += _lines(rows(window.days(select(ParentContact).options(_person(ParentContact.actor))
                                         .where(ParentContact.case_id.in_(cases)),
                                         ParentContact.contacted_on, ParentContact.id)),
                        EntryType.PARENT_CONTACT, lambda c: _midday(c.contacted_on), _contact)
    return found


def _read(*, actor: User, pupil: Pupil, types: set[EntryType] | None, window: Window) -> list[Line]:
    """The lines of every source ``actor`` may see within ``window``, newest first; the reading audited first."""
    allowed = set(allowed_types(actor))
    wanted = allowed & types if types else allowed
    audit.record_read(actor, AuditAction.CHRONOLOGY_READ, school_id=pupil.school_id, pupil_id=pupil.id,
                      object_type="pupil", object_id=pupil.uuid)
    found: list[Line] = []
    if EntryType.SCREENING in wanted:
        found += _screenings(pupil, window)
    if EntryType.ALERT in wanted:
        found += _alerts(pupil)
    if EntryType.REGISTRY in wanted:
        found += _registry(actor, pupil, window)
    found += _cases(actor, pupil, wanted, window)
    found.sort(key=lambda line: line.at, reverse=True)
    return found


def _day(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def chronology(*, actor: User, pupil: Pupil, types: set[EntryType] | None = None, start: date | None = None,
               end: date | None = None) -> list[Entry]:
    """The pupil's whole timeline as ``actor`` may see it, newest first, filtered by type and date range
    (inclusive); the reading is audited (as a read of the pupil) before anything is shown."""
    lines = _read(actor=actor, pupil=pupil, types=types, window=Window(start=start, end=end))
    return [line.make() for line in lines if (start is None or _day(line.at) >= start)
            and (end is None or _day(line.at) <= end)]


@dataclass(frozen=True)
class Page:
    """One page of a chronology and, when there is more, the last day of the next (earlier) page."""

    entries: list[Entry]
    earlier_to: date | None


def chronology_page(*, actor: User, pupil: Pupil, types: set[EntryType] | None = None, start: date | None = None,
                    end: date | None = None, size: int = PAGE_SIZE) -> Page:
    """The newest ``size`` lines of :func:`chronology` (whole days), decrypted only for what is shown; audited."""
    lines = [line for line in _read(actor=actor, pupil=pupil, types=types, window=Window(start, end, size))
             if (start is None or _day(line.at) >= start) and (end is None or _day(line.at) <= end)]
    if len(lines) <= size:
        return Page(entries=[line.make() for line in lines], earlier_to=None)
    cut = _day(lines[size].at)  # the first day not shown whole goes to the next page
    shown = [line for line in lines[:size] if _day(line.at) > cut]
    if not shown:  # one day holds more than a page (an import): its newest page; the next one starts the day before
        shown, cut = lines[:size], cut - timedelta(days=1)
    return Page(entries=[line.make() for line in shown], earlier_to=cut)
