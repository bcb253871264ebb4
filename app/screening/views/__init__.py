"""Screening pages: campaigns, pupil self-completion, alert inbox, paper entry, results."""

from __future__ import annotations

from flask import Blueprint, abort
from sqlalchemy import Select

from app.auth.models import User
from app.auth.permissions import Permission
from app.core import audit
from app.extensions import db

bp = Blueprint("screening", __name__, template_folder="../templates")


def scoped_or_404(user: User, query: Select, permission: Permission, object_type: str, object_id: str):
    """The one object ``query`` finds, or an audited 404."""
    found = db.session.execute(query).scalar_one_or_none()
    if found is None:
        audit.record_denied(user, permission=permission, object_type=object_type, object_id=object_id[:64])
        abort(404)
    return found


from app.screening import notify  # noqa: E402,F401  (installs the after-commit alert e-mail hook)
from app.screening.views import (  # noqa: E402,F401  (registers the routes)
    alerts,
    campaigns,
    instruments,
    local,
    overview,
    paper,
    pupil,
    results,
)
