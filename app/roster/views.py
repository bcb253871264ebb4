"""Roster import pages: choose a school, download the template, upload, preview, commit; download the roster.

An admin works on any school, a director on their own; another school's pages and uploads answer an audited 404,
and an upload is seen and committed only by the person who made it.
"""

from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.admin.forms import choices
from app.auth.permissions import Permission, get_school_or_404, require, school_scope, scoped_or_404, visible_schools
from app.auth.stepup import require_recent_auth
from app.core.models import School, utcnow
from app.core.routing import db_int
from app.extensions import db
from app.roster import problems as report
from app.roster import services, workbook
from app.roster.columns import SHEET_TITLES, Sheet, column
from app.roster.forms import CommitForm, SchoolChoiceForm, UploadForm
from app.roster.models import RosterUpload, UploadStatus

bp = Blueprint("roster", __name__, url_prefix="/roster", template_folder="templates")

P = Permission.ROSTER_IMPORT
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _language() -> str:
    return str(get_locale() or "kk")


def _schools() -> list[School]:
    return list(db.session.execute(visible_schools(current_user, P).order_by(School.id)).scalars())


def _upload_form(school: School) -> UploadForm:
    form = UploadForm()
    year = services.current_school_year()
    form.school_year.choices = choices((y, f"{y}\u2013{y + 1}") for y in (year + 1, year, year - 1))
    if request.method == "GET":
        form.school_year.data = year
    return form


def _get_upload_or_404(upload_uuid: str) -> RosterUpload:
    """The current user's own upload for a school in their scope; otherwise an audited 404."""
    schools = select(School.id).where(school_scope(current_user, P))
    query = select(RosterUpload).where(RosterUpload.uuid == upload_uuid, RosterUpload.user_id == current_user.id,
                                       RosterUpload.school_id.in_(schools))
    return scoped_or_404(current_user, query, permission=P, object_type="roster_upload", object_id=upload_uuid,
                         school_of=select(RosterUpload.school_id).where(RosterUpload.uuid == upload_uuid))


@bp.route("/")
@require(P)
def index() -> str:
    schools = _schools()
    chooser = SchoolChoiceForm(request.args)
    chooser.school_id.choices = choices([(0, _("Choose a school")), *((s.id, s.name) for s in schools)])
    school_id = request.args.get("school_id", type=db_int) or (schools[0].id if len(schools) == 1 else None)
    school = get_school_or_404(current_user, school_id, P) if school_id else None
    return render_template("roster/index.html", schools=schools, chooser=chooser, school=school,
                           form=_upload_form(school) if school else None, sheets=list(Sheet),
                           sheet_titles={s: SHEET_TITLES[s][_language()] for s in Sheet},
                           max_mb=current_app.config["SENIM_ROSTER_MAX_BYTES"] // (1024 * 1024),
                           max_rows=current_app.config["SENIM_ROSTER_MAX_ROWS"],
                           ttl=int(current_app.config["SENIM_ROSTER_UPLOAD_TTL"].total_seconds() // 60))


@bp.route("/template.xlsx")
@require(P)
def template_xlsx() -> Response:
    return send_file(io.BytesIO(workbook.xlsx_workbook(_language())), mimetype=XLSX, as_attachment=True,
                     download_name=f"senim-roster-template-{_language()}.xlsx")


def _sheet_or_404(name: str) -> Sheet:
    if name not in {s.value for s in Sheet}:
        abort(404)
    return Sheet(name)


@bp.route("/template/<sheet>.csv")
@require(P)
def template_csv(sheet: str) -> Response:
    return send_file(io.BytesIO(workbook.csv_sheet(_sheet_or_404(sheet), _language())), mimetype="text/csv",
                     as_attachment=True, download_name=f"senim-roster-{sheet}-{_language()}.csv")


def _file_bytes(form: UploadForm) -> list[tuple[str, bytes]]:
    """The chosen files, each read no further than one byte past the limit (the service reports the size)."""
    limit = current_app.config["SENIM_ROSTER_MAX_BYTES"]
    files = []
    for storage in form.files.data or []:
        if storage is None or not storage.filename:
            continue
        files.append((storage.filename, storage.stream.read(limit + 1)))
        storage.close()  # a large upload is spooled to a temporary file: release it now
    return files


@bp.route("/schools/<int:school_id>/upload", methods=["POST"])
@require(P)
def upload(school_id: int) -> Response | str:
    school = get_school_or_404(current_user, school_id, P)
    form = _upload_form(school)
    if not form.validate_on_submit():
        flash(_("Choose the school year and a file."), "error")
        return redirect(url_for("roster.index", school_id=school.id))
    kept = services.start_upload(actor=current_user, school=school, school_year=form.school_year.data,
                                 files=_file_bytes(form))
    return redirect(url_for("roster.preview", upload_uuid=kept.uuid))


def _render_preview(kept: RosterUpload, plan: services.Plan | None, form: CommitForm | None = None) -> str:
    school = db.session.get_one(School, kept.school_id)
    return render_template(
        "roster/preview.html", upload=kept, school=school, plan=plan, form=form or CommitForm(),
        summary=services.summary(kept), message=report.message, column_label=report.column_label,
        sheet_label=report.sheet_label, field_label=lambda key: column(Sheet.PUPILS, key).header(_language()),
        year_label=f"{kept.school_year}\u2013{kept.school_year + 1}", limit=500)


@bp.route("/uploads/<upload_uuid>")
@require(P)
def preview(upload_uuid: str) -> str | Response:
    kept = _get_upload_or_404(upload_uuid)
    if kept.status == UploadStatus.COMMITTED:
        return _render_preview(kept, None)
    try:
        plan = services.preview(actor=current_user, upload=kept)
    except services.UploadExpired:
        flash(_("The uploaded file is no longer kept. Upload it again."), "error")
        return redirect(url_for("roster.index", school_id=kept.school_id))
    return _render_preview(kept, plan)


@bp.route("/uploads/<upload_uuid>/commit", methods=["POST"])
@require(P)
def commit(upload_uuid: str) -> str | Response:
    kept = _get_upload_or_404(upload_uuid)
    form = CommitForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.commit_upload(actor=current_user, upload=kept, mark_left=form.mark_left.data)
    except services.UploadExpired:
        flash(_("The uploaded file is no longer kept. Upload it again."), "error")
        return redirect(url_for("roster.index", school_id=kept.school_id))
    except services.NotCommittable as exc:
        db.session.rollback()
        if exc.plan is None:
            return redirect(url_for("roster.preview", upload_uuid=kept.uuid))
        flash(_("The school's records changed since the preview. Nothing was imported: check the report."), "error")
        return _render_preview(kept, exc.plan, form)
    flash(_("The roster was imported."), "success")
    return redirect(url_for("roster.preview", upload_uuid=kept.uuid))


def _export_year() -> int:
    return request.args.get("year", type=db_int) or services.current_school_year()


@bp.route("/schools/<int:school_id>/roster.xlsx")
@require(P)
@require_recent_auth()
def export_xlsx(school_id: int) -> Response:
    school = get_school_or_404(current_user, school_id, P)
    rows = services.export_rows(actor=current_user, school=school, school_year=_export_year(), language=_language())
    return send_file(io.BytesIO(workbook.xlsx_workbook(_language(), rows)), mimetype=XLSX, as_attachment=True,
                     download_name=f"senim-roster-{school.id}-{utcnow():%Y%m%d}.xlsx")


@bp.route("/schools/<int:school_id>/<sheet>.csv")
@require(P)
@require_recent_auth()
def export_csv(school_id: int, sheet: str) -> Response:
    school = get_school_or_404(current_user, school_id, P)
    _sheet_or_404(sheet)
    rows = services.export_rows(actor=current_user, school=school, school_year=_export_year(), language=_language())
    return send_file(io.BytesIO(workbook.csv_sheet(Sheet(sheet), _language(), rows[Sheet(sheet)])),
                     mimetype="text/csv", as_attachment=True,
                     download_name=f"senim-roster-{school.id}-{sheet}-{utcnow():%Y%m%d}.csv")
