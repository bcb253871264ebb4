"""Attachments of case notes (issue 10 item 2): type by content, size limit, encrypted at rest, downloaded by the
case's readers only, after a recent sign-in, as an attachment in a sandbox."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, text, update

from app.auth.models import UserSession
from app.core.audit import AuditAction
from app.core.models import utcnow
from app.extensions import db
from app.monitoring import attachments, services
from app.monitoring.attachments import CaseAttachment
from tests.factories import csrf_token
from tests.monitoring.support import NOTE_MARKER, entries, open_case
from tests.security.helpers import signed_in

PDF = b"%PDF-1.4\n" + NOTE_MARKER.encode() + b" report\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 32
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.fixture
def note_case(world):
    case = open_case(world)
    note = services.add_note(actor=world.psy1, case=case, body="letter from the clinic")
    return case, note


def _upload(client, case, note, name: str, data: bytes):
    page = f"/monitoring/cases/{case.uuid}"
    return client.post(f"{page}/notes/{note.uuid}/attachments", follow_redirects=True,
                       content_type="multipart/form-data",
                       data={"csrf_token": csrf_token(client, page), "att-file": (io.BytesIO(data), name)})


@pytest.mark.parametrize(("data", "media_type"), [(PDF, "application/pdf"), (PNG, "image/png"),
                                                  (JPEG, "image/jpeg"), (_docx(), DOCX_TYPE)])
def test_the_type_is_judged_by_content(data, media_type) -> None:
    assert attachments.sniff(data) == media_type


def test_a_wrong_type_is_refused_with_a_message_whatever_its_name(app: Flask, world, note_case) -> None:
    case, note = note_case
    client = signed_in(app, world.psy1)
    page = _upload(client, case, note, "report.pdf", b"MZ\x90\x00 not a pdf at all").get_data(as_text=True)
    assert "This kind of file cannot be attached" in page
    fake_docx = io.BytesIO()
    with zipfile.ZipFile(fake_docx, "w") as archive:
        archive.writestr("payload.js", "alert(1)")
    assert "cannot be attached" in _upload(client, case, note, "x.docx", fake_docx.getvalue()).get_data(as_text=True)
    assert db.session.execute(select(CaseAttachment)).first() is None


def test_a_file_too_large_is_refused(app: Flask, world, note_case, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "SENIM_ATTACHMENT_MAX_BYTES", 1024 * 1024)
    case, note = note_case
    client = signed_in(app, world.psy1)
    page = _upload(client, case, note, "big.pdf", b"%PDF-1.4\n" + b"0" * (1024 * 1024)).get_data(as_text=True)
    assert "The file is too large: at most 1 MB." in page
    assert db.session.execute(select(CaseAttachment)).first() is None


def test_upload_and_download_by_the_team(app: Flask, world, note_case) -> None:
    case, note = note_case
    client = signed_in(app, world.psy1)
    page = _upload(client, case, note, "../../clinic letter.pdf", PDF).get_data(as_text=True)
    assert "File attached." in page and "clinic letter.pdf" in page
    attachment = db.session.execute(select(CaseAttachment)).scalar_one()
    assert attachment.filename == "clinic letter.pdf" and attachment.media_type == "application/pdf"
    response = client.get(f"/monitoring/cases/{case.uuid}/attachments/{attachment.uuid}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"].startswith("sandbox")
    assert len(entries(AuditAction.CASE_ATTACHMENT_DOWNLOADED, pupil_id=world.p1.id)) == 1


def test_the_download_asks_for_the_password_after_five_minutes(app: Flask, world, note_case) -> None:
    case, note = note_case
    attachment = attachments.add_attachment(actor=world.psy1, case=case, note=note, filename="a.png", data=PNG)
    client = signed_in(app, world.psy1)
    db.session.execute(update(UserSession).where(UserSession.user_id == world.psy1.id)
                       .values(reauth_at=utcnow() - timedelta(minutes=6)))
    db.session.commit()
    response = client.get(f"/monitoring/cases/{case.uuid}/attachments/{attachment.uuid}")
    assert response.status_code == 302 and "/reauth" in response.headers["Location"]


def test_plaintext_is_never_in_the_database(world, note_case) -> None:
    case, note = note_case
    attachments.add_attachment(actor=world.psy1, case=case, note=note, filename=f"{NOTE_MARKER}.pdf", data=PDF)
    raw = db.session.execute(text("SELECT data_ct, filename_ct FROM case_attachments")).one()
    assert NOTE_MARKER.encode() not in bytes(raw[0]) and NOTE_MARKER.encode() not in bytes(raw[1])
    assert b"%PDF" not in bytes(raw[0])


def test_another_school_gets_404(app: Flask, world, note_case) -> None:
    case, note = note_case
    attachment = attachments.add_attachment(actor=world.psy1, case=case, note=note, filename="a.pdf", data=PDF)
    other = signed_in(app, world.psy3)
    assert other.get(f"/monitoring/cases/{case.uuid}/attachments/{attachment.uuid}").status_code == 404
    page = f"/monitoring/cases/{case.uuid}/notes/{note.uuid}/attachments"
    assert other.post(page, data={"csrf_token": csrf_token(other, "/account")}).status_code == 404
    # An attachment id under another case (of the same reader) is a 404 too.
    mine = open_case(world, pupil=world.p2)
    own = signed_in(app, world.psy1)
    assert own.get(f"/monitoring/cases/{mine.uuid}/attachments/{attachment.uuid}").status_code == 404
