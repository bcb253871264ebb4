"""Registries (police juvenile registry, intra-school registry, juvenile affairs commission's list).

An entry runs from registration to deregistration and is never deleted; each change appends a
:class:`~app.monitoring.models.RegistryEvent` holding the entry's full state after it (encrypted), so the whole
history can be shown. Reads and writes are audited with the pupil's id; details name no kind or reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.auth.permissions import Permission, visible_registry_entries
from app.core import audit
from app.core.audit import AuditAction
from app.core.models import Pupil, utcnow
from app.extensions import db
from app.monitoring.conflicts import versioned
from app.monitoring.models import RegistryDetails, RegistryEntry, RegistryEvent, RegistryEventKind


class RegistryError(ValueError):
    """A change the registry's rules refuse."""


class EntryEnded(RegistryError):
    """A deregistered entry is history: it is not edited (a new registration is a new entry)."""


class BadDates(RegistryError):
    """A review or deregistration date before the registration date."""


def _audit(actor: User, action: AuditAction, entry: RegistryEntry) -> None:
    audit.record(actor, action, school_id=entry.school_id, pupil_id=entry.pupil_id, object_type="registry_entry",
                 object_id=entry.uuid)


def _snapshot(entry: RegistryEntry) -> dict[str, Any]:
    details = entry.details
    return {
        "kind": details.kind, "basis_document": details.basis_document, "basis_number": details.basis_number,
        "basis_date": details.basis_date.isoformat() if details.basis_date else None,
        "reason_category": details.reason_category, "reason_text": details.reason_text,
        "started_on": entry.started_on.isoformat(),
        "next_review_on": entry.next_review_on.isoformat() if entry.next_review_on else None,
        "ended_on": entry.ended_on.isoformat() if entry.ended_on else None,
        "end_reason": entry.end_reason,
    }


def _event(actor: User, entry: RegistryEntry, kind: RegistryEventKind) -> None:
    event = RegistryEvent(school_id=entry.school_id, entry_id=entry.id, actor_id=actor.id, kind=kind.value,
                          at=utcnow())
    event.snapshot = _snapshot(entry)
    db.session.add(event)


def _check_dates(started_on: date, *later: date | None) -> None:
    if any(day is not None and day < started_on for day in later):
        raise BadDates()


def registry_of(*, actor: User, pupil: Pupil) -> list[RegistryEntry]:
    """The pupil's entries, current first, then by start date (newest first); the reading is audited."""
    entries = list(db.session.execute(
        visible_registry_entries(actor, Permission.MONITORING_REGISTRY_READ)
        .where(RegistryEntry.pupil_id == pupil.id)).scalars())
    entries.sort(key=lambda e: (not e.is_current, -e.started_on.toordinal(), -e.id))
    audit.record_read(actor, AuditAction.REGISTRY_READ, school_id=pupil.school_id, pupil_id=pupil.id,
                      object_type="pupil", object_id=pupil.uuid, details={"count": len(entries)})
    return entries


def add_entry(*, actor: User, pupil: Pupil, details: RegistryDetails, started_on: date,
              next_review_on: date | None) -> RegistryEntry:
    """Register the pupil (encrypted details under the school's key) and record the first history event."""
    _check_dates(started_on, next_review_on)
    now = utcnow()
    entry = RegistryEntry(school_id=pupil.school_id, pupil_id=pupil.id, started_on=started_on,
                          next_review_on=next_review_on, created_at=now, created_by_id=actor.id, updated_at=now,
                          updated_by_id=actor.id)
    entry.details = details
    db.session.add(entry)
    db.session.flush()
    _event(actor, entry, RegistryEventKind.CREATED)
    _audit(actor, AuditAction.REGISTRY_CREATE, entry)
    db.session.commit()
    return entry


def update_entry(*, actor: User, entry: RegistryEntry, version: int | None, details: RegistryDetails,
                 started_on: date, next_review_on: date | None) -> RegistryEntry:
    """Change a current entry from a form loaded at ``version`` (EditConflict if it moved on)."""
    if not entry.is_current:
        raise EntryEnded()
    _check_dates(started_on, next_review_on)
    with versioned(actor=actor, record=entry, version=version, object_type="registry_entry"):
        entry.details = details
        entry.started_on, entry.next_review_on = started_on, next_review_on
        entry.updated_at, entry.updated_by_id = utcnow(), actor.id
        db.session.flush()
        _event(actor, entry, RegistryEventKind.UPDATED)
        _audit(actor, AuditAction.REGISTRY_UPDATE, entry)
    return entry


def deregister(*, actor: User, entry: RegistryEntry, version: int | None, ended_on: date,
               reason: str) -> RegistryEntry:
    """Take the pupil off this registry on ``ended_on`` with a reason (encrypted); the entry stays as history."""
    reason = (reason or "").strip()
    if not reason:
        raise RegistryError("a reason is required")
    if not entry.is_current:
        raise EntryEnded()
    _check_dates(entry.started_on, ended_on)
    with versioned(actor=actor, record=entry, version=version, object_type="registry_entry"):
        entry.ended_on = ended_on
        entry.end_reason = reason
        entry.next_review_on = None
        entry.updated_at, entry.updated_by_id = utcnow(), actor.id
        db.session.flush()
        _event(actor, entry, RegistryEventKind.DEREGISTERED)
        _audit(actor, AuditAction.REGISTRY_DEREGISTER, entry)
    return entry


def history(entry: RegistryEntry) -> list[RegistryEvent]:
    """The entry's changes, oldest first (shown on pages whose reading is audited)."""
    return list(db.session.execute(
        select(RegistryEvent).where(RegistryEvent.entry_id == entry.id).order_by(RegistryEvent.id)).scalars())


def current_entries(*, actor: User, pupil_id: int) -> list[RegistryEntry]:
    """The pupil's current registrations that ``actor`` may read (for a page whose reading is audited)."""
    return list(db.session.execute(
        visible_registry_entries(actor, Permission.MONITORING_REGISTRY_READ)
        .where(RegistryEntry.pupil_id == pupil_id, RegistryEntry.ended_on.is_(None))
        .order_by(RegistryEntry.started_on)).scalars())


def read_entry(*, actor: User, entry: RegistryEntry) -> RegistryEntry:
    """Audit the opening of one entry (its edit form shows it) before it is shown."""
    audit.record_read(actor, AuditAction.REGISTRY_READ, school_id=entry.school_id, pupil_id=entry.pupil_id,
                      object_type="registry_entry", object_id=entry.uuid)
    return entry


@dataclass(frozen=True)
class RegisterRow:
    """One line of the school's registry list."""

    entry_uuid: str
    pupil_uuid: str
    pupil_name: str
    class_label: str
    kind: str
    started_on: date
    next_review_on: date | None


def current_register(*, actor: User) -> list[RegisterRow]:
    """Every current registration the actor may read, by registry then pupil; each pupil shown gets an audit
    entry (the list is short: the registered pupils of a school), written before the list is shown."""
    entries = db.session.execute(
        visible_registry_entries(actor, Permission.MONITORING_REGISTRY_READ)
        .where(RegistryEntry.ended_on.is_(None))
        .options(selectinload(RegistryEntry.pupil).selectinload(Pupil.school_class))).scalars().all()
    rows = [RegisterRow(entry_uuid=e.uuid, pupil_uuid=e.pupil.uuid, pupil_name=e.pupil.short_name,
                        class_label=e.pupil.school_class.label if e.pupil.school_class else "—",
                        kind=e.details.kind, started_on=e.started_on, next_review_on=e.next_review_on)
            for e in entries]
    rows.sort(key=lambda r: (r.kind, r.class_label, r.pupil_name.casefold()))
    try:  # chains in ascending school order, as every multi-school transaction takes them (no lock cycles)
        for entry in sorted(entries, key=lambda e: (e.school_id, e.id)):
            audit.record(actor, AuditAction.REGISTRY_READ, school_id=entry.school_id, pupil_id=entry.pupil_id,
                         object_type="registry_entry", object_id=entry.uuid, details={"list": True})
        db.session.commit()
    except SQLAlchemyError as exc:
        db.session.rollback()
        raise audit.AuditUnavailable(str(AuditAction.REGISTRY_READ)) from exc
    return rows
