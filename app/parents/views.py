"""Placeholder: being written."""

from flask import Blueprint

from app.auth.permissions import Permission, require

bp = Blueprint("parents", __name__, url_prefix="/parents")


@bp.route("/children")
@require(Permission.PARENT_CHILD)
def children() -> str:
    return ""
