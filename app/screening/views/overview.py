"""The psychologist's class overview: own school's classes with counts, and one class pupil by pupil."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from app.auth.permissions import Permission, get_class_or_404, require
from app.screening import overview as services
from app.screening.views import bp

P = Permission.SCREENING_RESULTS


@bp.route("/screening/classes")
@require(P)
def class_overview_list() -> str:
    return render_template("screening/overview_list.html", classes=services.class_list(actor=current_user))


@bp.route("/screening/classes/<int:class_id>")
@require(P)
def class_overview(class_id: int) -> str:
    school_class = get_class_or_404(current_user, class_id, P)
    overview = services.class_overview(actor=current_user, school_class=school_class,
                                       campaign_uuid=request.args.get("campaign") or None)
    return render_template("screening/overview.html", overview=overview, Status=services.CampaignStatus)
