"""Monitoring pages: caseload, case file, registries, "open a case" from an alert."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("monitoring", __name__, template_folder="../templates")

from app.monitoring import models as models  # noqa: E402  (the tables exist for migrations and tests)
