"""Consent records (kundelik-api.md §3.2): who gave it, how, for what, until when, withdrawn when."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import new_uuid, utcnow
from app.extensions import Model

if TYPE_CHECKING:
    from app.auth.models import User
    from app.core.models import Pupil


class ConsentMethod(enum.StrEnum):
    ONLINE = "online"  # given by a signed-in legal representative
    PAPER = "paper"    # a signed paper form, recorded by school staff


class ConsentScope(enum.StrEnum):
    PSYCHODIAGNOSTICS = "psychodiagnostics"


class Consent(Model):
    """One consent of a legal representative for one pupil and one purpose. Never deleted: withdrawn."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    #: What the consent covers (one record per purpose).
    scope: Mapped[str] = mapped_column(String(32), default=ConsentScope.PSYCHODIAGNOSTICS.value)
    method: Mapped[str] = mapped_column(String(8))
    #: The parent who consented online (None for paper: the signature is on the paper form).
    given_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The staff member who recorded a paper consent (None for online).
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    given_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Last day the consent is valid (the end of the school year it was given in).
    valid_until: Mapped[date]
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: How the withdrawal came (ConsentMethod): "online" by the parent, "paper" recorded by school staff; None for
    #: withdrawals recorded before migration 0020 and for consents never withdrawn.
    withdrawn_method: Mapped[str | None] = mapped_column(String(8))

    pupil: Mapped[Pupil] = relationship()
    given_by: Mapped[User | None] = relationship(foreign_keys=[given_by_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])

    def is_valid_on(self, day: date) -> bool:
        """Not withdrawn and not expired on ``day``."""
        return self.withdrawn_at is None and day <= self.valid_until

    def __repr__(self) -> str:
        return f"<Consent {self.id}>"
