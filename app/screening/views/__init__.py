"""Screening pages: campaigns, pupil self-completion, alert inbox, paper entry, results."""

from __future__ import annotations

from flask import Blueprint

from app.screening import labels

bp = Blueprint("screening", __name__, template_folder="../templates")

# Codes as words on every page (severities, alert rules, modes, languages of the texts).
for _name, _filter in {"severity_label": labels.severity_label, "severity_kind": labels.severity_kind,
                       "rule_label": labels.rule_label, "mode_label": labels.mode_label,
                       "language_name": labels.language_name}.items():
    bp.add_app_template_filter(_filter, _name)


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
