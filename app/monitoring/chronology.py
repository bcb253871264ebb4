"""A pupil's chronology: one timeline of everything the viewer may see about the pupil.

Each source is read only when the viewer may read it (screening dates and instruments with the results
permission, alerts with the alert inbox's, registry changes with the registry's, and the records of the cases the
viewer is on). Every source is one statement (its people joined in), so the number of queries does not grow with
the history. The reading is audited as a read of the pupil.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
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


def _screenings(pupil: Pupil) -> list[Entry]:
    from app.screening.labels import instrument_title

    titles: dict[str, str] = {}
    rows = db.session.execute(select(ScreeningResult.instrument_id, ScreeningResult.instrument_version,
                                     ScreeningResult.completed_at)
                              .where(ScreeningResult.pupil_id == pupil.id)).all()
    found = []
    for instrument_id, version, completed_at in rows:
        ref = f"{instrument_id}@{version}"
        if ref not in titles:
            titles[ref] = instrument_title(ref)
        found.append(Entry(at=completed_at, type=EntryType.SCREENING, title=_("Screening completed"),
                           detail=titles[ref]))
    return found


def _alerts(pupil: Pupil) -> list[Entry]:
    found = []
    rows = db.session.execute(select(Alert).where(Alert.pupil_ref == pupil_ref(pupil.id))).scalars()
    for alert in rows:
        details = alert.details
        if details.pupil_id != pupil.id:
            continue
        severity = {"acute": _("Acute"), "urgent": _("Urgent"), "routine": _("Routine")}.get(details.severity, "")
        found.append(Entry(at=details.raised_at, type=EntryType.ALERT, title=_("Screening alert raised"),
                           detail=severity))
        if alert.resolved_at is not None:
            found.append(Entry(at=alert.resolved_at, type=EntryType.ALERT, title=_("Screening alert resolved")))
    return found


def _registry(actor: User, pupil: Pupil) -> list[Entry]:
    entries = visible_registry_entries(actor, Permission.MONITORING_REGISTRY_READ).where(
        RegistryEntry.pupil_id == pupil.id).with_only_columns(RegistryEntry.id)
    rows = db.session.execute(select(RegistryEvent).options(joinedload(RegistryEvent.actor))
                              .where(RegistryEvent.entry_id.in_(entries))).scalars()
    found = []
    for event in rows:
        snapshot = event.snapshot
        found.append(Entry(at=event.at, type=EntryType.REGISTRY,
                           title=labels.label(labels.REGISTRY_EVENT, event.kind),
                           detail=labels.label(labels.REGISTRY_KIND, snapshot.get("kind")), who=_name(event.actor)))
    return found


def _case_event_detail(event: CaseEvent) -> str:
    data = event.data
    if event.kind == "risk":
        return f"{labels.label(labels.RISK, data.get('from'))} → {labels.label(labels.RISK, data.get('to'))}"
    if event.kind == "status":
        return f"{labels.label(labels.STATUS, data.get('from'))} → {labels.label(labels.STATUS, data.get('to'))}"
    if event.kind == "opened":
        return labels.label(labels.RISK, data.get("risk"))
    return ""


def _cases(actor: User, pupil: Pupil, wanted: set[EntryType]) -> list[Entry]:
    cases = visible_cases(actor, Permission.MONITORING_CASE_READ).where(
        MonitoringCase.pupil_id == pupil.id).with_only_columns(MonitoringCase.id)
    found: list[Entry] = []
    if EntryType.CASE in wanted:
        for event in db.session.execute(select(CaseEvent).options(joinedload(CaseEvent.actor))
                                        .where(CaseEvent.case_id.in_(cases))).scalars():
            found.append(Entry(at=event.at, type=EntryType.CASE, title=labels.label(labels.CASE_EVENT, event.kind),
                               detail=_case_event_detail(event), who=_name(event.actor)))
    if EntryType.NOTE in wanted:
        for note in db.session.execute(select(CaseNote).options(joinedload(CaseNote.author))
                                       .where(CaseNote.case_id.in_(cases))).scalars():
            found.append(Entry(at=note.at, type=EntryType.NOTE, title=_("Note"), detail=note.body,
                               who=_name(note.author)))
    if EntryType.PLAN in wanted:
        for review in db.session.execute(select(PlanReview).options(joinedload(PlanReview.actor))
                                         .where(PlanReview.case_id.in_(cases))).scalars():
            title = _("Safety plan reviewed") if review.plan == "safety" else _("Support plan reviewed")
            found.append(Entry(at=review.at, type=EntryType.PLAN, title=title, detail=review.note,
                               who=_name(review.actor)))
        for saved in db.session.execute(
                select(SafetyPlanVersion).options(joinedload(SafetyPlanVersion.saved_by))
                .join(SafetyPlan, SafetyPlan.id == SafetyPlanVersion.plan_id)
                .where(SafetyPlan.case_id.in_(cases))).scalars():
            found.append(Entry(at=saved.saved_at, type=EntryType.PLAN, title=_("Safety plan saved"),
                               detail=_("Version %(number)d", number=saved.number), who=_name(saved.saved_by)))
    if EntryType.FOLLOWUP in wanted:
        condition: Any = FollowUp.case_id.in_(cases)
        if has_permission(actor, Permission.MONITORING_REGISTRY_READ):
            condition = condition | ((FollowUp.pupil_id == pupil.id) & FollowUp.case_id.is_(None))
        for row in db.session.execute(select(FollowUp).options(joinedload(FollowUp.actor))
                                      .where(condition)).scalars():
            details = row.details
            text = details.get("done", "") + (f" — {details['outcome']}" if details.get("outcome") else "")
            found.append(Entry(at=_midday(row.done_on), type=EntryType.FOLLOWUP, title=_("Follow-up"),
                               detail=text, who=_name(row.actor), whole_day=True))
    if EntryType.PARENT_CONTACT in wanted:
        from app.monitoring.plan_labels import CONTACT_WAY

        for contact in db.session.execute(select(ParentContact).options(joinedload(ParentContact.actor))
                                          .where(ParentContact.case_id.in_(cases))).scalars():
            details = contact.details
            found.append(Entry(at=_midday(contact.contacted_on), type=EntryType.PARENT_CONTACT,
                               title=_("Contact with parents") + " · " + labels.label(CONTACT_WAY, details.get("way")),
                               detail=details.get("summary", ""), who=_name(contact.actor), whole_day=True))
    return found


def chronology(*, actor: User, pupil: Pupil, types: set[EntryType] | None = None, start: date | None = None,
               end: date | None = None) -> list[Entry]:
    """The pupil's timeline as ``actor`` may see it, newest first, filtered by type and date range (inclusive);
    the reading is audited (as a read of the pupil) before anything is shown."""
    allowed = set(allowed_types(actor))
    wanted = allowed & types if types else allowed
    audit.record_read(actor, AuditAction.CHRONOLOGY_READ, school_id=pupil.school_id, pupil_id=pupil.id,
                      object_type="pupil", object_id=pupil.uuid)
    found: list[Entry] = []
    if EntryType.SCREENING in wanted:
        found += _screenings(pupil)
    if EntryType.ALERT in wanted:
        found += _alerts(pupil)
    if EntryType.REGISTRY in wanted:
        found += _registry(actor, pupil)
    found += _cases(actor, pupil, wanted)
    found = [e for e in found if (start is None or e.day >= start) and (end is None or e.day <= end)]
    found.sort(key=lambda e: e.at, reverse=True)
    return found
