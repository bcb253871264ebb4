"""Attachments of case notes: upload (case members who may write notes), download (case readers, step-up)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from app.auth.permissions import Permission, deny_404, get_case_or_404, require
from app.auth.stepup import require_recent_auth
from app.core.security import DOWNLOAD_CSP
from app.extensions import db
from app.monitoring import attachments
from app.monitoring.forms import AttachmentForm
from app.monitoring.models import CaseNote, MonitoringCase
from app.monitoring.views import bp
from app.monitoring.views.common import fresh

P = Permission


@bp.app_context_processor
def _attachment_context() -> dict[str, Any]:
    """What the case page needs to list a note's files and offer the upload."""
    return {"case_attachments": attachments.for_case, "attachment_form": lambda: fresh(AttachmentForm, "att"),
            "attachment_max_mb": lambda: attachments.max_bytes() // (1024 * 1024)}


def _message(error: attachments.AttachmentError) -> str:
    if isinstance(error, attachments.TooLarge):
        return _("The file is too large: at most %(mb)d MB.", mb=attachments.max_bytes() // (1024 * 1024))
    if isinstance(error, attachments.WrongType):
        return _("This kind of file cannot be attached. Use PDF, PNG, JPEG or Word (.docx).")
    return _("Choose a file first.")


@bp.route("/monitoring/cases/<case_uuid>/notes/<note_uuid>/attachments", methods=["POST"])
@require(P.MONITORING_CASE_NOTE)
def attachment_add(case_uuid: str, note_uuid: str) -> BaseResponse:
    case = get_case_or_404(current_user, case_uuid, P.MONITORING_CASE_NOTE)
    note = db.session.execute(select(CaseNote).where(CaseNote.case_id == case.id, CaseNote.uuid == note_uuid)
                              ).scalar_one_or_none()
    if note is None:
        deny_404(current_user, permission=P.MONITORING_CASE_NOTE, object_type="case_note", object_id=note_uuid,
                 school_of=select(CaseNote.school_id).where(CaseNote.uuid == note_uuid), pupil_id=case.pupil_id)
    form = AttachmentForm(prefix="att")
    back = redirect(url_for("monitoring.case_detail", case_uuid=case.uuid))
    if not form.validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return back
    upload = form.file.data
    data = upload.stream.read(attachments.max_bytes() + 1) if upload else b""
    try:
        attachments.add_attachment(actor=current_user, case=case, note=note,
                                   filename=upload.filename if upload else "", data=data)
    except attachments.AttachmentError as error:
        flash(_message(error), "error")
        return back
    flash(_("File attached."), "success")
    return back


@bp.route("/monitoring/cases/<case_uuid>/attachments/<attachment_uuid>")
@require(P.MONITORING_CASE_READ)
@require_recent_auth()
def attachment_download(case_uuid: str, attachment_uuid: str) -> Response:
    case: MonitoringCase = get_case_or_404(current_user, case_uuid)
    attachment = db.session.execute(select(attachments.CaseAttachment).where(
        attachments.CaseAttachment.case_id == case.id, attachments.CaseAttachment.uuid == attachment_uuid)
    ).scalar_one_or_none()
    if attachment is None:
        deny_404(current_user, permission=P.MONITORING_CASE_READ, object_type="case_attachment",
                 object_id=attachment_uuid, pupil_id=case.pupil_id,
                 school_of=select(attachments.CaseAttachment.school_id).where(
                     attachments.CaseAttachment.uuid == attachment_uuid))
    data = attachments.read_attachment(actor=current_user, attachment=attachment, case=case)

    name = attachment.filename
    ascii_name = name.encode("ascii", "ignore").decode() or f"file.{attachments.ACCEPTED[attachment.media_type]}"
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return Response(data, mimetype=attachment.media_type, headers={
        "Content-Disposition": disposition, "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": DOWNLOAD_CSP, "Cache-Control": "no-store"})
