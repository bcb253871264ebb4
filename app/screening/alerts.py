"""The alert inbox: list, acknowledge, resolve; escalate overdue alerts and notify by e-mail (notify.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, select

from app.auth.models import User
from app.auth.permissions import Permission, school_scope
from app.core import audit
from app.core.audit import AuditAction
from app.core.models import School, utcnow
from app.extensions import db
from app.screening.models import Alert
from app.screening.notify import queue_overdue

_SEVERITY_ORDER = case({"acute": 0, "urgent": 1}, value=Alert.severity, else_=2)


class AlertNotAcknowledged(ValueError):
    """An alert must be acknowledged before it is resolved."""


def _scoped(actor: User, permission: Permission):
    schools = select(School.id).where(school_scope(actor, permission))
    return select(Alert).where(Alert.school_id.in_(schools))


def open_alerts(*, actor: User) -> list[Alert]:
    """Unresolved alerts of the actor's schools, most severe and oldest first; audited."""
    alerts = list(db.session.execute(
        _scoped(actor, Permission.SCREENING_ALERTS).where(Alert.resolved_at.is_(None))
        .order_by(_SEVERITY_ORDER, Alert.raised_at)
    ).scalars())
    audit.record_read(actor, AuditAction.ALERT_LIST_READ, details={"count": len(alerts)})
    return alerts


def get_alert(*, actor: User, alert_uuid: str) -> Alert | None:
    """The alert if it belongs to a school in the actor's scope."""
    return db.session.execute(
        _scoped(actor, Permission.SCREENING_ALERTS).where(Alert.uuid == alert_uuid)).scalar_one_or_none()


def acknowledge(*, actor: User, alert: Alert) -> Alert:
    """Record that a psychologist has taken the alert on (idempotent)."""
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by_id = utcnow(), actor.id
        audit.record(actor, AuditAction.ALERT_ACKNOWLEDGED, school_id=alert.school_id, pupil_id=alert.pupil_id,
                     object_type="alert", object_id=alert.uuid, details={"rule": alert.rule_id})
        db.session.commit()
    return alert


def resolve(*, actor: User, alert: Alert, note: str) -> Alert:
    """Close an acknowledged alert with an (encrypted) note of what was done."""
    if alert.acknowledged_at is None:
        raise AlertNotAcknowledged(alert.id)
    if not note.strip():
        raise ValueError("a resolution note is required")
    alert.resolved_at, alert.resolved_by_id = utcnow(), actor.id
    alert.resolution_note = note.strip()
    audit.record(actor, AuditAction.ALERT_RESOLVED, school_id=alert.school_id, pupil_id=alert.pupil_id,
                 object_type="alert", object_id=alert.uuid, details={"rule": alert.rule_id})
    db.session.commit()
    return alert


def escalated_alerts(*, actor: User) -> list[Alert]:
    """Escalated, still unacknowledged alerts of the director's school (no answers are shown)."""
    return list(db.session.execute(
        _scoped(actor, Permission.SCREENING_ESCALATIONS)
        .where(Alert.escalated_at.is_not(None), Alert.resolved_at.is_(None))
        .order_by(_SEVERITY_ORDER, Alert.raised_at)
    ).scalars())


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
        audit.record(None, AuditAction.ALERT_ESCALATED, school_id=alert.school_id, pupil_id=alert.pupil_id,
                     object_type="alert", object_id=alert.uuid, details={"rule": alert.rule_id})
    for school_id, count in by_school.items():  # queued in the same transaction, sent after it (outbox)
        queue_overdue(school_id=school_id, count=count)
    db.session.commit()
    return len(overdue)
