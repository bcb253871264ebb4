"""Seminars and registrations. Public information about an event, and who registered (adults' accounts only)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import new_uuid, utcnow
from app.extensions import Model

if TYPE_CHECKING:
    from app.auth.models import User
    from app.core.models import District, Region, School


class Audience(enum.StrEnum):
    """Who a seminar is for."""

    PARENTS = "parents"
    STAFF = "staff"  # teachers and the school's other staff
    BOTH = "both"


class Seminar(Model):
    """A seminar held for one school, a district or a region (exactly one of the three is set).

    Not personal data: title, description and materials are what the organiser publishes to the audience.
    ``seats_taken`` counts active registrations; it is only ever changed by one conditional UPDATE, so the
    capacity holds when many register at once (``seats_taken <= capacity`` is also a database constraint).
    """

    __tablename__ = "seminars"
    __table_args__ = (
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="seats_within_capacity"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("registration_closes_at <= starts_at", name="registration_before_start"),
        CheckConstraint("(CASE WHEN school_id IS NULL THEN 0 ELSE 1 END + CASE WHEN district_id IS NULL THEN 0 "
                        "ELSE 1 END + CASE WHEN region_id IS NULL THEN 0 ELSE 1 END) = 1", name="one_place"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    title: Mapped[str] = mapped_column(String(200))
    #: Markdown source, cleaned on save (app.core.markdown) and rendered through the ``markdown`` filter.
    description: Mapped[str] = mapped_column(Text, default="")
    #: Audience value.
    audience: Mapped[str] = mapped_column(String(16))
    #: Where it is held for: a school, or a whole district or region (exactly one).
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    #: The meeting link (https only) for an online seminar, else empty.
    online_url: Mapped[str] = mapped_column(String(500), default="")
    #: Where it is held (room, address) when it is not online, else empty.
    place: Mapped[str] = mapped_column(String(300), default="")
    capacity: Mapped[int]
    seats_taken: Mapped[int] = mapped_column(default=0, server_default="0")
    registration_closes_at: Mapped[datetime]
    #: Language the seminar is held in (kk, ru, en).
    language: Mapped[str] = mapped_column(String(2))
    #: Markdown text with links, added after the seminar; shown to the audience.
    materials: Mapped[str] = mapped_column(Text, default="")
    cancelled_at: Mapped[datetime | None]
    #: When its time, place or online link last changed (registrants were e-mailed); None if never.
    rescheduled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Optimistic locking: a form saved after someone else's change gets the conflict page.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    school: Mapped[School | None] = relationship()
    district: Mapped[District | None] = relationship()
    region: Mapped[Region | None] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])

    __mapper_args__ = {"version_id_col": version}

    #: A seminar concerns no pupil (the conflict audit asks).
    pupil_id = None

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def online(self) -> bool:
        return bool(self.online_url)

    @property
    def join_url(self) -> str:
        """The link to show: ``online_url`` if it is an https address (checked on save, and again here so that no
        other scheme ever reaches a page), else empty."""
        url = self.online_url or ""
        return url if url.lower().startswith("https://") and not any(ch.isspace() for ch in url) else ""

    @property
    def place_name(self) -> str:
        """The school, district or region it is held for, in the interface language."""
        where = self.school or self.district or self.region
        return where.name if where is not None else ""

    def __repr__(self) -> str:
        return f"<Seminar {self.id}>"


class SeminarRegistration(Model):
    """A parent's or staff member's registration. Cancelling keeps the row (``cancelled_at``); registering again
    reuses it, so one person has at most one row per seminar."""

    __tablename__ = "seminar_registrations"
    __table_args__ = (UniqueConstraint("seminar_id", "user_id", name="uq_seminar_registrations_seminar_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seminar_id: Mapped[int] = mapped_column(ForeignKey("seminars.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]
    #: None until the organiser marks attendance after the seminar.
    attended: Mapped[bool | None]
    #: When the reminder was queued (or the confirmation stood for it), so ``flask seminars remind`` never reminds
    #: twice of the same time; cleared when the seminar is moved to a new start, so registrants are reminded again.
    reminded_at: Mapped[datetime | None]

    seminar: Mapped[Seminar] = relationship()
    user: Mapped[User] = relationship()

    @property
    def active(self) -> bool:
        return self.cancelled_at is None

    def __repr__(self) -> str:
        return f"<SeminarRegistration {self.id}>"
