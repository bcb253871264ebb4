"""Seminars: schedule, change, cancel; register and cancel a registration; attendance, materials, reminders.

Every function that changes something checks its input again (a form is only the first check), audits and
commits in one transaction, and queues its e-mail (app/core/mail.py) in that same transaction. Capacity and the
registration deadline are enforced by one conditional UPDATE of ``seats_taken``, so many people registering at
once never overfill a seminar; a person has one registration row per seminar (unique), reused on re-registering.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import LazyString, force_locale, format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, select, update
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.auth.permissions import Permission, seminar_area_scope, seminar_audience_scope, seminar_places
from app.core import audit, icalendar, mail, markdown
from app.core.audit import AuditAction
from app.core.i18n import format_short_datetime
from app.core.links import absolute_url
from app.core.models import utcnow
from app.extensions import db
from app.monitoring.conflicts import versioned
from app.seminars.models import Audience, Seminar, SeminarRegistration

TITLE_MAX, TEXT_MAX, PLACE_MAX, URL_MAX, REASON_MAX = 200, 20_000, 300, 500, 500
CAPACITY_MAX = 10_000
#: A seminar lasts at most this long.
LONGEST = timedelta(hours=12)
LANGUAGES = ("kk", "ru", "en")

_S = Seminar.__table__.c
_R = SeminarRegistration.__table__.c


class InvalidSeminar(ValueError):
    """The input breaks a rule; ``field`` names the form field, ``message`` says why. Nothing was saved."""

    def __init__(self, field: str, message: str | LazyString) -> None:
        super().__init__(field)
        self.field, self.message = field, message


class RegistrationRefused(Exception):
    """Nothing was changed: ``reason`` is "closed" (deadline passed, cancelled or started), "full" or "already"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotYet(Exception):
    """Attendance and materials wait until the seminar has begun; a cancelled seminar takes neither."""


# --- time --------------------------------------------------------------------------------------------------


def zone() -> ZoneInfo:
    """The schools' time zone (Kazakhstan: one zone, UTC+5)."""
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def from_local(moment: datetime) -> datetime:
    """A wall-clock time typed in the school's time zone, as an aware UTC datetime."""
    return moment.replace(tzinfo=zone()).astimezone(UTC)


def to_local(moment: datetime) -> datetime:
    """An aware datetime as a naive wall-clock time of the school's time zone (for forms)."""
    return moment.astimezone(zone()).replace(tzinfo=None)


# --- input -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeminarInput:
    """What an organiser typed, already parsed (times aware, in UTC)."""

    title: str
    description: str
    audience: str
    #: ("school" | "district" | "region", id)
    where: tuple[str, int]
    starts_at: datetime
    ends_at: datetime
    online_url: str
    place: str
    capacity: int
    registration_closes_at: datetime
    language: str


def https_problem(url: str) -> LazyString | None:
    """Why ``url`` cannot be a seminar's link (only https://host/..., no spaces, no credentials), or None."""
    if len(url) > URL_MAX or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return _l("An address starting with https://, without spaces.")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        return _l("An address starting with https://, without spaces.")
    return None


def _checked(data: SeminarInput, *, actor: User, seminar: Seminar | None, now: datetime) -> SeminarInput:
    """``data`` with its texts cleaned, or :class:`InvalidSeminar` for the first rule it breaks."""
    title = " ".join(markdown.clean_source(data.title).split())
    if not title or len(title) > TITLE_MAX:
        raise InvalidSeminar("title", _l("Give a title of at most %(max)d characters.", max=TITLE_MAX))
    description = markdown.clean_source(data.description)
    if len(description) > TEXT_MAX:
        raise InvalidSeminar("description", _l("At most %(max)d characters.", max=TEXT_MAX))
    if data.audience not in {a.value for a in Audience}:
        raise InvalidSeminar("audience", _l("Choose who the seminar is for."))
    if data.where not in seminar_places(actor):
        raise InvalidSeminar("where", _l("Choose a school or area you organise seminars for."))
    moved = seminar is None or data.starts_at != seminar.starts_at
    if moved and data.starts_at <= now:
        raise InvalidSeminar("day", _l("The seminar must start in the future."))
    if not data.starts_at < data.ends_at <= data.starts_at + LONGEST:
        raise InvalidSeminar("ends", _l("The end must be after the start, on the same day (at most 12 hours)."))
    url, place = data.online_url.strip(), " ".join(markdown.clean_source(data.place).split())
    if bool(url) == bool(place):
        raise InvalidSeminar("online_url", _l("Give either an online link or a place, not both."))
    if url and (problem := https_problem(url)):
        raise InvalidSeminar("online_url", problem)
    if len(place) > PLACE_MAX:
        raise InvalidSeminar("place", _l("At most %(max)d characters.", max=PLACE_MAX))
    taken = seminar.seats_taken if seminar is not None else 0
    if not max(1, taken) <= data.capacity <= CAPACITY_MAX:
        raise InvalidSeminar("capacity", _l("From %(min)d to %(max)d places (at least the number already "
                                           "registered).", min=max(1, taken), max=CAPACITY_MAX))
    deadline_moved = seminar is None or data.registration_closes_at != seminar.registration_closes_at
    if data.registration_closes_at > data.starts_at or (deadline_moved and data.registration_closes_at <= now):
        raise InvalidSeminar("closes", _l("Registration must close in the future, no later than the start."))
    if data.language not in LANGUAGES:
        raise InvalidSeminar("language", _l("Choose the language of the seminar."))
    return SeminarInput(title=title, description=description, audience=data.audience, where=data.where,
                        starts_at=data.starts_at, ends_at=data.ends_at, online_url=url, place=place,
                        capacity=data.capacity, registration_closes_at=data.registration_closes_at,
                        language=data.language)


def _apply(seminar: Seminar, data: SeminarInput, actor: User, now: datetime) -> None:
    kind, place_id = data.where
    seminar.school_id = place_id if kind == "school" else None
    seminar.district_id = place_id if kind == "district" else None
    seminar.region_id = place_id if kind == "region" else None
    for name in ("title", "description", "audience", "starts_at", "ends_at", "online_url", "place", "capacity",
                 "registration_closes_at", "language"):
        setattr(seminar, name, getattr(data, name))
    seminar.updated_by_id, seminar.updated_at = actor.id, now


def where_of(seminar: Seminar) -> tuple[str, int]:
    """The seminar's place as ("school" | "district" | "region", id)."""
    if seminar.school_id is not None:
        return ("school", seminar.school_id)
    if seminar.district_id is not None:
        return ("district", seminar.district_id)
    return ("region", int(seminar.region_id or 0))


# --- organiser -----------------------------------------------------------------------------------------------


def create_seminar(*, actor: User, data: SeminarInput, now: datetime | None = None) -> Seminar:
    """Schedule a seminar (checked again here), audited, in one transaction."""
    now = now or utcnow()
    data = _checked(data, actor=actor, seminar=None, now=now)
    seminar = Seminar(created_by_id=actor.id, created_at=now)
    _apply(seminar, data, actor, now)
    db.session.add(seminar)
    db.session.flush()
    audit.record(actor, AuditAction.SEMINAR_CREATED, school_id=seminar.school_id, object_type="seminar",
                 object_id=seminar.uuid)
    db.session.commit()
    return seminar


def update_seminar(*, actor: User, seminar: Seminar, version: int | None, data: SeminarInput,
                   now: datetime | None = None) -> int:
    """Change a seminar from a form loaded at ``version`` (EditConflict if someone saved in between); returns how
    many registrants were e-mailed. A new time, place or online link is e-mailed at once to everyone registered
    (in the same transaction, so a change is never saved without its mail) and makes ``flask seminars remind``
    remind them again, of the new time, unless that mail already came within the reminder's window. A new title
    or description alone mails nobody."""
    now = now or utcnow()
    if seminar.cancelled:
        raise InvalidSeminar("title", _l("A cancelled seminar cannot be changed."))
    data = _checked(data, actor=actor, seminar=seminar, now=now)
    moved = (data.starts_at, data.ends_at) != (seminar.starts_at, seminar.ends_at)
    changed = [name for name, differs in (("time", moved), ("place", data.place != seminar.place),
                                          ("link", data.online_url != seminar.online_url)) if differs]
    with versioned(actor=actor, record=seminar, version=version, object_type="seminar"):
        _apply(seminar, data, actor, now)
        if changed:
            seminar.rescheduled_at = now
        db.session.flush()
        told = _mail(seminar, _registrants(seminar), "changed") if changed else 0
        if moved:  # a reminder (or a confirmation standing for one) named the old time: remind again
            db.session.execute(update(SeminarRegistration.__table__).where(
                _R.seminar_id == seminar.id, _R.cancelled_at.is_(None)).values(reminded_at=None))
            if told and seminar.starts_at - now <= remind_before():  # the change mail is the reminder
                db.session.execute(update(SeminarRegistration.__table__).where(
                    _R.seminar_id == seminar.id, _R.cancelled_at.is_(None), _R.user_id.in_(_with_mail()))
                    .values(reminded_at=now))
        details: dict[str, object] = {"changed": changed, "mailed": told} if changed else {}
        audit.record(actor, AuditAction.SEMINAR_UPDATED, school_id=seminar.school_id, object_type="seminar",
                     object_id=seminar.uuid, details=details or None)
    return told


def _registrants(seminar: Seminar) -> Sequence[User]:
    """The accounts with an active registration for ``seminar``."""
    return db.session.execute(select(User).join(SeminarRegistration, SeminarRegistration.user_id == User.id)
                              .where(SeminarRegistration.seminar_id == seminar.id,
                                     SeminarRegistration.cancelled_at.is_(None))
                              .order_by(SeminarRegistration.id)).scalars().all()


def _with_mail() -> Select:
    """Ids of the accounts :func:`_mail` writes to (active, with an e-mail address)."""
    return select(User.id).where(User.active.is_(True), User.email.is_not(None), User.email != "")


def cancel_seminar(*, actor: User, seminar: Seminar, version: int | None, reason: str,
                   now: datetime | None = None) -> int:
    """Cancel a seminar and e-mail everyone registered; returns how many were told. Audited, one transaction."""
    now = now or utcnow()
    reason = " ".join(reason.split())
    if seminar.cancelled or len(reason) > REASON_MAX:
        raise InvalidSeminar("reason", _l("At most %(max)d characters.", max=REASON_MAX))
    with versioned(actor=actor, record=seminar, version=version, object_type="seminar"):
        seminar.cancelled_at, seminar.cancel_reason = now, reason
        seminar.updated_by_id, seminar.updated_at = actor.id, now
        users = _registrants(seminar)
        told = _mail(seminar, users, "cancelled")
        db.session.flush()
        audit.record(actor, AuditAction.SEMINAR_CANCELLED, school_id=seminar.school_id, object_type="seminar",
                     object_id=seminar.uuid, details={"registered": len(users), "mailed": told})
    return told


def save_materials(*, actor: User, seminar: Seminar, version: int | None, materials: str,
                   now: datetime | None = None) -> Seminar:
    """Publish the materials (Markdown, cleaned) once the seminar has begun; versioned, audited."""
    now = now or utcnow()
    if seminar.cancelled or seminar.starts_at > now:
        raise NotYet
    text = markdown.clean_source(materials)
    if len(text) > TEXT_MAX:
        raise InvalidSeminar("materials", _l("At most %(max)d characters.", max=TEXT_MAX))
    with versioned(actor=actor, record=seminar, version=version, object_type="seminar"):
        seminar.materials = text
        seminar.updated_by_id, seminar.updated_at = actor.id, now
        db.session.flush()
        audit.record(actor, AuditAction.SEMINAR_MATERIALS_SAVED, school_id=seminar.school_id,
                     object_type="seminar", object_id=seminar.uuid)
    return seminar


def registrations_of(seminar: Seminar) -> Sequence[SeminarRegistration]:
    """The active registrations of a seminar, oldest first (the organiser's list)."""
    return db.session.execute(select(SeminarRegistration).where(
        SeminarRegistration.seminar_id == seminar.id, SeminarRegistration.cancelled_at.is_(None))
        .order_by(SeminarRegistration.registered_at, SeminarRegistration.id)).scalars().all()


def mark_attendance(*, actor: User, seminar: Seminar, version: int | None, present: Iterable[int],
                    now: datetime | None = None) -> int:
    """Mark each active registration (by id) present or absent once the seminar has begun, from a sheet loaded at
    the seminar's ``version`` (EditConflict if a colleague saved in between: nothing changed); returns how many were
    present. Ids that are not this seminar's active registrations are ignored. Audited with the counts."""
    now = now or utcnow()
    if seminar.cancelled or seminar.starts_at > now:
        raise NotYet
    chosen = set(present)
    with versioned(actor=actor, record=seminar, version=version, object_type="seminar"):
        # The seminar's row first: its versioned UPDATE is the lock, so two sheets saved at once never interleave.
        seminar.updated_by_id, seminar.updated_at = actor.id, now
        db.session.flush()
        registrations = registrations_of(seminar)
        for registration in registrations:
            registration.attended = registration.id in chosen
        attended = sum(1 for r in registrations if r.attended)
        audit.record(actor, AuditAction.SEMINAR_ATTENDANCE_MARKED, school_id=seminar.school_id,
                     object_type="seminar", object_id=seminar.uuid,
                     details={"registered": len(registrations), "attended": attended})
    return attended


@dataclass(frozen=True)
class OrganiserRow:
    """A seminar on the organiser's list, with its counts."""

    seminar: Seminar
    registered: int
    attended: int


def _counts() -> Select:
    active = SeminarRegistration.cancelled_at.is_(None)
    return (select(SeminarRegistration.seminar_id,
                   func.count().label("registered"),
                   func.coalesce(func.sum(case((SeminarRegistration.attended.is_(True), 1), else_=0)), 0)
                   .label("attended"))
            .where(active).group_by(SeminarRegistration.seminar_id))


def organiser_rows(user: User) -> list[OrganiserRow]:
    """Seminars in ``user``'s area, coming ones first (soonest first), then past ones (latest first)."""
    counts = _counts().subquery()
    rows = db.session.execute(
        select(Seminar, func.coalesce(counts.c.registered, 0), func.coalesce(counts.c.attended, 0))
        .outerjoin(counts, counts.c.seminar_id == Seminar.id).where(seminar_area_scope(user))
        .order_by(Seminar.starts_at.desc())).all()
    now = utcnow()
    result = [OrganiserRow(s, int(r), int(a)) for s, r, a in rows]
    coming = sorted((r for r in result if r.seminar.ends_at >= now), key=lambda r: r.seminar.starts_at)
    return coming + [r for r in result if r.seminar.ends_at < now]


@dataclass(frozen=True)
class Totals:
    """Counts over an area: numbers only."""

    audience: str
    held: int
    upcoming: int
    cancelled: int
    registered: int
    attended: int


def totals(user: User) -> list[Totals]:
    """Per audience: seminars held, coming and cancelled, registrations and attendances, over the area where
    ``user`` may read seminar counts."""
    counts = _counts().subquery()
    now = utcnow()
    rows = db.session.execute(
        select(Seminar.audience, Seminar.cancelled_at, Seminar.starts_at, func.coalesce(counts.c.registered, 0),
               func.coalesce(counts.c.attended, 0))
        .outerjoin(counts, counts.c.seminar_id == Seminar.id)
        .where(seminar_area_scope(user, Permission.SEMINARS_STATS))).all()
    result = []
    for audience in Audience:
        mine = [r for r in rows if r[0] == audience.value]
        live = [r for r in mine if r[1] is None]
        result.append(Totals(
            audience=audience.value, held=sum(1 for r in live if r[2] <= now),
            upcoming=sum(1 for r in live if r[2] > now), cancelled=len(mine) - len(live),
            registered=sum(int(r[3]) for r in live), attended=sum(int(r[4]) for r in live)))
    return result


# --- audience ------------------------------------------------------------------------------------------------


def visible_seminars(user: User) -> Select:
    """Seminars ``user`` is in the audience of (any time, cancelled included)."""
    return select(Seminar).where(seminar_audience_scope(user))


def upcoming_for(user: User, now: datetime | None = None) -> Sequence[Seminar]:
    """Seminars still to come for ``user``'s audience, soonest first (cancelled ones only if they registered)."""
    now = now or utcnow()
    mine = select(SeminarRegistration.seminar_id).where(SeminarRegistration.user_id == user.id)
    return db.session.execute(visible_seminars(user).where(
        Seminar.ends_at >= now, (Seminar.cancelled_at.is_(None)) | Seminar.id.in_(mine))
        .order_by(Seminar.starts_at)).scalars().all()


def past_registered(user: User, now: datetime | None = None) -> Sequence[Seminar]:
    """Past seminars ``user`` registered for and that are still in their audience (their materials), latest
    first."""
    now = now or utcnow()
    mine = select(SeminarRegistration.seminar_id).where(SeminarRegistration.user_id == user.id,
                                                        SeminarRegistration.cancelled_at.is_(None))
    return db.session.execute(visible_seminars(user).where(
        Seminar.ends_at < now, Seminar.cancelled_at.is_(None), Seminar.id.in_(mine))
        .order_by(Seminar.starts_at.desc())).scalars().all()


def registration_of(user: User, seminar: Seminar) -> SeminarRegistration | None:
    """``user``'s active registration for ``seminar``, if any."""
    return db.session.execute(select(SeminarRegistration).where(
        SeminarRegistration.seminar_id == seminar.id, SeminarRegistration.user_id == user.id,
        SeminarRegistration.cancelled_at.is_(None))).scalar_one_or_none()


def changed_since(registration: SeminarRegistration | None) -> datetime | None:
    """When the seminar's time, place or link changed after ``registration`` was made (else None)."""
    if registration is None:
        return None
    seminar = registration.seminar
    changed = seminar.rescheduled_at
    if seminar.cancelled or changed is None or changed <= registration.registered_at:
        return None
    return changed


def registered_ids(user: User) -> set[int]:
    """Ids of the seminars ``user`` is registered for."""
    return set(db.session.execute(select(SeminarRegistration.seminar_id).where(
        SeminarRegistration.user_id == user.id, SeminarRegistration.cancelled_at.is_(None))).scalars())


def open_for_registration(seminar: Seminar, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return not seminar.cancelled and now < seminar.registration_closes_at and now < seminar.starts_at


def _refusal(seminar_id: int, now: datetime) -> RegistrationRefused:
    db.session.rollback()
    seminar = db.session.get_one(Seminar, seminar_id)
    if not open_for_registration(seminar, now):
        return RegistrationRefused("closed")
    return RegistrationRefused("full")


def register(*, actor: User, seminar: Seminar, now: datetime | None = None) -> SeminarRegistration:
    """Register ``actor`` (already checked to be in the audience): a seat is taken by one conditional UPDATE
    (open, before the deadline, not full), then the registration is added or reused; confirmation mail queued,
    audited, one transaction. :class:`RegistrationRefused` changes nothing."""
    now = now or utcnow()
    seminar_id = seminar.id
    existing = db.session.execute(select(SeminarRegistration).where(
        SeminarRegistration.seminar_id == seminar_id, SeminarRegistration.user_id == actor.id)).scalar_one_or_none()
    if existing is not None and existing.active:
        raise RegistrationRefused("already")
    seat = db.session.execute(update(Seminar.__table__).where(
        _S.id == seminar_id, _S.cancelled_at.is_(None), _S.registration_closes_at > now, _S.starts_at > now,
        _S.seats_taken < _S.capacity).values(seats_taken=_S.seats_taken + 1))
    if seat.rowcount != 1:  # type: ignore[attr-defined]
        raise _refusal(seminar_id, now)
    try:
        if existing is not None:
            again = db.session.execute(update(SeminarRegistration.__table__).where(
                _R.id == existing.id, _R.cancelled_at.is_not(None)).values(
                cancelled_at=None, registered_at=now, attended=None, reminded_at=None))
            if again.rowcount != 1:  # type: ignore[attr-defined]
                raise IntegrityError("registration", None, Exception("registered meanwhile"))
            db.session.expire(existing)
            registration = existing
        else:
            registration = SeminarRegistration(seminar_id=seminar_id, user_id=actor.id, registered_at=now)
            db.session.add(registration)
            db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise RegistrationRefused("already") from None
    db.session.refresh(seminar)
    if _mail(seminar, [actor], "confirmed") and seminar.starts_at - now <= remind_before():
        registration.reminded_at = now  # the confirmation, this close to the start, is the reminder
    audit.record(actor, AuditAction.SEMINAR_REGISTERED, school_id=seminar.school_id, object_type="seminar",
                 object_id=seminar.uuid)
    db.session.commit()
    return registration


def unregister(*, actor: User, seminar: Seminar, now: datetime | None = None) -> bool:
    """Cancel ``actor``'s registration (before the start) and free the seat; False if there was none."""
    now = now or utcnow()
    if seminar.starts_at <= now:
        return False
    gone = db.session.execute(update(SeminarRegistration.__table__).where(
        _R.seminar_id == seminar.id, _R.user_id == actor.id, _R.cancelled_at.is_(None)).values(cancelled_at=now))
    if gone.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        return False
    db.session.execute(update(Seminar.__table__).where(_S.id == seminar.id, _S.seats_taken > 0)
                       .values(seats_taken=_S.seats_taken - 1))
    audit.record(actor, AuditAction.SEMINAR_UNREGISTERED, school_id=seminar.school_id, object_type="seminar",
                 object_id=seminar.uuid)
    db.session.commit()
    db.session.refresh(seminar)
    return True


# --- mail ----------------------------------------------------------------------------------------------------


def remind_before() -> timedelta:
    """How long before the start registrants are reminded (``SENIM_SEMINAR_REMIND_BEFORE_HOURS``, 24)."""
    return timedelta(hours=float(current_app.config.get("SENIM_SEMINAR_REMIND_BEFORE_HOURS", 24)))


def _message(seminar: Seminar, kind: str) -> tuple[str, str]:
    """Subject (fixed wording) and plain-text body in the current locale."""
    when = _("%(start)s to %(end)s (Kazakhstan time)", start=format_short_datetime(seminar.starts_at),
             end=format_datetime(seminar.ends_at, "HH:mm"))
    lines = {
        "confirmed": (_("Senim: you are registered for a seminar"),
                      _("You are registered for the seminar “%(title)s”.", title=seminar.title)),
        "reminder": (_("Senim: a seminar you registered for is coming up"),
                     _("Reminder: the seminar “%(title)s” is coming up.", title=seminar.title)),
        "changed": (_("Senim: a seminar you registered for has changed"),
                    _("The seminar “%(title)s” has changed. This is its time and place now.",
                      title=seminar.title)),
        "cancelled": (_("Senim: a seminar you registered for is cancelled"),
                      _("The seminar “%(title)s” is cancelled.", title=seminar.title)),
    }
    subject, first = lines[kind]
    body = [first, _("When: %(when)s", when=when)]
    if kind == "cancelled" and seminar.cancel_reason:
        body.append(_("Reason: %(reason)s", reason=seminar.cancel_reason))
    elif kind != "cancelled":
        body.append(_("Online: %(link)s", link=seminar.join_url) if seminar.online
                    else _("Place: %(place)s", place=seminar.place))
    body.append(_("Details in Senim: %(url)s", url=absolute_url("seminars.detail", seminar_uuid=seminar.uuid)))
    return subject, "\n".join(body) + "\n"


def _mail(seminar: Seminar, users: Iterable[User], kind: str) -> int:
    """Queue one message per user with an e-mail address (never several addresses on one message: registrants
    do not see each other), each in the user's language, else the seminar's. Returns how many were queued."""
    if not mail.configured():
        return 0
    queued = 0
    for user in users:
        if not user.email or not user.active:
            continue
        language = user.preferred_language or seminar.language
        with force_locale(language):
            subject, body = _message(seminar, kind)
        mail.queue(recipients=[user.email], subject=subject, body=body, language=language)
        queued += 1
    return queued


def send_reminders(now: datetime | None = None) -> int:
    """Queue a reminder for every registrant (with an e-mail address) of a seminar starting within
    :func:`remind_before`; each registration is claimed by one conditional UPDATE, so a registrant is reminded
    once, whatever runs at the same time. Returns how many reminders were queued."""
    if not mail.configured():
        return 0
    now = now or utcnow()
    due = db.session.execute(select(Seminar.id).where(
        Seminar.cancelled_at.is_(None), Seminar.starts_at > now, Seminar.starts_at <= now + remind_before())
        .order_by(Seminar.starts_at)).scalars().all()
    queued = 0
    for seminar_id in due:
        with_mail = _with_mail()
        claimed = db.session.execute(update(SeminarRegistration.__table__).where(
            _R.seminar_id == seminar_id, _R.cancelled_at.is_(None), _R.reminded_at.is_(None),
            _R.user_id.in_(with_mail)).values(reminded_at=now).returning(_R.user_id)).scalars().all()
        if not claimed:
            db.session.rollback()
            continue
        seminar = db.session.get_one(Seminar, seminar_id)
        users = db.session.execute(select(User).where(User.id.in_(claimed))).scalars().all()
        sent = _mail(seminar, users, "reminder")
        audit.record(None, AuditAction.SEMINAR_REMINDERS_QUEUED, school_id=seminar.school_id,
                     object_type="seminar", object_id=seminar.uuid, details={"reminded": sent})
        db.session.commit()
        queued += sent
    return queued


# --- calendar ------------------------------------------------------------------------------------------------


def ics(seminar: Seminar, *, with_link: bool, now: datetime | None = None) -> str:
    """An iCalendar (RFC 5545) event of the seminar; the online link only for someone registered."""
    where = seminar.join_url if (seminar.online and with_link) else seminar.place
    return icalendar.event(uid=seminar.uuid, product="Seminars", starts_at=seminar.starts_at,
                           ends_at=seminar.ends_at, summary=seminar.title,
                           description=markdown.plain_text(seminar.description),
                           url=absolute_url("seminars.detail", seminar_uuid=seminar.uuid), sequence=seminar.version,
                           cancelled=seminar.cancelled, location=where, now=now)

