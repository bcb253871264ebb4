"""A parent asks the school psychologist for a meeting; the psychologist proposes a time or declines; the parent
accepts the time or asks for another (back to the psychologist), and may cancel while the request is open.

Each step changes the request, writes its audit entry and queues its e-mail (to the school's psychologists, or to
the parent) in one transaction. The mail says only that there is something to open: no pupil, no message.
Every answer comes from a form loaded at the request's ``version``: a form sent after the other side's change is
refused (:class:`~app.monitoring.conflicts.EditConflict`, audited) and changes nothing.
Requests are limited per parent (``SENIM_MEETING_THRESHOLD`` within ``SENIM_MEETING_WINDOW``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import case, func, select

from app.auth.models import User
from app.auth.permissions import Permission, case_school_ids, visible_meetings
from app.core import audit, icalendar, mail
from app.core.audit import AuditAction, Outcome
from app.core.i18n import format_short_datetime
from app.core.links import absolute_url
from app.core.models import Pupil, PupilGuardian, utcnow
from app.extensions import db
from app.monitoring.conflicts import versioned
from app.parents.models import OPEN_STATUSES, WAITING_STATUSES, MeetingRequest, MeetingStatus

#: Longest "when suits you" and message a parent can write, the longest answer, and the longest note with a
#: request for another time.
TIMES_MAX, MESSAGE_MAX, REPLY_MAX, NOTE_MAX = 300, 1000, 1000, 500
#: How long an accepted meeting lasts in the psychologist's calendar file.
MEETING_LENGTH = timedelta(minutes=45)


class MeetingError(ValueError):
    """The step cannot be taken (nothing was changed)."""


class MeetingThrottled(MeetingError):
    """The parent has sent the most requests allowed within the window: nothing was stored."""


class AlreadyWaiting(MeetingError):
    """The parent's earlier request about this child still waits for the psychologist."""


class NotOpen(MeetingError):
    """The request is declined or cancelled: it cannot be answered or cancelled again."""


class NotProposed(MeetingError):
    """The parent can answer only a time the psychologist has proposed (and not yet passed)."""


class TimePassed(MeetingError):
    """The proposed time is no longer ahead: the parent can only ask for another."""


@contextmanager
def _change(actor: User, meeting: MeetingRequest, version: int | None) -> Iterator[None]:
    """One answer from a form loaded at ``version``: committed, or refused as stale (EditConflict, audited)."""
    with versioned(actor=actor, record=meeting, version=version, object_type="parent_meeting"):
        yield


def _record(actor: User, action: AuditAction, meeting: MeetingRequest, **details: str) -> None:
    audit.record(actor, action, school_id=meeting.school_id, pupil_id=meeting.pupil_id,
                 object_type="parent_meeting", object_id=meeting.uuid, details=details or None)


def _clean(text: str | None, limit: int, *, required: bool) -> str:
    value = (text or "").strip()
    if (required and not value) or len(value) > limit:
        raise MeetingError("length")
    return value


def _is_guardian(user: User, pupil: Pupil) -> bool:
    return db.session.execute(select(PupilGuardian.id).where(
        PupilGuardian.pupil_id == pupil.id, PupilGuardian.user_id == user.id)).first() is not None


def throttled(*, actor: User) -> bool:
    """True while ``actor`` has sent ``SENIM_MEETING_THRESHOLD`` requests within ``SENIM_MEETING_WINDOW``."""
    config = current_app.config
    since = utcnow() - config["SENIM_MEETING_WINDOW"]
    sent = db.session.execute(select(func.count()).select_from(MeetingRequest).where(
        MeetingRequest.parent_id == actor.id, MeetingRequest.created_at >= since)).scalar_one()
    return int(sent) >= int(config["SENIM_MEETING_THRESHOLD"])


def request_meeting(*, actor: User, pupil: Pupil, times: str, message: str | None) -> MeetingRequest:
    """Store a parent's request (encrypted), tell the school's psychologists by e-mail and audit it, in one
    transaction. Raises :class:`MeetingThrottled`, :class:`AlreadyWaiting` or :class:`MeetingError` (bad input),
    having stored nothing (a refusal for the limit is audited)."""
    if not _is_guardian(actor, pupil):
        raise MeetingError("not a parent of the pupil")
    times_text = _clean(times, TIMES_MAX, required=True)
    message_text = _clean(message, MESSAGE_MAX, required=False)
    if throttled(actor=actor):
        audit.record(actor, AuditAction.MEETING_THROTTLED, outcome=Outcome.DENIED, school_id=pupil.school_id,
                     pupil_id=pupil.id, object_type="pupil", object_id=pupil.uuid)
        db.session.commit()
        raise MeetingThrottled
    waiting = db.session.execute(select(MeetingRequest.id).where(
        MeetingRequest.parent_id == actor.id, MeetingRequest.pupil_id == pupil.id,
        MeetingRequest.status.in_(WAITING_STATUSES))).first()
    if waiting is not None:
        raise AlreadyWaiting
    meeting = MeetingRequest(school_id=pupil.school_id, pupil_id=pupil.id, parent_id=actor.id,
                             status=MeetingStatus.REQUESTED.value, created_at=utcnow())
    meeting.content = {"times": times_text, "message": message_text}
    db.session.add(meeting)
    db.session.flush()
    _tell_psychologists(meeting, _requested_message)
    audit.record(actor, AuditAction.MEETING_REQUESTED, school_id=pupil.school_id, pupil_id=pupil.id,
                 object_type="parent_meeting", object_id=meeting.uuid)
    db.session.commit()
    return meeting


def cancel(*, actor: User, meeting: MeetingRequest, version: int | None) -> None:
    """The parent takes their request back (at any open step); the psychologists are told. Audited."""
    with _change(actor, meeting, version):
        if meeting.parent_id != actor.id or not meeting.is_open:
            raise NotOpen
        meeting.status, meeting.cancelled_at = MeetingStatus.CANCELLED.value, utcnow()
        _tell_psychologists(meeting, _cancelled_message)
        _record(actor, AuditAction.MEETING_CANCELLED, meeting)


def accept(*, actor: User, meeting: MeetingRequest, version: int | None) -> None:
    """The parent accepts the proposed time, which confirms the meeting; the psychologists are told. Audited.
    Raises :class:`NotProposed` (no time waits for the parent) or :class:`TimePassed`."""
    with _change(actor, meeting, version):
        if meeting.parent_id != actor.id or meeting.status != MeetingStatus.SCHEDULED.value:
            raise NotProposed
        if meeting.meeting_at is None or meeting.meeting_at <= utcnow():
            raise TimePassed
        meeting.status, meeting.parent_answered_at = MeetingStatus.ACCEPTED.value, utcnow()
        _tell_psychologists(meeting, _accepted_message)
        _record(actor, AuditAction.MEETING_ACCEPTED, meeting, at=meeting.meeting_at.isoformat())


def ask_other_time(*, actor: User, meeting: MeetingRequest, version: int | None, note: str | None) -> None:
    """The parent asks for another time than the proposed (or accepted) one, with an optional short message
    (encrypted); the request goes back to the psychologists, who are told. Audited. Raises :class:`MeetingError`
    for a message that is too long and :class:`NotProposed` when no time was proposed."""
    text = _clean(note, NOTE_MAX, required=False)
    with _change(actor, meeting, version):
        if meeting.parent_id != actor.id or meeting.status not in (MeetingStatus.SCHEDULED.value,
                                                                   MeetingStatus.ACCEPTED.value):
            raise NotProposed
        meeting.status, meeting.parent_answered_at = MeetingStatus.OTHER_TIME.value, utcnow()
        meeting.parent_note = text or None
        _tell_psychologists(meeting, _other_time_message)
        _record(actor, AuditAction.MEETING_OTHER_TIME, meeting)


def schedule(*, actor: User, meeting: MeetingRequest, version: int | None, meeting_at: datetime,
             reply: str | None) -> None:
    """Propose (or move) the meeting to ``meeting_at`` with an optional note; the parent is asked to accept it
    and told by e-mail. Audited."""
    if meeting_at <= utcnow():
        raise MeetingError("in the past")
    note = _clean(reply, REPLY_MAX, required=False)
    with _change(actor, meeting, version):
        if not meeting.is_open:
            raise NotOpen
        meeting.status, meeting.meeting_at = MeetingStatus.SCHEDULED.value, meeting_at
        meeting.answered_at, meeting.answered_by_id = utcnow(), actor.id
        meeting.reply = note or None
        _tell_parent(meeting)
        _record(actor, AuditAction.MEETING_SCHEDULED, meeting, at=meeting_at.isoformat())


def decline(*, actor: User, meeting: MeetingRequest, version: int | None, reply: str) -> None:
    """Decline with a message to the parent (required: what to do instead); the parent is told. Audited."""
    note = _clean(reply, REPLY_MAX, required=True)
    with _change(actor, meeting, version):
        if not meeting.is_open:
            raise NotOpen
        meeting.status, meeting.meeting_at = MeetingStatus.DECLINED.value, None
        meeting.answered_at, meeting.answered_by_id = utcnow(), actor.id
        meeting.reply = note
        _tell_parent(meeting)
        _record(actor, AuditAction.MEETING_DECLINED, meeting)


def calendar_file(meeting: MeetingRequest) -> str:
    """An accepted meeting as an iCalendar event for the psychologist: the time and a link to Senim, no names and
    no message (a calendar leaves Senim)."""
    if meeting.status != MeetingStatus.ACCEPTED.value or meeting.meeting_at is None:
        raise NotProposed
    return icalendar.event(uid=meeting.uuid, product="Meetings", starts_at=meeting.meeting_at,
                           ends_at=meeting.meeting_at + MEETING_LENGTH, summary=_("Meeting with a parent"),
                           description=_("The details are in Senim."), sequence=meeting.version,
                           url=absolute_url("parents.meeting_detail", meeting_uuid=meeting.uuid))


# --- what pages show ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingView:
    """A request as a page shows it (decrypted)."""

    uuid: str
    status: str
    created_at: datetime
    times: str
    message: str
    meeting_at: datetime | None
    reply: str | None
    answered_by: str | None
    pupil_uuid: str
    pupil_name: str
    class_label: str | None
    parent_name: str
    is_open: bool
    #: The version the page's forms carry (optimistic locking).
    version: int = 1
    #: The parent's message with a request for another time, and when the parent last answered a time.
    parent_note: str | None = None
    parent_answered_at: datetime | None = None

    @property
    def awaits_parent(self) -> bool:
        """A proposed time waits for the parent's answer."""
        return self.status == MeetingStatus.SCHEDULED.value

    @property
    def time_ahead(self) -> bool:
        return self.meeting_at is not None and self.meeting_at > utcnow()

    @property
    def can_ask_other_time(self) -> bool:
        return self.status in (MeetingStatus.SCHEDULED.value, MeetingStatus.ACCEPTED.value)


def _view(meeting: MeetingRequest) -> MeetingView:
    content = meeting.content
    pupil = meeting.pupil
    return MeetingView(version=meeting.version, parent_note=meeting.parent_note,
                       parent_answered_at=meeting.parent_answered_at,
        uuid=meeting.uuid, status=meeting.status, created_at=meeting.created_at, times=str(content.get("times", "")),
        message=str(content.get("message", "")), meeting_at=meeting.meeting_at, reply=meeting.reply,
        answered_by=meeting.answered_by.display_name if meeting.answered_by else None, pupil_uuid=pupil.uuid,
        pupil_name=pupil.short_name, class_label=pupil.school_class.label if pupil.school_class else None,
        parent_name=meeting.parent.display_name, is_open=meeting.is_open)


def waiting_count(*, actor: User) -> int:
    """Requests of ``actor``'s school(s) waiting for an answer (the menu's count)."""
    query = visible_meetings(actor, Permission.PARENT_MEETING_MANAGE).where(
        MeetingRequest.status.in_(WAITING_STATUSES))
    return int(db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one())


@dataclass(frozen=True)
class MeetingRow:
    """One line of the psychologist's list (no message: that is on the request's own page)."""

    uuid: str
    status: str
    created_at: datetime
    meeting_at: datetime | None
    pupil_name: str
    class_label: str | None
    parent_name: str


def school_requests(*, actor: User) -> list[MeetingRow]:
    """The requests ``actor`` answers: those waiting for the psychologist first (oldest first), then those with a
    time (proposed or accepted) by time, then the rest (newest first). The opening of the list is audited."""
    order = case((MeetingRequest.status.in_(WAITING_STATUSES), 0),
                 (MeetingRequest.status.in_([MeetingStatus.SCHEDULED.value, MeetingStatus.ACCEPTED.value]), 1),
                 else_=2)
    meetings = db.session.execute(visible_meetings(actor, Permission.PARENT_MEETING_MANAGE).order_by(
        order, MeetingRequest.meeting_at, MeetingRequest.created_at).limit(200)).scalars().all()
    closed = sorted((m for m in meetings if not m.is_open), key=lambda m: m.created_at, reverse=True)
    rows = [MeetingRow(uuid=m.uuid, status=m.status, created_at=m.created_at, meeting_at=m.meeting_at,
                       pupil_name=m.pupil.short_name, class_label=m.pupil.school_class.label if m.pupil.school_class
                       else None, parent_name=m.parent.display_name)
            for m in [*(m for m in meetings if m.is_open), *closed]]
    schools = case_school_ids(actor, Permission.PARENT_MEETING_MANAGE)
    audit.record_read(actor, AuditAction.MEETING_LIST_READ, school_id=schools[0] if len(schools) == 1 else None,
                      details={"count": len(rows)})
    return rows


def read_request(*, actor: User, meeting: MeetingRequest) -> MeetingView:
    """The request with its message, for the psychologist; audited before it is shown."""
    audit.record_read(actor, AuditAction.MEETING_READ, school_id=meeting.school_id, pupil_id=meeting.pupil_id,
                      object_type="parent_meeting", object_id=meeting.uuid)
    return _view(meeting)


def parent_requests(*, actor: User, pupil: Pupil) -> list[MeetingView]:
    """The parent's own requests about ``pupil``, newest first (the child page is audited by its caller)."""
    meetings = db.session.execute(visible_meetings(actor, Permission.PARENT_MEETING_REQUEST).where(
        MeetingRequest.pupil_id == pupil.id).order_by(MeetingRequest.created_at.desc()).limit(20)).scalars()
    return [_view(m) for m in meetings]


def open_counts(*, actor: User, statuses: tuple[str, ...] = OPEN_STATUSES) -> dict[int, int]:
    """For the parent's home page: how many of the parent's requests are in ``statuses`` (default: open), per
    pupil id."""
    query = (select(MeetingRequest.pupil_id, func.count())
             .where(MeetingRequest.id.in_(visible_meetings(actor, Permission.PARENT_MEETING_REQUEST)
                                          .with_only_columns(MeetingRequest.id)),
                    MeetingRequest.status.in_(statuses))
             .group_by(MeetingRequest.pupil_id))
    return {int(pupil_id): int(count) for pupil_id, count in db.session.execute(query)}


# --- e-mail ------------------------------------------------------------------------------------------------


def _requested_message(url: str) -> tuple[str, str]:
    return (_("Senim: a parent asks for a meeting"),
            _("A parent asks you for a meeting. Open the meeting requests in Senim to answer: %(url)s", url=url)
            + "\n")


def _cancelled_message(url: str) -> tuple[str, str]:
    return (_("Senim: a parent cancelled a meeting request"),
            _("A parent cancelled their request for a meeting. The meeting requests in Senim: %(url)s", url=url)
            + "\n")


def _accepted_message(url: str) -> tuple[str, str]:
    return (_("Senim: a parent accepted the meeting time"),
            _("A parent accepted the time you proposed for a meeting. The meeting in Senim: %(url)s", url=url) + "\n")


def _other_time_message(url: str) -> tuple[str, str]:
    return (_("Senim: a parent asks for another meeting time"),
            _("A parent asks for another time for the meeting. Open the request in Senim to propose a time: "
              "%(url)s", url=url) + "\n")


def _tell_psychologists(meeting: MeetingRequest, compose: Callable[[str], tuple[str, str]]) -> int:
    """Queue the mail to the school's psychologists, one message per language, in this transaction."""
    from app.screening.notify import psychologist_recipients

    if not mail.configured():
        return 0
    url, queued = absolute_url("parents.meeting_detail", meeting_uuid=meeting.uuid), 0
    for language, emails in psychologist_recipients(meeting.school_id).items():
        with force_locale(language):
            subject, body = compose(url)
        mail.queue(recipients=emails, subject=subject, body=body, language=language)
        queued += 1
    return queued


def _tell_parent(meeting: MeetingRequest) -> bool:
    """Queue the mail to the parent (if they have an address) that their request has an answer."""
    parent = meeting.parent
    if not mail.configured() or not parent.active or not parent.email:
        return False
    language = parent.preferred_language or meeting.pupil.school.default_language or "ru"
    url = absolute_url("parents.child", pupil_uuid=meeting.pupil.uuid)
    with force_locale(language):
        subject = _("Senim: the school psychologist answered your request for a meeting")
        if meeting.status == MeetingStatus.SCHEDULED.value and meeting.meeting_at is not None:
            lead = _("The school psychologist proposes to meet on %(when)s. Please accept the time or ask for "
                     "another one in Senim.", when=format_short_datetime(meeting.meeting_at, "short"))
        else:
            lead = _("The school psychologist answered your request for a meeting.")
        body = lead + "\n" + _("Open Senim to read the answer: %(url)s", url=url) + "\n"
    mail.queue(recipients=[parent.email], subject=subject, body=body, language=language)
    return True
