"""Screening pages: campaigns, pupil self-completion, alert inbox, paper entry, results."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("screening", __name__, template_folder="../templates")


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
