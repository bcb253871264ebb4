"""Screening workflow records: campaigns, pupils' sessions (one-time codes), results and alerts.

Answers, scores, drafts and alert details are encrypted at rest (AES-GCM bound to table, column and row uuid).
No outcome is in plaintext: results carry no flag level, and an alert reaches its pupil only through a keyed
reference (issue 9 case 3), so a stolen database or backup cannot tell who screened at risk.
"""

from __future__ import annotations

import enum
import json
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.encryption import Encrypted, blind_index
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
    #: Parental consent was withdrawn or expired before the sitting was finished: the code no longer works and the
    #: draft answers are erased (alerts already raised stay). Issuing again gives a new sitting.
    STOPPED = "stopped"


class StopReason(enum.StrEnum):
    """Why a sitting was stopped (shown on the campaign page)."""

    CONSENT_WITHDRAWN = "consent_withdrawn"
    CONSENT_EXPIRED = "consent_expired"


class FlagLevel(enum.IntEnum):
    """Coarse outcome of a result (its most severe alert), derived from the encrypted scores."""

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
    #: Keyed HMAC of the one-time code. The code itself is kept only encrypted in its CodeBatch, for printing,
    #: until the cards are marked printed or SENIM_CODE_CARDS_KEPT has passed.
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    code_expires_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=SessionStatus.ISSUED.value)
    #: Sensitive (mental health): AES-GCM ciphertext of the draft answers (JSON).
    draft_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    #: When and why the sitting was stopped (status "stopped"; a StopReason value). Not personal data beyond the
    #: fact, also in the consent records, that the pupil's consent ended.
    stopped_at: Mapped[datetime | None]
    stop_reason: Mapped[str | None] = mapped_column(String(24))

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


class CodeBatch(Model):
    """One-time codes issued together, kept (encrypted) so that the printable cards survive a reload or a change
    of language: until the issuer marks them printed or SENIM_CODE_CARDS_KEPT has passed, then erased.

    Only the issuer sees them. The row stays after the codes are erased, as a record of the issue.
    """

    __tablename__ = "screening_code_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("screening_campaigns.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When the codes are erased if nobody marks the cards printed first.
    expires_at: Mapped[datetime] = mapped_column(index=True)
    printed_at: Mapped[datetime | None]
    #: When the codes were erased (marked printed, or expired); None while the cards can still be printed.
    purged_at: Mapped[datetime | None]
    #: How many cards (pupils) the batch has: not personal data.
    card_count: Mapped[int] = mapped_column(default=0)
    #: Sensitive (the codes open pupils' sittings): AES-GCM ciphertext of the cards as JSON,
    #: [{"pupil": id, "codes": [[instrument ref, code], ...]}, ...]; NULL once erased.
    cards_ct: Mapped[bytes | None] = mapped_column(LargeBinary)

    cards_json = Encrypted("cards_ct")

    campaign: Mapped[Campaign] = relationship()

    @property
    def cards(self) -> list[tuple[int, list[tuple[str, str]]]]:
        """(pupil id, [(instrument ref, code), ...]) per card; empty once the codes are erased."""
        if self.cards_ct is None:
            return []
        return [(card["pupil"], [(ref, code) for ref, code in card["codes"]]) for card in json.loads(self.cards_json)]

    @cards.setter
    def cards(self, cards: list[tuple[int, list[tuple[str, str]]]]) -> None:
        self.cards_json = json.dumps([{"pupil": pupil_id, "codes": [list(pair) for pair in codes]}
                                      for pupil_id, codes in cards])
        self.card_count = len(cards)

    def __repr__(self) -> str:
        return f"<CodeBatch {self.id}>"


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
    completed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    answers_json = Encrypted("answers_ct")
    scores_json = Encrypted("scores_ct")

    pupil: Mapped[Pupil] = relationship()

    @property
    def flag_level(self) -> FlagLevel:
        """The most severe alert this result raised (from the encrypted scores)."""
        levels = {"acute": FlagLevel.ACUTE, "urgent": FlagLevel.URGENT, "routine": FlagLevel.ROUTINE}
        return max((levels.get(a["severity"], FlagLevel.NONE) for a in self.scores.get("alerts", ())),
                   default=FlagLevel.NONE)

    @property
    def alerts(self) -> list[Alert]:
        """The alerts that belong to this result (found through the pupil's keyed reference)."""
        candidates = db.session.execute(select(Alert).where(Alert.pupil_ref == pupil_ref(self.pupil_id))).scalars()
        return [a for a in candidates if a.result_id == self.id]

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


def pupil_ref(pupil_id: int) -> bytes:
    """Keyed reference to a pupil for outcome rows (alerts): lookups work, but without the key a stolen database
    cannot tell which pupil an alert is about (issue 9 case 3)."""
    return blind_index(str(pupil_id), scope="alert-pupil")


class Alert(Model):
    """An answer that needs an adult. One alert per sitting (session) or paper form: a later, more severe rule
    upgrades it. Immutable otherwise, except for acknowledge / resolve / escalate.

    Nothing in plaintext links the alert to a pupil or tells its outcome: the pupil is a keyed reference
    (:func:`pupil_ref`) and the pupil, session, result, instrument, rules, severity and time raised are in the
    encrypted :attr:`details`. Plaintext is what the inbox and the escalation job query by: the school, the
    deadline (rounded up to five minutes, the escalation job's step) and the psychologists' actions.
    """

    __tablename__ = "screening_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    #: Keyed HMAC of the pupil's id (pupil_ref): finds a pupil's or a class's alerts; reveals nothing alone.
    pupil_ref: Mapped[bytes] = mapped_column(LargeBinary(16), index=True)
    #: Sensitive (mental health): AES-GCM ciphertext of the JSON details (see :class:`AlertDetails`).
    details_ct: Mapped[bytes] = mapped_column(LargeBinary)
    #: When someone must have acknowledged it (from severity: SENIM_ALERT_DEADLINES), rounded up to 5 minutes.
    due_at: Mapped[datetime] = mapped_column(index=True)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Sensitive (mental health): AES-GCM ciphertext of what was done.
    resolution_note_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: Set when the alert passed its deadline unacknowledged and went to the administration.
    escalated_at: Mapped[datetime | None]

    details_json = Encrypted("details_ct")
    resolution_note = Encrypted("resolution_note_ct")

    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])

    @property
    def details(self) -> AlertDetails:
        """The decrypted details (cached until they change)."""
        cached = self.__dict__.get("_details")
        if cached is None or cached[0] is not self.details_ct:
            cached = (self.details_ct, AlertDetails.from_json(self.details_json))
            self.__dict__["_details"] = cached
        return cached[1]

    @details.setter
    def details(self, value: AlertDetails) -> None:
        self.details_json = value.to_json()
        if value.pupil_id is not None:
            self.pupil_ref = pupil_ref(value.pupil_id)
        elif self.pupil_ref is None:
            # An anonymous request for help has no pupil: a random reference, indistinguishable from a real one,
            # that matches no pupil (the column stays NOT NULL and leaks nothing).
            self.pupil_ref = secrets.token_bytes(len(pupil_ref(0)))

    # The details under the names the rest of the code reads.
    pupil_id = property(lambda self: self.details.pupil_id)
    session_id = property(lambda self: self.details.session_id)
    result_id = property(lambda self: self.details.result_id)
    instrument_ref = property(lambda self: self.details.instrument_ref)
    severity = property(lambda self: self.details.severity)
    rule_id = property(lambda self: self.details.rules[0])
    raised_at = property(lambda self: self.details.raised_at)

    kind = property(lambda self: self.details.kind)
    class_id = property(lambda self: self.details.class_id)
    help_request_id = property(lambda self: self.details.help_request_id)

    @property
    def is_help_request(self) -> bool:
        """A pupil's own request for help (named or anonymous), not a screening answer."""
        return self.details.kind == AlertKind.HELP_REQUEST.value

    @property
    def pupil(self) -> Pupil | None:
        """The pupil, or None for an anonymous request for help."""
        from app.core.models import Pupil

        return db.session.get_one(Pupil, self.pupil_id) if self.pupil_id is not None else None

    def is_overdue(self, now: datetime) -> bool:
        """Past its deadline and not yet acknowledged."""
        return self.acknowledged_at is None and now > self.due_at

    def __repr__(self) -> str:
        return f"<Alert {self.id}>"


class AlertKind(enum.StrEnum):
    """Where an alert comes from."""

    SCREENING = "screening"        # an answer on a questionnaire (online or paper)
    HELP_REQUEST = "help_request"  # a pupil asked the school psychologist for help (app.help); maybe anonymous


#: The instrument reference and rule of a request-for-help alert (there is no instrument).
HELP_REQUEST_REF = "help-request"
HELP_REQUEST_RULE = "help_request"


@dataclass(frozen=True)
class AlertDetails:
    """What an alert is about; stored encrypted (Alert.details_ct)."""

    #: None only for an anonymous request for help.
    pupil_id: int | None
    school_id: int
    instrument_ref: str
    #: acute | urgent | routine: the most severe of the rules.
    severity: str
    #: Rule ids that fired, the one that set the severity first.
    rules: tuple[str, ...]
    raised_at: datetime
    session_id: int | None = None
    result_id: int | None = None
    #: True when a threshold was reached by the answered items alone (the total itself is missing).
    partial: bool = False
    #: Earlier severities of this alert, as (severity, rule, time) when a more severe rule upgraded it.
    history: tuple[tuple[str, str, str], ...] = ()
    #: AlertKind value.
    kind: str = AlertKind.SCREENING.value
    #: The class a request for help was sent from (an anonymous one has no pupil, only this).
    class_id: int | None = None
    #: The HelpRequest that holds the (encrypted) message.
    help_request_id: int | None = None

    def to_json(self) -> str:
        data = asdict(self)
        data["raised_at"] = self.raised_at.isoformat()
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> AlertDetails:
        data = json.loads(text)
        data["raised_at"] = datetime.fromisoformat(data["raised_at"])
        data["rules"] = tuple(data["rules"])
        data["history"] = tuple(tuple(h) for h in data.get("history", ()))
        return cls(**data)


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
