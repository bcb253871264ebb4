"""An uploaded roster file kept between its preview and its commit (encrypted, short-lived)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.encryption import Encrypted
from app.core.models import new_uuid, utcnow
from app.extensions import Model


class UploadStatus(enum.StrEnum):
    PENDING = "pending"      # previewed, waiting for the commit
    COMMITTED = "committed"  # applied; the rows are gone, the counts stay


class RosterUpload(Model):
    """One upload: its parsed sheets, encrypted, until it is committed or expires (then only counts remain)."""

    __tablename__ = "roster_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Public id used in URLs and as the row binding of the ciphertext.
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    #: Who uploaded it: only they may preview or commit it.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: First calendar year of the school year the classes belong to.
    school_year: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default=UploadStatus.PENDING.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: After this the rows are deleted (see app.roster.services.purge_expired).
    expires_at: Mapped[datetime] = mapped_column(index=True)
    committed_at: Mapped[datetime | None]
    #: Sensitive (identity: names, IINs, parents' contacts): AES-GCM ciphertext of the parsed sheets as JSON.
    #: Cleared at the commit.
    payload_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: JSON of counts only (rows read, created, moved, left…), never personal data.
    summary: Mapped[str] = mapped_column(Text, default="{}")

    payload = Encrypted("payload_ct")

    def __repr__(self) -> str:
        return f"<RosterUpload {self.id}>"
