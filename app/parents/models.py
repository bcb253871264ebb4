"""The parent portal's records: a parent's request for a meeting with the school psychologist, and a summary a
psychologist writes for a pupil's parents and releases to them.

Both are encrypted under the school's data key (:class:`~app.core.school_keys.SchoolEncrypted`): a parent's worry
about a child and a psychologist's words about a pupil are sensitive. In plaintext is only what scoping, lists and
counts need: school, pupil, people, status and times.
"""

from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import new_uuid, utcnow
from app.core.school_keys import SchoolEncrypted
from app.extensions import Model

if TYPE_CHECKING:
    from app.auth.models import User
    from app.core.models import Pupil


class MeetingStatus(enum.StrEnum):
    """Where a meeting request stands."""

    REQUESTED = "requested"    # waiting for the psychologist
    SCHEDULED = "scheduled"    # the psychologist proposed a time: waiting for the parent
    ACCEPTED = "accepted"      # the parent accepted the proposed time: the meeting is confirmed
    OTHER_TIME = "other_time"  # the parent asked for another time: waiting for the psychologist again
    DECLINED = "declined"      # the psychologist declined, with a message
    CANCELLED = "cancelled"    # the parent took the request back


#: Statuses in which a request still waits for something to happen.
OPEN_STATUSES = (MeetingStatus.REQUESTED.value, MeetingStatus.SCHEDULED.value, MeetingStatus.ACCEPTED.value,
                 MeetingStatus.OTHER_TIME.value)
#: Statuses in which the psychologist has to answer (the menu's count).
WAITING_STATUSES = (MeetingStatus.REQUESTED.value, MeetingStatus.OTHER_TIME.value)


class MeetingRequest(Model):
    """A parent asks the school psychologist for a meeting about one of their children."""

    __tablename__ = "parent_meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    #: The pupil's school when asked: whose psychologists answer, and whose key encrypts.
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    #: The parent who asked (a user linked to the pupil).
    parent_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: MeetingStatus.
    status: Mapped[str] = mapped_column(String(12), default=MeetingStatus.REQUESTED.value, index=True)
    #: The meeting's time, once proposed (not sensitive on its own: no reason, no pupil); kept when the parent
    #: asks for another time, so the psychologist sees which time did not suit.
    meeting_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None]
    #: Sensitive (a parent's words about their child): school-key ciphertext of {"times", "message"} as JSON.
    request_ct: Mapped[bytes] = mapped_column(LargeBinary)
    #: The psychologist's answer to the parent (place, what to bring, or why not): school-key ciphertext.
    reply_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: When the parent last answered a proposed time (accepted it or asked for another).
    parent_answered_at: Mapped[datetime | None]
    #: The parent's short message with a request for another time (sensitive): school-key ciphertext.
    parent_note_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: Optimistic locking: a form sent after the other side's change is refused (every UPDATE checks it).
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    request_json = SchoolEncrypted("request_ct")
    reply = SchoolEncrypted("reply_ct")
    parent_note = SchoolEncrypted("parent_note_ct")

    __mapper_args__ = {"version_id_col": version}

    pupil: Mapped[Pupil] = relationship()
    parent: Mapped[User] = relationship(foreign_keys=[parent_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])

    @property
    def content(self) -> dict[str, Any]:
        return dict(json.loads(self.request_json))

    @content.setter
    def content(self, value: dict[str, Any]) -> None:
        self.request_json = json.dumps(value, sort_keys=True, ensure_ascii=False)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def __repr__(self) -> str:
        return f"<MeetingRequest {self.id}>"


class ParentSummary(Model):
    """A psychologist's short summary for a pupil's parents. Parents see it only while it is released.

    Editing is possible only while it is not released (a release shows exactly the text that was released);
    taking a release back makes it a draft again and is recorded.
    """

    __tablename__ = "parent_summaries"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Set while parents can read it (None: a draft, or a release taken back).
    released_at: Mapped[datetime | None]
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: When a release was last taken back (None if never).
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Sensitive (a psychologist's words about a pupil): school-key ciphertext of the text.
    body_ct: Mapped[bytes] = mapped_column(LargeBinary)

    body = SchoolEncrypted("body_ct")

    pupil: Mapped[Pupil] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    released_by: Mapped[User | None] = relationship(foreign_keys=[released_by_id])

    @property
    def released(self) -> bool:
        return self.released_at is not None

    def __repr__(self) -> str:
        return f"<ParentSummary {self.id}>"
