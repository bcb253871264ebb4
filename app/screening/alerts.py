"""The alert inbox: list, acknowledge, resolve; escalate overdue alerts and notify by e-mail (notify.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth.models import RoleAssignment, User
from app.auth.permissions import Permission, school_scope
from app.auth.roles import Role
from app.auth.services import account_key, account_locked, is_locked
from app.core import audit
from app.core.audit import AuditAction, AuditEntry
from app.core.models import Pupil, School, SchoolClass, utcnow
from app.extensions import db
from app.screening.models import (
    HELP_REQUEST_REF,
    HELP_REQUEST_RULE,
    Alert,
    AlertDetails,
    AlertKind,
    pupil_ref,
)
from app.screening.notify import queue_locked_psychologist, queue_overdue, queue_raised

#: A pupil's request for help: the psychologist sees the pupil the same school day.
HELP_REQUEST_SEVERITY = "urgent"

#: Alert severities, most urgent first.
SEVERITIES = ("acute", "urgent", "routine")


def _by_urgency(alerts: Iterable[Alert]) -> list[Alert]:
    """Most severe first, then oldest first (severity and time are in the encrypted details: sorted here)."""
    return sorted(alerts, key=lambda a: (SEVERITIES.index(a.severity), a.raised_at, a.id))


class AlertNotAcknowledged(ValueError):
    """An alert must be acknowledged before it is resolved."""


def _scoped(actor: User, permission: Permission):
    schools = select(School.id).where(school_scope(actor, permission))
    return select(Alert).where(Alert.school_id.in_(schools))


def open_alerts(*, actor: User, severity: str | None = None, pupil: Pupil | None = None) -> list[Alert]:
    """Unresolved alerts of the actor's schools, most severe and oldest first; audited. ``severity`` keeps those of
    one severity, ``pupil`` (already scope-checked) those of one pupil.

    The audit entry is the inbox's, filtered or not: it names no pupil, since an entry tying a pupil to alert reads
    would tell a reader of the log who is at risk (alert entries name no pupil, issue 9 case 3).
    """
    query = _scoped(actor, Permission.SCREENING_ALERTS).where(Alert.resolved_at.is_(None))
    if pupil is not None:
        query = query.where(Alert.pupil_ref == pupil_ref(pupil.id))
    alerts = [a for a in _by_urgency(db.session.execute(query).scalars()) if severity in (None, a.severity)]
    audit.record_read(actor, AuditAction.ALERT_LIST_READ, details={"count": len(alerts)})
    audit_first_opening(actor=actor, alerts=alerts)
    return alerts


def open_alert_counts_for(*, actor: User) -> dict[str, int]:
    """Unresolved alerts by severity over the schools of the actor's alert inbox (the menu and the home page).

    One query whatever the number of alerts or schools: the severity is encrypted, so the alerts are read and
    counted here (a school's open alerts are few). Not audited: a count names no pupil.
    """
    counts = dict.fromkeys(SEVERITIES, 0)
    query = _scoped(actor, Permission.SCREENING_ALERTS).where(Alert.resolved_at.is_(None))
    for alert in db.session.execute(query).scalars():
        counts[alert.severity] += 1
    return counts


@dataclass(frozen=True)
class AlertEvent:
    """One step in an alert's history: raised, upgraded, escalated, acknowledged or resolved."""

    kind: str
    at: datetime
    #: The severity and rule from this step on (raised, upgraded).
    severity: str | None = None
    rule: str | None = None
    #: Who acted (acknowledged, resolved); None for what the system did.
    by: User | None = None
    #: What was done (resolved): decrypted for the psychologist.
    note: str | None = None


@dataclass(frozen=True)
class AlertHistory:
    """An alert with its steps, oldest first."""

    alert: Alert
    events: tuple[AlertEvent, ...]


def alert_history(alert: Alert) -> AlertHistory:
    """The alert's steps: raised (at its first severity), each upgrade, escalation, acknowledgement, resolution."""
    details = alert.details
    # history holds (severity before, rule before, time of the upgrade); each upgrade leads to the next state.
    states = [(severity, rule) for severity, rule, _at in details.history] + [(details.severity, details.rules[0])]
    events = [AlertEvent("raised", details.raised_at, *states[0])]
    events += [AlertEvent("upgraded", datetime.fromisoformat(at), *states[i + 1])
               for i, (_severity, _rule, at) in enumerate(details.history)]
    if alert.escalated_at is not None:
        events.append(AlertEvent("escalated", alert.escalated_at))
    if alert.acknowledged_at is not None:
        events.append(AlertEvent("acknowledged", alert.acknowledged_at, by=alert.acknowledged_by))
    if alert.resolved_at is not None:
        events.append(AlertEvent("resolved", alert.resolved_at, by=alert.resolved_by, note=alert.resolution_note))
    return AlertHistory(alert, tuple(sorted(events, key=lambda e: e.at)))


def pupil_alerts(*, pupil: Pupil) -> list[AlertHistory]:
    """Every alert of an (already scope-checked) pupil, open and resolved, newest first, with its history. The
    caller audits the read (it is part of the pupil's results page)."""
    alerts = db.session.execute(
        select(Alert).where(Alert.pupil_ref == pupil_ref(pupil.id))
        .options(selectinload(Alert.acknowledged_by), selectinload(Alert.resolved_by))).scalars().all()
    return [alert_history(a) for a in sorted(alerts, key=lambda a: (a.raised_at, a.id), reverse=True)]


def get_alert(*, actor: User, alert_uuid: str) -> Alert | None:
    """The alert if it belongs to a school in the actor's scope."""
    return db.session.execute(
        _scoped(actor, Permission.SCREENING_ALERTS).where(Alert.uuid == alert_uuid)).scalar_one_or_none()


def _acknowledge(actor: User, alert: Alert) -> bool:
    """Acknowledge and audit, uncommitted; False if it already was."""
    if alert.acknowledged_at is not None:
        return False
    alert.acknowledged_at, alert.acknowledged_by_id = utcnow(), actor.id
    audit.record(actor, AuditAction.ALERT_ACKNOWLEDGED, school_id=alert.school_id,
                 object_type="alert", object_id=alert.uuid)
    return True


def acknowledge(*, actor: User, alert: Alert) -> Alert:
    """Record that a psychologist has taken the alert on (idempotent)."""
    if _acknowledge(actor, alert):
        db.session.commit()
    return alert


class AlertAlreadyResolved(ValueError):
    """The alert was resolved already (by someone else, or into a case)."""


def close_into_case(*, actor: User, alert: Alert, case_uuid: str) -> None:
    """Acknowledge (if needed) and resolve an alert whose follow-up now lives in a monitoring case, in the caller's
    transaction (the caller links the case and commits). The (encrypted) note names the case; the audit entries,
    like every alert entry, name no pupil, rule or severity, and not the case either."""
    if alert.resolved_at is not None:
        raise AlertAlreadyResolved(alert.id)
    _acknowledge(actor, alert)
    alert.resolved_at, alert.resolved_by_id = utcnow(), actor.id
    alert.resolution_note = f"Continued in monitoring case {case_uuid}"
    audit.record(actor, AuditAction.ALERT_RESOLVED, school_id=alert.school_id,
                 object_type="alert", object_id=alert.uuid, details={"into": "case"})


def resolve(*, actor: User, alert: Alert, note: str) -> Alert:
    """Close an acknowledged alert with an (encrypted) note of what was done."""
    if alert.acknowledged_at is None:
        raise AlertNotAcknowledged(alert.id)
    if not note.strip():
        raise ValueError("a resolution note is required")
    alert.resolved_at, alert.resolved_by_id = utcnow(), actor.id
    alert.resolution_note = note.strip()
    audit.record(actor, AuditAction.ALERT_RESOLVED, school_id=alert.school_id,
                 object_type="alert", object_id=alert.uuid)
    db.session.commit()
    return alert


def open_alert_counts(*, school_ids: Iterable[int]) -> dict[str, int]:
    """Unresolved alerts of these schools by severity (acute, urgent, routine; absent ones count 0)."""
    counts = dict.fromkeys(SEVERITIES, 0)
    ids = list(school_ids)
    if not ids:
        return counts
    for alert in db.session.execute(select(Alert).where(
            Alert.school_id.in_(ids), Alert.resolved_at.is_(None))).scalars():
        counts[alert.severity] += 1  # the severity is encrypted: a school's open alerts are few
    return counts


def open_alerts_by_pupil(*, pupil_ids: Iterable[int]) -> dict[int, list[Alert]]:
    """Unresolved alerts of these pupils (one query by their keyed references), by pupil id."""
    refs = {pupil_ref(pid): pid for pid in pupil_ids}
    found: dict[int, list[Alert]] = {}
    if refs:
        for alert in db.session.execute(select(Alert).where(
                Alert.pupil_ref.in_(list(refs)), Alert.resolved_at.is_(None))).scalars():
            found.setdefault(refs[alert.pupil_ref], []).append(alert)
    return found


def open_alert_dates(*, pupil_ids: Iterable[int]) -> dict[int, date]:
    """For class teachers' flags: the day each pupil's earliest open alert was raised (local date), nothing else.

    A pupil's own request for help is left out: the pupil wrote to the psychologist, not to the class teacher.
    (An anonymous one has no pupil and matches nobody anyway.)
    """
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    dates: dict[int, date] = {}
    for pid, alerts in open_alerts_by_pupil(pupil_ids=pupil_ids).items():
        screening = [a for a in alerts if not a.is_help_request]
        if screening:
            dates[pid] = min(a.raised_at for a in screening).astimezone(zone).date()
    return dates


def raise_help_request(*, actor: User | None, school_id: int, pupil_id: int | None, class_id: int | None,
                       help_request_id: int, anonymous: bool) -> Alert:
    """Raise the alert of a pupil's request for help in the caller's transaction (the caller commits).

    An anonymous one carries the school and class, no pupil, and writes no audit entry now: it is audited when a
    psychologist first opens the inbox listing it (:func:`audit_first_opening`; why: app.help.services.send_request).
    """
    from app.screening.services import _round_up, alert_due_at  # the deadlines screening alerts use

    now = utcnow()
    alert = Alert(school_id=school_id, due_at=_round_up(alert_due_at(HELP_REQUEST_SEVERITY, now)))
    alert.details = AlertDetails(
        pupil_id=None if anonymous else pupil_id, school_id=school_id, instrument_ref=HELP_REQUEST_REF,
        severity=HELP_REQUEST_SEVERITY, rules=(HELP_REQUEST_RULE,), raised_at=now,
        kind=AlertKind.HELP_REQUEST.value, class_id=class_id, help_request_id=help_request_id)
    db.session.add(alert)
    db.session.flush()
    queue_raised(school_id=school_id, severities=[alert.severity])  # mail after the commit (outbox)
    if not anonymous:
        audit.record(actor, AuditAction.ALERT_RAISED, school_id=school_id, object_type="alert", object_id=alert.uuid)
    return alert


def audit_first_opening(*, actor: User, alerts: Iterable[Alert]) -> None:
    """Audit the anonymous requests for help among ``alerts`` (just shown to ``actor``) that no entry names yet.

    An anonymous request writes no entry when sent, so that nothing in the log sits beside the sender's own
    entries; its first entry is this one, the psychologist's first opening, at a time the sender does not choose.
    Each entry is committed on its own (one chain per transaction); if one fails, AuditUnavailable (503).
    """
    pending = {a.uuid: a for a in alerts if a.is_help_request and a.pupil_id is None}
    if not pending:
        return
    done = set(db.session.execute(select(AuditEntry.object_id).where(
        AuditEntry.action == str(AuditAction.HELP_REQUEST_RECEIVED),
        AuditEntry.object_id.in_(list(pending)))).scalars())
    for uuid, alert in sorted(pending.items(), key=lambda item: item[1].id):
        if uuid not in done:
            audit.record_now(actor, AuditAction.HELP_REQUEST_RECEIVED, school_id=alert.school_id,
                             object_type="alert", object_id=uuid, details={"anonymous": True})


def class_labels(alerts: Iterable[Alert]) -> dict[str, str]:
    """The class of each alert (the pupil's, or the one an anonymous request named), by alert uuid."""
    alerts = list(alerts)
    pupil_ids = {a.pupil_id for a in alerts if a.pupil_id is not None}
    pupil_class = dict(db.session.execute(select(Pupil.id, Pupil.class_id).where(Pupil.id.in_(pupil_ids))).all()) \
        if pupil_ids else {}
    class_of = {a.uuid: (pupil_class.get(a.pupil_id) if a.pupil_id is not None else a.class_id) for a in alerts}
    wanted = {c for c in class_of.values() if c is not None}
    labels = {c.id: c.label for c in db.session.execute(
        select(SchoolClass).where(SchoolClass.id.in_(wanted))).scalars()} if wanted else {}
    return {uuid: labels[c] for uuid, c in class_of.items() if c is not None and c in labels}


def locked_psychologists(*, school_id: int) -> list[User]:
    """The school's active psychologists whose sign-in is paused now (too many failed attempts)."""
    staff = db.session.execute(
        select(User).join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.role == Role.PSYCHOLOGIST.value, RoleAssignment.school_id == school_id,
               User.active.is_(True)).order_by(User.id)).scalars().unique()
    return [user for user in staff if is_locked(account_key(user.username))]


def locked_psychologists_for(*, actor: User) -> list[User]:
    """Psychologists of the director's schools whose sign-in is paused while acute alerts are open there."""
    schools = db.session.execute(
        select(School.id).where(school_scope(actor, Permission.SCREENING_ESCALATIONS))).scalars().all()
    return [user for sid in schools if open_alert_counts(school_ids=[sid])["acute"]
            for user in locked_psychologists(school_id=sid)]


def _psychologist_locked(user: User, **_: object) -> None:
    """A psychologist's sign-in was paused: if acute alerts are open at the school, tell its administration now
    (e-mail through the outbox, in the failing attempt's transaction) and audit that it was told."""
    for assignment in user.assignments:
        if assignment.role != Role.PSYCHOLOGIST.value or assignment.school_id is None:
            continue
        acute = open_alert_counts(school_ids=[assignment.school_id])["acute"]
        if acute:
            queued = queue_locked_psychologist(school_id=assignment.school_id, acute=acute)
            audit.record(None, AuditAction.LOCKOUT_REPORTED, school_id=assignment.school_id, object_type="user",
                         object_id=user.id, details={"acute_alerts": acute, "mails": queued})


account_locked.connect(_psychologist_locked)


def escalated_alerts(*, actor: User) -> list[Alert]:
    """Escalated, still unacknowledged alerts of the director's school (no answers are shown)."""
    return _by_urgency(db.session.execute(
        _scoped(actor, Permission.SCREENING_ESCALATIONS)
        .where(Alert.escalated_at.is_not(None), Alert.resolved_at.is_(None))).scalars())


@dataclass(frozen=True)
class Contact:
    """A psychologist the director can reach: the name and, if the account has them, the e-mail and work phone."""

    name: str
    email: str | None
    phone: str | None = None


@dataclass(frozen=True)
class Escalation:
    """What the director's page shows of an escalated alert: the class, never the pupil, the answers or the rule."""

    uuid: str
    severity: str
    class_label: str | None
    school_name: str
    raised_at: datetime
    due_at: datetime
    escalated_at: datetime
    acknowledged: bool
    #: The school's psychologists, who are responsible for its alerts.
    psychologists: tuple[Contact, ...]


def escalations_for(*, actor: User) -> list[Escalation]:
    """The director's escalated alerts as summaries, most severe and oldest first (a fixed number of queries)."""
    alerts = escalated_alerts(actor=actor)
    if not alerts:
        return []
    classes = class_labels(alerts)  # an anonymous request for help has a class and no pupil
    school_ids = {a.school_id for a in alerts}
    schools = {s.id: s for s in db.session.execute(select(School).where(School.id.in_(school_ids))).scalars()}
    staff: dict[int, list[Contact]] = {}
    for user, school_id in db.session.execute(
            select(User, RoleAssignment.school_id).join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(RoleAssignment.role == Role.PSYCHOLOGIST.value, RoleAssignment.school_id.in_(school_ids),
                   User.active.is_(True)).order_by(User.full_name, User.id)):
        staff.setdefault(school_id or 0, []).append(Contact(user.display_name, user.email or None,
                                                                    user.phone or None))
    return [Escalation(uuid=a.uuid, severity=a.severity,
                       class_label=classes.get(a.uuid),
                       school_name=schools[a.school_id].name, raised_at=a.raised_at, due_at=a.due_at,
                       escalated_at=a.escalated_at or a.due_at, acknowledged=a.acknowledged_at is not None,
                       psychologists=tuple(staff.get(a.school_id, ()))) for a in alerts]


def escalate_overdue(now: datetime | None = None) -> int:
    """Mark every overdue, unacknowledged alert as escalated, audit it and queue mail to the schools."""
    now = now or utcnow()
    overdue = list(db.session.execute(
        select(Alert).where(Alert.acknowledged_at.is_(None), Alert.escalated_at.is_(None), Alert.due_at < now)
    ).scalars())
    by_school: dict[int, int] = {}
    for alert in overdue:
        alert.escalated_at = now
        by_school[alert.school_id] = by_school.get(alert.school_id, 0) + 1
        audit.record(None, AuditAction.ALERT_ESCALATED, school_id=alert.school_id,
                     object_type="alert", object_id=alert.uuid)
    for school_id, count in by_school.items():  # queued in the same transaction, sent after it (outbox)
        queue_overdue(school_id=school_id, count=count)
    db.session.commit()
    return len(overdue)
