"""The class teacher's pages: my classes, and the flags of one class (own classes only)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from app.auth.permissions import Permission, get_class_or_404, require
from app.classes import services

bp = Blueprint("classes", __name__, url_prefix="/class", template_folder="templates")


@bp.route("/")
@require(Permission.CLASS_FLAGS)
def index() -> str:
    return render_template("classes/index.html", classes=services.teacher_classes(actor=current_user))


@bp.route("/<int:class_id>/flags")
@require(Permission.CLASS_FLAGS)
def flags(class_id: int) -> str:
    school_class = get_class_or_404(current_user, class_id, Permission.CLASS_FLAGS)
    rows = services.class_flags(actor=current_user, school_class=school_class)
    return render_template("classes/flags.html", school_class=school_class, rows=rows,
                           psychologists=services.psychologists_of(school_class))
