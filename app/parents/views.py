"""Parents' pages: my children, a child's page (school, psychologist, rights, articles chosen for them).

Guidance articles live in the guidance library (app/guidance), which also answers the old /parents/guidance URLs.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from app.auth.permissions import Permission, get_pupil_or_404, has_permission, require
from app.parents import services

bp = Blueprint("parents", __name__, url_prefix="/parents", template_folder="templates")


@bp.route("/children")
@require(Permission.PARENT_CHILD)
def children() -> str:
    return render_template("parents/children.html", children=services.my_children(actor=current_user))


@bp.route("/child/<pupil_uuid>")
@require(Permission.PARENT_CHILD)
def child(pupil_uuid: str) -> str:
    pupil = get_pupil_or_404(current_user, pupil_uuid, Permission.PARENT_CHILD)
    summary = services.read_child(actor=current_user, pupil=pupil)
    can_consent = has_permission(current_user, Permission.CONSENT_OWN)
    return render_template("parents/child.html", child=summary, can_consent=can_consent)
