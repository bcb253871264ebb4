"""Screening workflow records: campaigns, pupils' sessions (one-time codes), results and alerts.

Answers, scores and drafts are encrypted at rest (AES-GCM bound to table, column and row uuid);
the only plaintext outcome is a coarse flag level (0-3) for class-teacher flags and aggregates.
"""

from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Column, ForeignKey, LargeBinary, SmallInteger, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.encryption import Encrypted
from app.core.models import new_uuid, utcnow
from app.extensions import Model, db

if TYPE_CHECKING:
    from app.auth.models import User
    from app.core.models import Pupil, School, SchoolClass


class CampaignMode(enum.StrEnum):
    ONLINE = "online"  # pupils answer on a device with a one-time code
    PAPER = "paper"    # the psychologist enters paper forms


class SessionStatus(enum.StrEnum):
    ISSUED = "issued"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    EXPIRED = "expired"  # closed without a result: code expired or campaign closed with nothing answered


class FlagLevel(enum.IntEnum):
    """Coarse, plaintext outcome for class-teacher flags and aggregates (no scores)."""

    NONE = 0     # nothing raised
    ROUTINE = 1  # a psychologist review is queued
    URGENT = 2   # the psychologist sees the pupil today
    ACUTE = 3    # immediate


campaign_classes = Table(
    "campaign_classes", db.metadata,
    Column("campaign_id", ForeignKey("screening_campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("class_id", ForeignKey("school_classes.id"), primary_key=True),
)


class Campaign(Model):
    """A planned screening of some classes of one school with some instruments in a time window."""

    __tablename__ = "screening_campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    #: Title given by the psychologist (not personal data).
    title: Mapped[str] = mapped_column(String(200))
    #: Instrument references, "id@version", in the order pupils answer them.
    instrument_refs: Mapped[list[str]] = mapped_column(JSON)
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    mode: Mapped[str] = mapped_column(String(8), default=CampaignMode.ONLINE.value)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    school: Mapped[School] = relationship()
    classes: Mapped[list[SchoolClass]] = relationship(secondary=campaign_classes,
                                                      order_by="(SchoolClass.grade, SchoolClass.letter)")
    created_by: Mapped[User] = relationship()

    def is_open(self, now: datetime) -> bool:
        """True within the campaign's window."""
        return self.opens_at <= now <= self.closes_at

    def __repr__(self) -> str:
        return f"<Campaign {self.id}>"


class ScreeningSession(Model):
    """One pupil's sitting of one instrument, reached with a personal one-time code."""

    __tablename__ = "screening_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("screening_campaigns.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    instrument_ref: Mapped[str] = mapped_column(String(64))
    #: Language of the texts the pupil chose (None until chosen).
    language: Mapped[str | None] = mapped_column(String(2))
    #: Keyed HMAC of the one-time code (the code itself is never stored).
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    code_expires_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=SessionStatus.ISSUED.value)
    #: Sensitive (mental health): AES-GCM ciphertext of the draft answers (JSON).
    draft_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]

    draft_json = Encrypted("draft_ct")

    campaign: Mapped[Campaign] = relationship()
    pupil: Mapped[Pupil] = relationship()

    @property
    def draft(self) -> dict[str, int | None]:
        """Draft answers so far (item id → option value)."""
        return json.loads(self.draft_json) if self.draft_ct is not None else {}

    @draft.setter
    def draft(self, answers: dict[str, int | None]) -> None:
        self.draft_json = json.dumps(answers, sort_keys=True)

    def __repr__(self) -> str:
        return f"<ScreeningSession {self.id}>"


class ScreeningResult(Model):
    """A completed response: raw answers and scores encrypted, with the exact instrument/text used."""

    __tablename__ = "screening_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("screening_sessions.id"), unique=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("screening_campaigns.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("school_classes.id"), index=True)
    instrument_id: Mapped[str] = mapped_column(String(40))
    instrument_version: Mapped[str] = mapped_column(String(16))
    #: Language, validation status and version of the texts the pupil saw.
    language: Mapped[str] = mapped_column(String(2))
    text_version: Mapped[str] = mapped_column(String(32))
    text_status: Mapped[str] = mapped_column(String(32))
    #: online (self-completion) or paper (entered by staff).
    mode: Mapped[str] = mapped_column(String(8))
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Age in whole years at completion (used for age-specific cut-offs).
    age: Mapped[int | None] = mapped_column(SmallInteger)
    #: Sensitive (mental health): AES-GCM ciphertexts of the answers and of the scores (JSON).
    answers_ct: Mapped[bytes] = mapped_column(LargeBinary)
    scores_ct: Mapped[bytes] = mapped_column(LargeBinary)
    #: Coarse plaintext outcome (FlagLevel) for class-teacher flags and aggregates.
    flag_level: Mapped[int] = mapped_column(SmallInteger, default=0)
    completed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    answers_json = Encrypted("answers_ct")
    scores_json = Encrypted("scores_ct")

    pupil: Mapped[Pupil] = relationship()
    alerts: Mapped[list[Alert]] = relationship(back_populates="result")

    @property
    def instrument_ref(self) -> str:
        return f"{self.instrument_id}@{self.instrument_version}"

    @property
    def answers(self) -> dict[str, int | None]:
        return json.loads(self.answers_json)

    @property
    def scores(self) -> dict[str, Any]:
        """{"scales": ..., "bands": ..., "alerts": [...], "missing_items": [...]}."""
        return json.loads(self.scores_json)

    def __repr__(self) -> str:
        return f"<ScreeningResult {self.id}>"


class Alert(Model):
    """A critical answer that needs an adult. Immutable except for acknowledge / resolve / escalate."""

    __tablename__ = "screening_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    #: The result it came from (None while raised from an answer of a session still in progress).
    result_id: Mapped[int | None] = mapped_column(ForeignKey("screening_results.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("screening_sessions.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    instrument_ref: Mapped[str] = mapped_column(String(64))
    rule_id: Mapped[str] = mapped_column(String(64))
    #: acute | urgent | routine
    severity: Mapped[str] = mapped_column(String(8), index=True)
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When someone must have acknowledged it (from severity: SENIM_ALERT_DEADLINES).
    due_at: Mapped[datetime] = mapped_column(index=True)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Sensitive (mental health): AES-GCM ciphertext of what was done.
    resolution_note_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: Set when the alert passed its deadline unacknowledged and went to the administration.
    escalated_at: Mapped[datetime | None]

    resolution_note = Encrypted("resolution_note_ct")

    result: Mapped[ScreeningResult | None] = relationship(back_populates="alerts")
    pupil: Mapped[Pupil] = relationship()
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])

    def is_overdue(self, now: datetime) -> bool:
        """Past its deadline and not yet acknowledged."""
        return self.acknowledged_at is None and now > self.due_at

    def __repr__(self) -> str:
        return f"<Alert {self.id}>"


class LocalInstrument(Model):
    """A school's own method, uploaded as instrument data; never edited (a change is a new version).

    Used through the same scoring, alert rules and FHIR export as the shipped instruments, under the
    reference ``local:<school_id>:<instrument_id>@<version>``, and always shown as not validated.
    """

    __tablename__ = "local_instruments"
    __table_args__ = (UniqueConstraint("school_id", "instrument_id", "version",
                                       name="uq_local_instruments_school_id_instrument_id_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    #: The ``id`` and ``version`` of the uploaded instrument.yaml (not personal data).
    instrument_id: Mapped[str] = mapped_column(String(24))
    version: Mapped[str] = mapped_column(String(16))
    #: The uploaded files exactly as received (UTF-8 YAML; questionnaire texts, no personal data).
    instrument_yaml: Mapped[str] = mapped_column(Text)
    texts_kk_yaml: Mapped[str] = mapped_column(Text)
    texts_ru_yaml: Mapped[str] = mapped_column(Text)
    texts_en_yaml: Mapped[str] = mapped_column(Text)
    #: SHA-256 over the four files: identifies the exact content (and keys the parsed-instrument cache).
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Set when retired: hidden from new campaigns and paper entry; results that used it still read.
    retired_at: Mapped[datetime | None]
    retired_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    school: Mapped[School] = relationship()
    uploaded_by: Mapped[User] = relationship(foreign_keys=[uploaded_by_id])

    @property
    def ref(self) -> str:
        """The reference campaigns, sessions and results store."""
        return f"local:{self.school_id}:{self.instrument_id}@{self.version}"

    def __repr__(self) -> str:
        return f"<LocalInstrument {self.id}>"
