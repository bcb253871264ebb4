"""Referrals out of a case, the inter-agency algorithm's steps on a case, and transfers of a case to another school.

Like the other monitoring records, what a record is about (where a pupil was referred, why, the outcome, which
algorithm step, a refusal's reason) is encrypted under the school's data key; dates and statuses stay plaintext
for the overdue lists. Editable rows carry a ``version`` for optimistic locking. Nothing is deleted.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import new_uuid, utcnow
from app.core.school_keys import SchoolEncrypted
from app.extensions import Model
from app.monitoring.models import MonitoringCase, _json_property

if TYPE_CHECKING:
    from app.auth.models import User
    from app.core.models import School


class ReferralDestination(enum.StrEnum):
    """Where a pupil is referred to."""

    #: A child psychiatrist or psychotherapist.
    SPECIALIST = "specialist"
    #: The mobile rapid-response group (measure 8).
    MOBILE_GROUP = "mobile_group"
    #: The commission on juvenile affairs and the protection of their rights.
    COMMISSION = "commission"
    #: The police (juvenile inspector).
    POLICE = "police"
    #: A psychological support centre.
    SUPPORT_CENTRE = "support_centre"


class ReferralStatus(enum.StrEnum):
    SENT = "sent"
    ACCEPTED = "accepted"
    OUTCOME = "outcome"
    DECLINED = "declined"


#: sent → accepted → outcome recorded; sent or accepted → declined. Outcome and declined are final.
REFERRAL_TRANSITIONS: dict[ReferralStatus, tuple[ReferralStatus, ...]] = {
    ReferralStatus.SENT: (ReferralStatus.ACCEPTED, ReferralStatus.DECLINED),
    ReferralStatus.ACCEPTED: (ReferralStatus.OUTCOME, ReferralStatus.DECLINED),
    ReferralStatus.OUTCOME: (),
    ReferralStatus.DECLINED: (),
}
#: Statuses in which a referral still waits for something (and so can be overdue).
REFERRAL_WAITING = (ReferralStatus.SENT.value, ReferralStatus.ACCEPTED.value)


class Referral(Model):
    """A referral of a case's pupil to another agency, with its deadline and its recorded outcome."""

    __tablename__ = "case_referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("monitoring_cases.id"), index=True)
    #: sent | accepted | outcome | declined (plaintext: the overdue lists query it; says nothing of the pupil).
    status: Mapped[str] = mapped_column(String(16), default=ReferralStatus.SENT.value)
    sent_on: Mapped[date]
    #: When an answer (acceptance, outcome) is due; overdue while the referral waits past it.
    deadline: Mapped[date] = mapped_column(index=True)
    #: The day the outcome (or the refusal) was recorded.
    outcome_on: Mapped[date | None]
    #: Sensitive (says police, psychiatrist...): school-key ciphertext of the destination.
    destination_ct: Mapped[bytes] = mapped_column(LargeBinary)
    #: Sensitive: school-key ciphertext of the reason for the referral.
    reason_ct: Mapped[bytes] = mapped_column(LargeBinary)
    #: Sensitive: school-key ciphertext of the recorded outcome, or of the reason it was declined.
    outcome_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Optimistic locking: every UPDATE checks and increments it.
    version: Mapped[int] = mapped_column(default=1)

    destination = SchoolEncrypted("destination_ct")
    reason = SchoolEncrypted("reason_ct")
    outcome = SchoolEncrypted("outcome_ct")

    case: Mapped[MonitoringCase] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def pupil_id(self) -> int:
        return self.case.pupil_id

    @property
    def is_waiting(self) -> bool:
        return self.status in REFERRAL_WAITING

    def is_overdue(self, today: date) -> bool:
        return self.is_waiting and self.deadline < today

    def __repr__(self) -> str:
        return f"<Referral {self.id}>"


class CaseStep(Model):
    """One step of the inter-agency algorithm on a case, due by a time, ticked off with who did it and when."""

    __tablename__ = "case_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("monitoring_cases.id"), index=True)
    #: Sensitive (a step names the risk level and e.g. the police): school-key ciphertext of the JSON
    #: {"level", "key", "algorithm"} of the step.
    data_ct: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime] = mapped_column(index=True)
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Sensitive: school-key ciphertext of what was done (optional).
    note_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: Optimistic locking: every UPDATE checks and increments it.
    version: Mapped[int] = mapped_column(default=1)

    data_json = SchoolEncrypted("data_ct")
    data = _json_property("data_json", "data_ct")
    note = SchoolEncrypted("note_ct")

    case: Mapped[MonitoringCase] = relationship()
    done_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def pupil_id(self) -> int:
        return self.case.pupil_id

    @property
    def updated_at(self) -> datetime:
        """When the step last changed (for the conflict page)."""
        return self.done_at or self.created_at

    @property
    def updated_by(self) -> User | None:
        return self.done_by

    def is_overdue(self, now: datetime) -> bool:
        return self.done_at is None and self.due_at < now

    def __repr__(self) -> str:
        return f"<CaseStep {self.id}>"


class TransferStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    #: The sending side took the proposal back before it was answered.
    WITHDRAWN = "withdrawn"


class CaseTransfer(Model):
    """A proposal to move a case to the school the pupil moved to; the receiving psychologist accepts or declines.

    Encrypted values are under the *sending* school's key (``school_id``): the case stays there until accepted.
    """

    __tablename__ = "case_transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    #: The sending school (its key encrypts the decline reason).
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    to_school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("monitoring_cases.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    #: pending | accepted | declined | withdrawn (plaintext: the receiving school's inbox queries it).
    status: Mapped[str] = mapped_column(String(16), default=TransferStatus.PENDING.value)
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Sensitive: school-key ciphertext (sending school) of the reason the transfer was declined.
    decline_reason_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: Optimistic locking: two psychologists answering at once cannot both win.
    version: Mapped[int] = mapped_column(default=1)

    decline_reason = SchoolEncrypted("decline_reason_ct")

    case: Mapped[MonitoringCase] = relationship()
    to_school: Mapped[School] = relationship(foreign_keys=[to_school_id])
    from_school: Mapped[School] = relationship(foreign_keys=[school_id])
    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def updated_at(self) -> datetime:
        """When the transfer last changed (for the conflict page)."""
        return self.decided_at or self.proposed_at

    @property
    def updated_by(self) -> User | None:
        return self.decided_by or self.proposed_by

    def __repr__(self) -> str:
        return f"<CaseTransfer {self.id}>"
