"""Monitoring pages: caseload, case file, registries, "open a case" from an alert."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("monitoring", __name__, template_folder="../templates")


from app.monitoring.views import (  # noqa: E402,F401  (registers the routes)
    attachments,
    cases,
    followups,
    glass,
    plans,
    referrals,
    registry,
    transfers,
)
