"""The help directory and pupils' requests for help."""

from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask_babel import get_locale
from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.encryption import Encrypted
from app.core.models import new_uuid, utcnow
from app.extensions import Model

if TYPE_CHECKING:
    from app.core.models import District, Region


class ServiceKind(enum.StrEnum):
    """What a help service is (orders the list: help lines first, emergency last)."""

    HELPLINE = "helpline"              # a national or regional telephone line (150, 111)
    SUPPORT_CENTRE = "support_centre"  # a psychological support centre
    CALL_CENTRE = "call_centre"        # the call centre of an education department
    EMERGENCY = "emergency"            # 112


class HelpService(Model):
    """One entry of the help directory: national (no region) or of a region, optionally of one district.

    Public information, not personal data: shown to anyone, pupils first.
    """

    __tablename__ = "help_services"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    kind: Mapped[str] = mapped_column(String(16), default=ServiceKind.HELPLINE.value)
    #: None: national (shown everywhere). Else shown in this region (and only this district, if set).
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"), index=True)
    name_kk: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    #: The number as dialled ("150", "+7 7222 52 11 11").
    phone: Mapped[str] = mapped_column(String(32))
    #: When it answers, per language ("тәулік бойы", "круглосуточно", "24/7").
    hours_kk: Mapped[str] = mapped_column(String(120), default="")
    hours_ru: Mapped[str] = mapped_column(String(120), default="")
    hours_en: Mapped[str] = mapped_column(String(120), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    #: Where the number is published (required for a national entry): an act, a ministry page.
    source: Mapped[str] = mapped_column(String(500), default="")
    #: Order within its group (smaller first).
    position: Mapped[int] = mapped_column(default=100)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    region: Mapped[Region | None] = relationship()
    district: Mapped[District | None] = relationship()

    @property
    def national(self) -> bool:
        return self.region_id is None

    def _pick(self, field: str) -> str:
        locale = str(get_locale() or "kk")
        value = getattr(self, f"{field}_{locale}", "") if locale in ("kk", "ru", "en") else ""
        return str(value or getattr(self, f"{field}_ru") or getattr(self, f"{field}_kk") or "")

    @property
    def name(self) -> str:
        """The name in the interface language (Russian, then Kazakh, when that one is empty)."""
        return self._pick("name")

    @property
    def hours(self) -> str:
        return self._pick("hours")

    @property
    def tel(self) -> str:
        """The number for a ``tel:`` link: digits and a leading +."""
        digits = "".join(c for c in self.phone if c.isdigit())
        return ("+" if self.phone.strip().startswith("+") else "") + digits

    def __repr__(self) -> str:
        return f"<HelpService {self.id}>"


class HelpRequest(Model):
    """A pupil's message to the school psychologist ("ask for help"). It reaches the psychologist as an alert.

    Only the school is in plaintext (the inbox is scoped by it). The message, the class and, for a named request,
    the pupil are in :attr:`body` (AES-GCM, bound to this row). An anonymous request has no pupil, and nothing of
    the sender's address or browser is stored with it (no time column either: the alert's encrypted details
    hold the time).
    """

    __tablename__ = "help_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    #: Sensitive (a child's own words about distress): ciphertext of {"message", "class_id", "pupil_id"} as JSON.
    body_ct: Mapped[bytes] = mapped_column(LargeBinary)

    body_json = Encrypted("body_ct")

    @property
    def body(self) -> dict[str, Any]:
        return dict(json.loads(self.body_json))

    @body.setter
    def body(self, value: dict[str, Any]) -> None:
        self.body_json = json.dumps(value, sort_keys=True, ensure_ascii=False)

    @property
    def message(self) -> str:
        return str(self.body["message"])

    @property
    def pupil_id(self) -> int | None:
        value = self.body.get("pupil_id")
        return int(value) if value is not None else None

    @property
    def class_id(self) -> int | None:
        value = self.body.get("class_id")
        return int(value) if value is not None else None

    def __repr__(self) -> str:
        return f"<HelpRequest {self.id}>"
