"""Moving a case to the school a pupil moved to: proposed by the sending side (which may withdraw it while it
waits), accepted or declined by the receiving psychologist.

Until it is accepted, the receiving school sees only the pupil's name, class and that a case is waiting. On
accept, in one transaction: the case and every record of it move to the new school and are re-encrypted under
the new school's data key; the accepting psychologist becomes the owner; the old team's memberships and access
grants end (so the old team loses access); and the pupil's record itself moves to the new school (out of its old
class), so the new school's staff see the pupil and the old school's no longer do. Both schools' audit chains get
an entry, each time (propose, withdraw, accept, decline), and keep them. A declined or withdrawn transfer leaves
the case where it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.auth.models import User
from app.auth.roles import Role
from app.core import audit
from app.core.audit import AuditAction
from app.core.models import Pupil, School, pupil_name_index, utcnow
from app.core.school_keys import SCHOOL_ENCRYPTED_FIELDS, SchoolEncrypted, school_keyring
from app.extensions import db
from app.monitoring.conflicts import versioned
from app.monitoring.models import CaseAccessGrant, CaseEvent, CaseEventKind, MonitoringCase
from app.monitoring.referral_models import CaseTransfer, TransferStatus


class TransferError(ValueError):
    """A transfer the rules refuse (the view shows a message)."""


class SameSchool(TransferError):
    pass


class AlreadyPending(TransferError):
    pass


class NotPending(TransferError):
    pass


class ClosedCase(TransferError):
    pass


class ReasonMissing(TransferError):
    pass


def _audit_both(actor: User, action: AuditAction, transfer: CaseTransfer, from_school: int, to_school: int) -> None:
    """One entry in each school's chain (lower school id first: two transactions never lock the heads in opposite
    order)."""
    for school_id in sorted({from_school, to_school}):
        audit.record(actor, action, school_id=school_id, pupil_id=transfer.pupil_id, object_type="case_transfer",
                     object_id=transfer.uuid, details={"from_school": from_school, "to_school": to_school})


def pending_transfer(case: MonitoringCase) -> CaseTransfer | None:
    """The case's transfer waiting for an answer, if any."""
    return db.session.execute(select(CaseTransfer).where(
        CaseTransfer.case_id == case.id, CaseTransfer.status == TransferStatus.PENDING.value)).scalar_one_or_none()


def case_transfers(case: MonitoringCase) -> list[CaseTransfer]:
    """Every transfer of the case, newest first (the case page shows the declined ones with their reason)."""
    return list(db.session.execute(select(CaseTransfer).where(CaseTransfer.case_id == case.id)
                                   .order_by(CaseTransfer.id.desc())).scalars())


def target_schools(case: MonitoringCase) -> list[School]:
    """Schools a case can be moved to (every school but its own), by name."""
    schools = list(db.session.execute(select(School).where(School.id != case.school_id)).scalars())
    return sorted(schools, key=lambda school: school.name.casefold())


def propose(*, actor: User, case: MonitoringCase, to_school: School) -> CaseTransfer:
    """Propose to move the case to ``to_school``; the school's psychologists see it waiting. Audited in both."""
    if case.is_closed:
        raise ClosedCase()
    if to_school.id == case.school_id:
        raise SameSchool()
    if pending_transfer(case) is not None:
        raise AlreadyPending()
    transfer = CaseTransfer(school_id=case.school_id, to_school_id=to_school.id, case_id=case.id,
                            pupil_id=case.pupil_id, status=TransferStatus.PENDING.value, proposed_at=utcnow(),
                            proposed_by_id=actor.id)
    db.session.add(transfer)
    db.session.flush()
    _audit_both(actor, AuditAction.TRANSFER_PROPOSED, transfer, case.school_id, to_school.id)
    db.session.commit()
    return transfer


@dataclass(frozen=True)
class WaitingTransfer:
    """What the receiving school sees of a transfer before accepting: a name, a class, a date. Nothing else."""

    uuid: str
    version: int
    pupil_name: str
    class_label: str
    proposed_at: datetime


def waiting_for(*, actor: User, transfers: list[CaseTransfer]) -> list[WaitingTransfer]:
    """The summaries of ``transfers`` (already scoped to the actor's school); the reading is audited per pupil."""
    rows = []
    for transfer in transfers:
        pupil = db.session.get_one(Pupil, transfer.pupil_id)
        rows.append(WaitingTransfer(uuid=transfer.uuid, version=transfer.version, pupil_name=pupil.short_name,
                                    class_label=pupil.school_class.label if pupil.school_class else "—",
                                    proposed_at=transfer.proposed_at))
        audit.record_read(actor, AuditAction.TRANSFER_LIST_READ, school_id=transfer.to_school_id,
                          pupil_id=transfer.pupil_id, object_type="case_transfer", object_id=transfer.uuid)
    return rows


def _case_records(case: MonitoringCase) -> list[tuple[object, list[SchoolEncrypted]]]:
    """The case and every row of it encrypted under its school's key (any monitoring table with a ``case_id``,
    including those other parts of monitoring add), with their encrypted fields."""
    fields: dict[type, list[SchoolEncrypted]] = {}
    for model, descriptor in SCHOOL_ENCRYPTED_FIELDS:
        if model is CaseTransfer or not hasattr(model, "school_id"):
            continue
        if model is MonitoringCase or hasattr(model, "case_id"):
            fields.setdefault(model, []).append(descriptor)
    records: list[tuple[object, list[SchoolEncrypted]]] = [(case, fields.pop(MonitoringCase, []))]
    for model, descriptors in fields.items():
        rows: Any = db.session.execute(select(model).where(model.case_id == case.id)).scalars()  # type: ignore[attr-defined]
        records.extend((row, descriptors) for row in rows)
    return records


def _reencrypt(case: MonitoringCase, to_school_id: int) -> None:
    """Decrypt every record of the case under the old school's key and encrypt it again under the new one."""
    school_keyring(to_school_id, create=True)
    for row, descriptors in _case_records(case):
        values = {d.name: d.__get__(row) for d in descriptors}
        row.school_id = to_school_id  # type: ignore[attr-defined]
        for descriptor in descriptors:
            descriptor.__set__(row, values[descriptor.name])


def _move_pupil(pupil: Pupil, to_school_id: int) -> None:
    """The pupil's record moves to the new school: out of a class of the old one, the school-scoped name index
    recomputed (so the new school's search finds the pupil)."""
    if pupil.school_id == to_school_id:
        return  # the roster of the new school registered the pupil already
    pupil.school_id = to_school_id
    if pupil.school_class is not None and pupil.school_class.school_id != to_school_id:
        pupil.class_id = None
    pupil.name_bidx = pupil_name_index(to_school_id, pupil.last_name, pupil.first_name)


def is_psychologist_of(user: User, school_id: int) -> bool:
    return any(a.school_id == school_id and Role(a.role) is Role.PSYCHOLOGIST for a in user.assignments)


def accept(*, actor: User, transfer: CaseTransfer, version: int | None) -> MonitoringCase:
    """Take the case over: it moves to the receiving school (re-encrypted under its key), ``actor`` owns it, the old
    team and grants end. Audited in both schools' chains."""
    case = transfer.case
    with versioned(actor=actor, record=transfer, version=version, object_type="case_transfer"):
        if transfer.status != TransferStatus.PENDING.value:
            raise NotPending()
        if not is_psychologist_of(actor, transfer.to_school_id):
            raise NotPending()
        from_school, now = case.school_id, utcnow()
        _reencrypt(case, transfer.to_school_id)
        _move_pupil(case.pupil, transfer.to_school_id)
        for member in case.current_members:
            member.removed_at, member.removed_by_id = now, actor.id
        for grant in db.session.execute(select(CaseAccessGrant).where(
                CaseAccessGrant.case_id == case.id, CaseAccessGrant.revoked_at.is_(None))).scalars():
            grant.revoked_at = now
        case.owner_id = actor.id
        case.updated_at, case.updated_by_id = now, actor.id
        transfer.status, transfer.decided_at, transfer.decided_by_id = TransferStatus.ACCEPTED.value, now, actor.id
        event = CaseEvent(school_id=case.school_id, case_id=case.id, actor_id=actor.id, at=now)
        event.record(CaseEventKind.TRANSFERRED, {"from_school": from_school, "to_school": transfer.to_school_id})
        db.session.add(event)
        _audit_both(actor, AuditAction.TRANSFER_ACCEPTED, transfer, from_school, transfer.to_school_id)
    return case


def decline(*, actor: User, transfer: CaseTransfer, version: int | None, reason: str) -> CaseTransfer:
    """Refuse the case with a reason (encrypted under the sending school's key); it stays where it is."""
    text = (reason or "").strip()
    if not text:
        raise ReasonMissing()
    with versioned(actor=actor, record=transfer, version=version, object_type="case_transfer"):
        if transfer.status != TransferStatus.PENDING.value:
            raise NotPending()
        transfer.status, transfer.decided_at, transfer.decided_by_id = (
            TransferStatus.DECLINED.value, utcnow(), actor.id)
        transfer.decline_reason = text
        _audit_both(actor, AuditAction.TRANSFER_DECLINED, transfer, transfer.school_id, transfer.to_school_id)
    return transfer


def withdraw(*, actor: User, transfer: CaseTransfer, version: int | None) -> CaseTransfer:
    """Take back a transfer that waits for an answer (the sending side: the owner or a school administrator on the
    team); the receiving school no longer sees it. Audited in both schools' chains."""
    with versioned(actor=actor, record=transfer, version=version, object_type="case_transfer"):
        if transfer.status != TransferStatus.PENDING.value:
            raise NotPending()
        transfer.status, transfer.decided_at, transfer.decided_by_id = (
            TransferStatus.WITHDRAWN.value, utcnow(), actor.id)
        _audit_both(actor, AuditAction.TRANSFER_WITHDRAWN, transfer, transfer.school_id, transfer.to_school_id)
    return transfer
