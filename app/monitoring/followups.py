"""Follow-ups: pupils under monitoring (an open case, or a current registration) are reviewed on a schedule.

The next follow-up is due on the date the last one set, or one interval after it (or after the start of the
monitoring when there was none). The interval is the case's own (:class:`FollowUpSetting`) or the configured
``SENIM_FOLLOWUP_INTERVAL_DAYS`` (monthly by default). Contacts with parents are recorded here too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.auth.permissions import (
    Permission,
    has_permission,
    school_scope,
    visible_cases,
    visible_registry_entries,
)
from app.core import audit
from app.core.audit import AuditAction
from app.core.models import Pupil, School, utcnow
from app.extensions import db
from app.monitoring.conflicts import versioned
from app.monitoring.models import MonitoringCase, RegistryEntry
from app.monitoring.plan_models import ContactWay, FollowUp, FollowUpSetting, ParentContact
from app.monitoring.services import NOT_CLOSED, CaseClosed, CaseError, ReasonRequired, open_case_of

#: Longest and shortest follow-up interval a case can set, in days.
INTERVAL_RANGE = (1, 365)


class NotMonitored(CaseError):
    """The pupil has neither an open case nor a current registration: there is nothing to follow up."""


def today() -> date:
    """Today in the school's time zone (the schedule is in days)."""
    return utcnow().astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def default_interval() -> int:
    return int(current_app.config["SENIM_FOLLOWUP_INTERVAL_DAYS"])


def due_date(*, start: date, interval: int, last_done: date | None = None, last_next: date | None = None) -> date:
    """When the next follow-up is due: the date the last one set, else one interval after the last one, else one
    interval after the monitoring started."""
    if last_next is not None:
        return last_next
    return (last_done or start) + timedelta(days=interval)


def _local(moment: object) -> date:
    return moment.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()  # type: ignore[attr-defined]


class Last(NamedTuple):
    """The dates of a pupil's or a case's latest follow-up (what a due date needs)."""

    done_on: date
    next_on: date | None


def _latest(pupil_ids: Iterable[int]) -> tuple[dict[int, Last], dict[int, Last]]:
    """The latest follow-up of each pupil, and of each case: one query that returns those rows' dates only,
    however long the history (no follow-up is loaded or decrypted)."""
    ids = list(set(pupil_ids))
    by_pupil: dict[int, Last] = {}
    by_case: dict[int, Last] = {}
    if not ids:
        return by_pupil, by_case
    newest = (FollowUp.done_on.desc(), FollowUp.id.desc())
    ranked = select(FollowUp.pupil_id, FollowUp.case_id, FollowUp.done_on, FollowUp.next_on,
                    func.row_number().over(partition_by=FollowUp.pupil_id, order_by=newest).label("in_pupil"),
                    func.row_number().over(partition_by=FollowUp.case_id, order_by=newest).label("in_case"),
                    ).where(FollowUp.pupil_id.in_(ids)).subquery()
    rows = db.session.execute(select(ranked).where(or_(ranked.c.in_pupil == 1, ranked.c.in_case == 1)))
    for row in rows:
        last = Last(row.done_on, row.next_on)
        if row.in_pupil == 1:
            by_pupil[row.pupil_id] = last
        if row.case_id is not None and row.in_case == 1:
            by_case[row.case_id] = last
    return by_pupil, by_case


def _interval_days(case_ids: Iterable[int]) -> dict[int, int]:
    """The cases' own follow-up intervals (cases without one use the default)."""
    ids = list(set(case_ids))
    if not ids:
        return {}
    rows = db.session.execute(select(FollowUpSetting.case_id, FollowUpSetting.interval_days)
                              .where(FollowUpSetting.case_id.in_(ids)))
    return {case_id: days for case_id, days in rows}


def _intervals(case_ids: Iterable[int]) -> dict[int, FollowUpSetting]:
    ids = list(set(case_ids))
    if not ids:
        return {}
    return {s.case_id: s for s in db.session.execute(
        select(FollowUpSetting).where(FollowUpSetting.case_id.in_(ids))).scalars()}


def interval_of(case: MonitoringCase) -> tuple[int, FollowUpSetting | None]:
    """The case's follow-up interval in days, and its own setting if it has one."""
    setting = _intervals([case.id]).get(case.id)
    return (setting.interval_days if setting else default_interval()), setting


def case_due(case: MonitoringCase) -> date | None:
    """When the case's next follow-up is due (None for a closed case)."""
    if case.is_closed:
        return None
    _pupils, by_case = _latest([case.pupil_id])
    last = by_case.get(case.id)
    return due_date(start=_local(case.opened_at), interval=interval_of(case)[0],
                    last_done=last.done_on if last else None, last_next=last.next_on if last else None)


@dataclass(frozen=True)
class DueRow:
    """A pupil under monitoring and their next follow-up."""

    pupil_uuid: str
    pupil_name: str
    class_label: str
    school_id: int
    #: The case (None: a registered pupil without an open case).
    case_uuid: str | None
    due_on: date
    last_done_on: date | None

    def overdue(self, day: date) -> bool:
        return self.due_on < day


def _case_due_on(case: Any, intervals: dict[int, int], by_case: dict[int, Last]) -> date:
    """When the follow-up of ``case`` (a case, or a row with its id and opened_at) is due."""
    last = by_case.get(case.id)
    return due_date(start=_local(case.opened_at), interval=intervals.get(case.id, default_interval()),
                    last_done=last.done_on if last else None, last_next=last.next_on if last else None)


def _entry_due_on(entry: Any, by_pupil: dict[int, Last]) -> date:
    last = by_pupil.get(entry.pupil_id)
    return due_date(start=entry.started_on, interval=default_interval(), last_done=last.done_on if last else None,
                    last_next=last.next_on if last else None)


def _case_rows(cases: list[MonitoringCase]) -> list[DueRow]:
    intervals = _interval_days(c.id for c in cases)
    _pupils, by_case = _latest(c.pupil_id for c in cases)
    rows = []
    for case in cases:
        last = by_case.get(case.id)
        rows.append(DueRow(
            pupil_uuid=case.pupil.uuid, pupil_name=case.pupil.short_name,
            class_label=case.pupil.school_class.label if case.pupil.school_class else "—",
            school_id=case.school_id, case_uuid=case.uuid, due_on=_case_due_on(case, intervals, by_case),
            last_done_on=last.done_on if last else None))
    return rows


def _first_entries(entries: Iterable[Any], exclude: set[int]) -> dict[int, Any]:
    """Each registered pupil's earliest current entry (an entry, or a row with its pupil_id and started_on), for
    pupils without an open case (the case's schedule covers the others)."""
    starts: dict[int, Any] = {}
    for entry in entries:
        if entry.pupil_id in exclude:
            continue
        if entry.pupil_id not in starts or entry.started_on < starts[entry.pupil_id].started_on:
            starts[entry.pupil_id] = entry
    return starts


def _registry_rows(entries: list[RegistryEntry], exclude: set[int]) -> list[DueRow]:
    """One row per registered pupil without an open case."""
    starts = _first_entries(entries, exclude)
    by_pupil, _cases = _latest(starts)
    rows = []
    for pupil_id, entry in starts.items():
        last = by_pupil.get(pupil_id)
        rows.append(DueRow(
            pupil_uuid=entry.pupil.uuid, pupil_name=entry.pupil.short_name,
            class_label=entry.pupil.school_class.label if entry.pupil.school_class else "—",
            school_id=entry.school_id, case_uuid=None, due_on=_entry_due_on(entry, by_pupil),
            last_done_on=last.done_on if last else None))
    return rows


def _with_open_case(pupil_ids: set[int]) -> set[int]:
    return set(db.session.execute(select(MonitoringCase.pupil_id).where(
        MonitoringCase.pupil_id.in_(pupil_ids), MonitoringCase.status.in_(NOT_CLOSED))).scalars())


def _open_cases(query: object) -> list[MonitoringCase]:
    return list(db.session.execute(query.where(MonitoringCase.status.in_(NOT_CLOSED)).options(  # type: ignore[attr-defined]
        selectinload(MonitoringCase.pupil).selectinload(Pupil.school_class))).scalars())


def _current_entries(query: object) -> list[RegistryEntry]:
    return list(db.session.execute(query.where(RegistryEntry.ended_on.is_(None)).options(  # type: ignore[attr-defined]
        selectinload(RegistryEntry.pupil).selectinload(Pupil.school_class))).scalars())


def my_schedule(*, actor: User) -> list[DueRow]:
    """The follow-ups ``actor`` is responsible for: the open cases they own or are on the team of, and (for staff
    who keep the registries) registered pupils of their school without an open case. Earliest due first."""
    cases = _open_cases(visible_cases(actor, Permission.MONITORING_CASE_READ))
    rows = _case_rows(cases)
    if has_permission(actor, Permission.MONITORING_REGISTRY_MANAGE):
        entries = _current_entries(visible_registry_entries(actor, Permission.MONITORING_REGISTRY_MANAGE))
        rows += _registry_rows(entries, _with_open_case({e.pupil_id for e in entries}))
    rows.sort(key=lambda r: (r.due_on, r.pupil_name.casefold()))
    return rows


@dataclass(frozen=True)
class SchoolCount:
    """A school's follow-ups in numbers only (no pupil, no case)."""

    school_name: str
    monitored: int
    overdue: int


def school_counts(*, actor: User, day: date) -> list[SchoolCount]:
    """For each school ``actor`` reaches with the follow-up permission: pupils under monitoring and how many are
    overdue, counted over every open case and registered pupil of the school, named nowhere."""
    schools = list(db.session.execute(
        select(School).where(school_scope(actor, Permission.MONITORING_FOLLOWUPS)).order_by(School.id)).scalars())
    if not schools:
        return []
    ids = [s.id for s in schools]
    cases = list(db.session.execute(select(MonitoringCase).where(
        MonitoringCase.school_id.in_(ids), MonitoringCase.status.in_(NOT_CLOSED))
        .options(selectinload(MonitoringCase.pupil).selectinload(Pupil.school_class))).scalars())
    entries = list(db.session.execute(select(RegistryEntry).where(
        RegistryEntry.school_id.in_(ids), RegistryEntry.ended_on.is_(None))
        .options(selectinload(RegistryEntry.pupil).selectinload(Pupil.school_class))).scalars())
    rows = _case_rows(cases) + _registry_rows(entries, {c.pupil_id for c in cases})
    return [SchoolCount(school_name=s.name, monitored=sum(1 for r in rows if r.school_id == s.id),
                        overdue=sum(1 for r in rows if r.school_id == s.id and r.overdue(day))) for s in schools]


def read_dashboard(*, actor: User) -> tuple[list[DueRow], list[SchoolCount]]:
    """The overdue page: one's own schedule and the schools' counts; the reading is audited (a count only)."""
    rows = my_schedule(actor=actor)
    counts = school_counts(actor=actor, day=today())
    audit.record_read(actor, AuditAction.FOLLOWUP_DASHBOARD_READ, details={"count": len(rows)})
    return rows, counts


def overdue_count(*, actor: User) -> int:
    """How many of ``actor``'s follow-ups are overdue (the menu's count, on every page): the same schedule as
    :func:`my_schedule`, from dates only, with no pupil loaded or decrypted."""
    day = today()
    cases = db.session.execute(visible_cases(actor, Permission.MONITORING_CASE_READ).where(
        MonitoringCase.status.in_(NOT_CLOSED)).with_only_columns(
        MonitoringCase.id, MonitoringCase.pupil_id, MonitoringCase.opened_at)).all()
    intervals = _interval_days(c.id for c in cases)
    _pupils, by_case = _latest(c.pupil_id for c in cases)
    due = [_case_due_on(case, intervals, by_case) for case in cases]
    if has_permission(actor, Permission.MONITORING_REGISTRY_MANAGE):
        entries = db.session.execute(visible_registry_entries(actor, Permission.MONITORING_REGISTRY_MANAGE)
                                     .where(RegistryEntry.ended_on.is_(None))
                                     .with_only_columns(RegistryEntry.pupil_id, RegistryEntry.started_on)).all()
        with_case = _with_open_case({e.pupil_id for e in entries})
        starts = _first_entries(entries, with_case)
        by_pupil, _cases = _latest(starts)
        due += [_entry_due_on(entry, by_pupil) for entry in starts.values()]
    return sum(1 for on in due if on < day)


# --- recording ----------------------------------------------------------------------------------------------------


def _text(value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        raise ReasonRequired()
    return text


def record_followup(*, actor: User, pupil: Pupil, case: MonitoringCase | None, done_on: date, done: str,
                    outcome: str, next_on: date | None) -> FollowUp:
    """Record a follow-up (in ``case``, or for a registered pupil without an open case); without a next date the
    next one is due one interval later."""
    what, result = _text(done), (outcome or "").strip()
    if case is not None:
        if case.is_closed:
            raise CaseClosed()
        interval = interval_of(case)[0]
    else:
        open_case = open_case_of(pupil.id)
        if open_case is not None:
            from app.monitoring.services import PupilHasOpenCase

            raise PupilHasOpenCase(open_case)
        registered = db.session.execute(select(func.count()).select_from(RegistryEntry).where(
            RegistryEntry.pupil_id == pupil.id, RegistryEntry.ended_on.is_(None))).scalar_one()
        if not registered:
            raise NotMonitored()
        interval = default_interval()
    row = FollowUp(school_id=pupil.school_id, pupil_id=pupil.id, case_id=case.id if case else None,
                   done_on=done_on, next_on=next_on or done_on + timedelta(days=interval), at=utcnow(),
                   actor_id=actor.id)
    row.details = {"done": what, "outcome": result}
    db.session.add(row)
    db.session.flush()
    audit.record(actor, AuditAction.FOLLOWUP_RECORDED, school_id=pupil.school_id, pupil_id=pupil.id,
                 object_type="followup", object_id=row.uuid)
    db.session.commit()
    return row


def set_interval(*, actor: User, case: MonitoringCase, version: int | None, days: int) -> FollowUpSetting:
    """Set the case's own follow-up interval (``version``: of its setting as the form saw it; None if it had
    none)."""
    if case.is_closed:
        raise CaseClosed()
    low, high = INTERVAL_RANGE
    if not low <= days <= high:
        raise ReasonRequired()
    _interval, setting = interval_of(case)
    if setting is None:
        if version is not None:
            raise ReasonRequired()
        setting = FollowUpSetting(school_id=case.school_id, pupil_id=case.pupil_id, case_id=case.id,
                                  interval_days=days, updated_at=utcnow(), updated_by_id=actor.id)
        db.session.add(setting)
        db.session.flush()
        audit.record(actor, AuditAction.FOLLOWUP_INTERVAL_SET, school_id=case.school_id, pupil_id=case.pupil_id,
                     object_type="case", object_id=case.uuid)
        db.session.commit()
        return setting
    with versioned(actor=actor, record=setting, version=version, object_type="followup_setting"):
        setting.interval_days = days
        setting.updated_at, setting.updated_by_id = utcnow(), actor.id
        audit.record(actor, AuditAction.FOLLOWUP_INTERVAL_SET, school_id=case.school_id, pupil_id=case.pupil_id,
                     object_type="case", object_id=case.uuid)
    return setting


def followups_of(*, case: MonitoringCase | None = None, pupil_id: int | None = None) -> list[FollowUp]:
    """A case's follow-ups, or a pupil's follow-ups outside cases, newest first (for pages whose reading is
    audited)."""
    query = select(FollowUp).options(selectinload(FollowUp.actor))
    if case is not None:
        query = query.where(FollowUp.case_id == case.id)
    else:
        query = query.where(FollowUp.pupil_id == pupil_id, FollowUp.case_id.is_(None))
    return list(db.session.execute(query.order_by(FollowUp.done_on.desc(), FollowUp.id.desc())).scalars())


def record_parent_contact(*, actor: User, case: MonitoringCase, contacted_on: date, way: ContactWay,
                          summary: str) -> ParentContact:
    """Record a contact with the pupil's parents in the case (summary encrypted)."""
    if case.is_closed:
        raise CaseClosed()
    text = _text(summary)
    row = ParentContact(school_id=case.school_id, pupil_id=case.pupil_id, case_id=case.id,
                        contacted_on=contacted_on, at=utcnow(), actor_id=actor.id)
    row.details = {"way": way.value, "summary": text}
    db.session.add(row)
    db.session.flush()
    audit.record(actor, AuditAction.PARENT_CONTACT_RECORDED, school_id=case.school_id, pupil_id=case.pupil_id,
                 object_type="parent_contact", object_id=row.uuid)
    db.session.commit()
    return row


def contacts_of(case: MonitoringCase) -> list[ParentContact]:
    """The case's contacts with parents, newest first."""
    return list(db.session.execute(select(ParentContact).options(selectinload(ParentContact.actor)).where(
        ParentContact.case_id == case.id).order_by(ParentContact.contacted_on.desc(), ParentContact.id.desc()))
        .scalars())
