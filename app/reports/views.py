"""Placeholder: being written."""

from flask import Blueprint

from app.auth.permissions import Permission, require

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.route("/")
@require(Permission.REPORTS_AGGREGATE)
def overview() -> str:
    return ""
