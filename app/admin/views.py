"""Placeholder: being written (schools, classes, staff, role assignments, audit log)."""

from flask import Blueprint

from app.auth.permissions import Permission, require

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/schools")
@require(Permission.ADMIN_SCHOOLS)
def schools() -> str:
    return ""


@bp.route("/classes")
@require(Permission.ADMIN_CLASSES)
def classes() -> str:
    return ""


@bp.route("/staff")
@require(Permission.ADMIN_STAFF)
def staff() -> str:
    return ""


@bp.route("/audit")
@require(Permission.AUDIT_READ)
def audit_log() -> str:
    return ""
