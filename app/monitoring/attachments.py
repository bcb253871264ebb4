"""Attachments of case notes: type checked by content, size limited, stored encrypted in the database.

Storage choice: the file is kept in the database (``case_attachments.data_ct``, a ``LargeBinary``), encrypted with
AES-GCM under the school's own data key and bound to its table, column, row and school (associated data). So it
is saved in the same transaction as its audit entry, backed up with the rest and never lies under ``static/`` or
anywhere the web server could hand it out; a corrupted school key affects that school only. The file name is
encrypted too. The type is decided by sniffing the content (PDF, PNG, JPEG, DOCX), never by the name's
extension; the largest size is ``SENIM_ATTACHMENT_MAX_BYTES`` (10 MB). Files are downloaded only by those who can
read the case, after a recent sign-in (step-up), as an attachment in a sandbox.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

from flask import current_app
from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.core import audit
from app.core.audit import AuditAction
from app.core.crypto import make_aad
from app.core.models import new_uuid, utcnow
from app.core.school_keys import SchoolEncrypted, school_keyring
from app.extensions import Model, db
from app.monitoring.models import CaseNote, MonitoringCase

#: Media type -> file extension of the accepted kinds.
ACCEPTED = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx"}


class CaseAttachment(Model):
    """A file attached to a case note; append-only like the note."""

    __tablename__ = "case_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("monitoring_cases.id"), index=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("case_notes.id"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The sniffed media type (one of four; says nothing about the pupil).
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    #: Sensitive (a name can say what the file is about): school-key ciphertext of the file name.
    filename_ct: Mapped[bytes] = mapped_column(LargeBinary)
    #: Sensitive (mental health, legal): school-key AES-GCM ciphertext of the file's bytes.
    data_ct: Mapped[bytes] = mapped_column(LargeBinary)

    filename = SchoolEncrypted("filename_ct")

    note: Mapped[CaseNote] = relationship()

    def _aad(self) -> bytes:
        return make_aad(self.__tablename__, "data_ct", self.uuid, school_id=self.school_id)

    @property
    def data(self) -> bytes:
        return school_keyring(self.school_id).decrypt(bytes(self.data_ct), aad=self._aad())

    @data.setter
    def data(self, value: bytes) -> None:
        self.data_ct = school_keyring(self.school_id, create=True).encrypt(value, aad=self._aad())

    def __repr__(self) -> str:
        return f"<CaseAttachment {self.id}>"


class AttachmentError(ValueError):
    """A file refused (the view says why)."""


class WrongType(AttachmentError):
    """Not a PDF, PNG, JPEG or DOCX by its content."""


class TooLarge(AttachmentError):
    """Larger than ``SENIM_ATTACHMENT_MAX_BYTES``."""


class EmptyFile(AttachmentError):
    """No file, or an empty one."""


def sniff(data: bytes) -> str | None:
    """The media type of ``data`` judged by its content, or None if it is none of the accepted kinds."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError):
            return None
        if {"[Content_Types].xml", "word/document.xml"} <= names:
            return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    return None


def max_bytes() -> int:
    return int(current_app.config["SENIM_ATTACHMENT_MAX_BYTES"])


def _safe_name(name: str, media_type: str) -> str:
    """A file name to keep: no path, no control characters, the extension of the sniffed type."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>:|?*').strip(" .")[:120]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{stem or 'file'}.{ACCEPTED[media_type]}"


def add_attachment(*, actor: User, case: MonitoringCase, note: CaseNote, filename: str,
                   data: bytes) -> CaseAttachment:
    """Check a file's type (by content) and size, store it encrypted under the school's key, audit, commit."""
    if not data:
        raise EmptyFile()
    if len(data) > max_bytes():
        raise TooLarge()
    media_type = sniff(data)
    if media_type is None:
        raise WrongType()
    attachment = CaseAttachment(uuid=new_uuid(), school_id=case.school_id, case_id=case.id, note_id=note.id,
                                uploaded_by_id=actor.id, at=utcnow(), media_type=media_type, size=len(data))
    attachment.filename = _safe_name(filename, media_type)
    attachment.data = data
    db.session.add(attachment)
    audit.record(actor, AuditAction.CASE_ATTACHMENT_ADDED, school_id=case.school_id, pupil_id=case.pupil_id,
                 object_type="case", object_id=case.uuid, details={"attachment": attachment.uuid})
    db.session.commit()
    return attachment


def read_attachment(*, actor: User, attachment: CaseAttachment, case: MonitoringCase) -> bytes:
    """The file's bytes; the download is audited first (with the pupil's id)."""
    data = attachment.data
    audit.record(actor, AuditAction.CASE_ATTACHMENT_DOWNLOADED, school_id=case.school_id, pupil_id=case.pupil_id,
                 object_type="case", object_id=case.uuid, details={"attachment": attachment.uuid})
    db.session.commit()
    return data


def for_case(case: MonitoringCase) -> dict[int, list[CaseAttachment]]:
    """The case's attachments by note id (one query)."""
    from sqlalchemy import select

    found: dict[int, list[CaseAttachment]] = {}
    for row in db.session.execute(select(CaseAttachment).where(CaseAttachment.case_id == case.id)
                                  .order_by(CaseAttachment.id)).scalars():
        found.setdefault(row.note_id, []).append(row)
    return found
