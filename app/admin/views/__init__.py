"""The admin area: schools, classes, staff and role assignments, parents' links, the audit log.

Split by screen; every route carries ``@require`` and fetches objects through the actor's scope.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="../templates")

from app.admin.views import audit_log, classes, guardians, schools, staff  # noqa: E402  (registers the routes)

__all__ = ["audit_log", "bp", "classes", "guardians", "schools", "staff"]
