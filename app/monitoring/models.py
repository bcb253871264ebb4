"""Monitoring records: registry entries, case files, their team, events, notes and time-limited access grants.

Sensitive content (registry kind and basis, reasons, risk levels, notes, event details) is encrypted under the
school's own data key (:class:`~app.core.school_keys.SchoolEncrypted`). Plaintext is what lists, schedules and
scoping query by: school, pupil, status, dates, owner and team. Nothing is deleted: registry changes and case
changes are appended as events, notes are append-only, team members and grants are ended, not removed.
Editable records carry a ``version`` (SQLAlchemy's version counter) for optimistic locking.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import new_uuid, utcnow
from app.core.school_keys import SchoolEncrypted
from app.extensions import Model

if TYPE_CHECKING:
    from app.auth.models import User
    from app.core.models import Pupil


class RegistryKind(enum.StrEnum):
    """Which list a pupil is on."""

    #: The police juvenile inspectorate's registry (ПДН / КТІБ).
    POLICE = "police"
    #: The school's own (intra-school) registry.
    SCHOOL = "school"
    #: The list of the commission on juvenile affairs and the protection of their rights (КДН / КІЖҚҚК).
    COMMISSION = "commission"


class RegistryReason(enum.StrEnum):
    """Reason categories of a registration (a closed list; the free text says the rest)."""

    OFFENCE = "offence"
    TRUANCY = "truancy"
    SUBSTANCE_USE = "substance_use"
    SELF_HARM = "self_harm"
    SUICIDAL_BEHAVIOUR = "suicidal_behaviour"
    VIOLENCE = "violence"
    RUNNING_AWAY = "running_away"
    FAMILY_SITUATION = "family_situation"
    OTHER = "other"


class CaseOrigin(enum.StrEnum):
    """Where a case came from."""

    ALERT = "alert"
    REGISTRY = "registry"
    REFERRAL = "referral"
    REQUEST = "request"
    MANUAL = "manual"


class RiskLevel(enum.StrEnum):
    """A case's risk level, least to most severe."""

    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"
    ACUTE = "acute"


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    ACTIVE = "active"
    REVIEW = "review"
    CLOSED = "closed"


#: The status workflow: open → active monitoring → review → closed; a review may go back to monitoring; a closed
#: case may be reopened. Anything else is refused.
TRANSITIONS: dict[CaseStatus, tuple[CaseStatus, ...]] = {
    CaseStatus.OPEN: (CaseStatus.ACTIVE,),
    CaseStatus.ACTIVE: (CaseStatus.REVIEW,),
    CaseStatus.REVIEW: (CaseStatus.ACTIVE, CaseStatus.CLOSED),
    CaseStatus.CLOSED: (CaseStatus.OPEN,),
}


class TeamRole(enum.StrEnum):
    """What a team member is on the case as (from their role at the school)."""

    PSYCHOLOGIST = "psychologist"
    SOCIAL_PEDAGOGUE = "social_pedagogue"
    ADMINISTRATOR = "administrator"


class CaseEventKind(enum.StrEnum):
    OPENED = "opened"
    RISK = "risk"
    STATUS = "status"
    REVIEW_DATE = "review_date"
    MEMBER_ADDED = "member_added"
    MEMBER_REMOVED = "member_removed"
    ALERT_LINKED = "alert_linked"
    TRANSFERRED = "transferred"


class RegistryEventKind(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DEREGISTERED = "deregistered"


@dataclass(frozen=True)
class RegistryDetails:
    """What a registry entry says; stored encrypted (RegistryEntry.details_ct)."""

    kind: str
    basis_document: str
    basis_number: str
    basis_date: date | None
    reason_category: str
    reason_text: str

    def to_json(self) -> str:
        data = asdict(self)
        data["basis_date"] = self.basis_date.isoformat() if self.basis_date else None
        return json.dumps(data, sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> RegistryDetails:
        data = json.loads(raw)
        data["basis_date"] = date.fromisoformat(data["basis_date"]) if data.get("basis_date") else None
        return cls(**data)


def _json_property(column: str, token: str) -> Any:
    """A dict view of an encrypted JSON column, decrypted once per ciphertext (``token`` is its raw column)."""
    cache = f"_{column}_cache"

    def getter(self: Any) -> dict[str, Any]:
        cached = self.__dict__.get(cache)
        if cached is None or cached[0] is not getattr(self, token):
            raw = getattr(self, column)
            cached = (getattr(self, token), json.loads(raw) if raw else {})
            self.__dict__[cache] = cached
        return cached[1]

    def setter(self: Any, value: dict[str, Any]) -> None:
        setattr(self, column, json.dumps(value, sort_keys=True, ensure_ascii=False, default=str))

    return property(getter, setter)


class RegistryEntry(Model):
    """A pupil's registration on one registry, from its start to its deregistration. Never deleted."""

    __tablename__ = "registry_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    #: Sensitive (legal, behaviour): school-key ciphertext of the JSON :class:`RegistryDetails`.
    details_ct: Mapped[bytes] = mapped_column(LargeBinary)
    #: Registered since (not sensitive alone); the review schedule counts from it.
    started_on: Mapped[date]
    next_review_on: Mapped[date | None] = mapped_column(index=True)
    #: Deregistration date; None while the pupil is on the registry.
    ended_on: Mapped[date | None]
    #: Sensitive: school-key ciphertext of the deregistration reason.
    end_reason_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Optimistic locking: every UPDATE checks and increments it.
    version: Mapped[int] = mapped_column(default=1)

    details_json = SchoolEncrypted("details_ct")
    end_reason = SchoolEncrypted("end_reason_ct")

    pupil: Mapped[Pupil] = relationship()
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    events: Mapped[list[RegistryEvent]] = relationship(back_populates="entry", order_by="RegistryEvent.id")

    __mapper_args__ = {"version_id_col": version}

    @property
    def details(self) -> RegistryDetails:
        return RegistryDetails.from_json(self.details_json)

    @details.setter
    def details(self, value: RegistryDetails) -> None:
        self.details_json = value.to_json()

    @property
    def is_current(self) -> bool:
        return self.ended_on is None

    def __repr__(self) -> str:
        return f"<RegistryEntry {self.id}>"


class RegistryEvent(Model):
    """One change of a registry entry, with the entry's full state after it. Append-only."""

    __tablename__ = "registry_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("registry_entries.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    #: Sensitive: school-key ciphertext of the entry's state after the change (JSON).
    snapshot_ct: Mapped[bytes] = mapped_column(LargeBinary)

    snapshot_json = SchoolEncrypted("snapshot_ct")
    snapshot = _json_property("snapshot_json", "snapshot_ct")

    entry: Mapped[RegistryEntry] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<RegistryEvent {self.id}>"


class MonitoringCase(Model):
    """A pupil's case file, owned by a psychologist, worked on by a team. At most one case per pupil is not closed."""

    __tablename__ = "monitoring_cases"
    __table_args__ = (
        # One workflow: a pupil has at most one case that is not closed (alerts and follow-ups go into it).
        Index("uq_monitoring_cases_open_pupil", "pupil_id", unique=True,
              sqlite_where=text("status != 'closed'"), postgresql_where=text("status != 'closed'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    #: The psychologist responsible for the case.
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: open | active | review | closed (plaintext: lists and teachers' flags query it; says no risk).
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.OPEN.value)
    #: Sensitive (mental health): school-key ciphertext of the risk level (low | moderate | high | acute).
    risk_ct: Mapped[bytes] = mapped_column(LargeBinary)
    #: Sensitive: school-key ciphertext of where the case came from (alert | registry | referral | request | manual).
    origin_ct: Mapped[bytes] = mapped_column(LargeBinary)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None]
    next_review_on: Mapped[date | None] = mapped_column(index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Optimistic locking: every UPDATE checks and increments it.
    version: Mapped[int] = mapped_column(default=1)

    risk_level = SchoolEncrypted("risk_ct")
    origin = SchoolEncrypted("origin_ct")

    pupil: Mapped[Pupil] = relationship()
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    members: Mapped[list[CaseMember]] = relationship(back_populates="case", order_by="CaseMember.id")
    events: Mapped[list[CaseEvent]] = relationship(back_populates="case", order_by="CaseEvent.id")
    notes: Mapped[list[CaseNote]] = relationship(back_populates="case", order_by="CaseNote.id.desc()")

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_closed(self) -> bool:
        return self.status == CaseStatus.CLOSED.value

    @property
    def current_members(self) -> list[CaseMember]:
        return [m for m in self.members if m.removed_at is None]

    def __repr__(self) -> str:
        return f"<MonitoringCase {self.id}>"


class CaseMember(Model):
    """A team member of a case; ending the membership keeps the row (who was on the team, and when)."""

    __tablename__ = "case_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("monitoring_cases.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    team_role: Mapped[str] = mapped_column(String(24))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    removed_at: Mapped[datetime | None]
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    case: Mapped[MonitoringCase] = relationship(back_populates="members")
    user: Mapped[User] = relationship(foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"<CaseMember {self.id}>"


class CaseEvent(Model):
    """One change of a case (opened, risk, status, review date, team, alert linked). Append-only."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("monitoring_cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Sensitive: school-key ciphertext of the JSON {"kind": what changed (:class:`CaseEventKind`), "data": from,
    #: to, reason, alert, member...}. The kind is inside too: "an alert was linked" tells that the pupil screened
    #: at risk.
    data_ct: Mapped[bytes] = mapped_column(LargeBinary)

    data_json = SchoolEncrypted("data_ct")
    _envelope = _json_property("data_json", "data_ct")

    case: Mapped[MonitoringCase] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()

    @property
    def kind(self) -> str:
        return str(self._envelope.get("kind", ""))

    @property
    def data(self) -> dict[str, Any]:
        return dict(self._envelope.get("data", {}))

    def record(self, kind: CaseEventKind, data: dict[str, Any]) -> None:
        """Set what the event is (both encrypted together)."""
        self._envelope = {"kind": kind.value, "data": data}

    def __repr__(self) -> str:
        return f"<CaseEvent {self.id}>"


class CaseNote(Model):
    """A note in a case file: append-only, with its author and time."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("monitoring_cases.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Sensitive (mental health): school-key ciphertext of the note.
    body_ct: Mapped[bytes] = mapped_column(LargeBinary)

    body = SchoolEncrypted("body_ct")

    case: Mapped[MonitoringCase] = relationship(back_populates="notes")
    author: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<CaseNote {self.id}>"


class CaseAccessGrant(Model):
    """Time-limited access to a case for someone outside its team (break-the-glass); ended, never deleted."""

    __tablename__ = "case_access_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("monitoring_cases.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: Who granted it; None when the user asked for emergency access themselves.
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Sensitive: school-key ciphertext of the written reason.
    reason_ct: Mapped[bytes] = mapped_column(LargeBinary)
    starts_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    #: Review of an emergency access: when, by whom (owner or school administrator), justified or not.
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    justified: Mapped[bool | None]
    #: Sensitive: school-key ciphertext of the reviewer's note.
    review_note_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: Optimistic locking (the review is the one edit of a grant).
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    reason = SchoolEncrypted("reason_ct")
    review_note = SchoolEncrypted("review_note_ct")

    case: Mapped[MonitoringCase] = relationship(foreign_keys=[case_id])
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def pupil_id(self) -> int:
        return self.case.pupil_id

    @property
    def updated_by(self) -> User | None:
        """For the conflict page: the last change of a grant is its review."""
        return self.reviewed_by

    @property
    def updated_at(self) -> datetime:
        return self.reviewed_at or self.starts_at

    def __repr__(self) -> str:
        return f"<CaseAccessGrant {self.id}>"


from app.monitoring import plan_models as plan_models  # noqa: E402  (plans and follow-ups join the metadata)
