"""Aggregate reports: pupil counts by school, grade and sex (small cells suppressed), and their CSV export."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth.permissions import Permission, deny_404, get_school_or_404, require, visible_schools
from app.auth.stepup import require_recent_auth
from app.core.exports import csv_bytes
from app.core.models import School
from app.core.routing import db_int
from app.extensions import db
from app.reports import services

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates")


def _selected_school() -> School | None:
    """The school chosen with ``?school=<id>``, scoped (another district's school answers 404)."""
    raw = request.args.get("school", "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        abort(404)
    try:
        school_id = db_int(raw)
    except ValueError:  # longer than any id: the same audited 404 as any other unknown school
        deny_404(current_user, permission=Permission.REPORTS_AGGREGATE, object_type="school", object_id=raw)
    return get_school_or_404(current_user, school_id, Permission.REPORTS_AGGREGATE)


def _school_choices() -> list[School]:
    query = visible_schools(current_user, Permission.REPORTS_AGGREGATE).order_by(School.district_id, School.id)
    return list(db.session.execute(query).scalars())


@bp.route("/")
@require(Permission.REPORTS_AGGREGATE)
def overview() -> str:
    school = _selected_school()
    report = services.pupil_counts(actor=current_user, school=school)
    participation = services.screening_participation(actor=current_user, school=school)
    return render_template("reports/overview.html", report=report, participation=participation,
                           school=school, schools=_school_choices())


@bp.route("/export.csv")
@require(Permission.REPORTS_AGGREGATE)
@require_recent_auth()
def export_csv() -> Response:
    school = _selected_school()
    report = services.pupil_counts(actor=current_user, school=school, export=True)
    response = Response(csv_bytes(services.csv_rows(report)), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="senim-pupil-counts.csv"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
