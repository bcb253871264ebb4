"""Scoped fetches and choice lists shared by the admin screens."""

from __future__ import annotations

from flask_login import current_user

from app.auth import permissions
from app.auth.permissions import Permission, visible_classes, visible_schools
from app.core.models import School, SchoolClass
from app.extensions import db


def get_school_or_404(school_id: int, permission: Permission) -> School:
    """The school if the current user may reach it with ``permission``; otherwise audit and 404."""
    return permissions.get_school_or_404(current_user, school_id, permission)


def school_choices(permission: Permission) -> list[tuple[int, str]]:
    """(id, name) of the schools in the current user's scope."""
    schools = db.session.execute(visible_schools(current_user, permission).order_by(School.id)).scalars()
    return [(s.id, s.name) for s in schools]


def class_choices(permission: Permission) -> list[tuple[int, str]]:
    """(id, "7А (school, 2026–2027)") of the classes in the current user's scope."""
    classes = db.session.execute(
        visible_classes(current_user, permission).order_by(
            SchoolClass.school_id, SchoolClass.school_year.desc(), SchoolClass.grade, SchoolClass.letter)
    ).scalars()
    return [(c.id, f"{c.label} ({c.school.name}, {c.school_year_label})") for c in classes]
