"""Break-the-glass pages: ask for emergency access to a pupil's case; review emergency accesses."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth.permissions import (
    Permission,
    get_emergency_grant_or_404,
    get_pupil_or_404,
    has_permission,
    require,
)
from app.core.conflict_page import render_conflict
from app.core.framing import top_level_only
from app.monitoring import glass
from app.monitoring.conflicts import EditConflict
from app.monitoring.forms import EmergencyAccessForm, EmergencyReviewForm, EmergencyRevokeForm
from app.monitoring.models import MonitoringCase
from app.monitoring.views import bp
from app.monitoring.views.common import fresh
from app.pupils.services import read_pupil

P = Permission


@bp.app_context_processor
def _glass_context() -> dict[str, Any]:
    """The banner of a case page opened through emergency access, and the link to ask for it."""

    def emergency_banner(case: MonitoringCase) -> str | None:
        grant = glass.live_grant(user=current_user, case=case) if current_user.is_authenticated else None
        return glass.local_time(grant.expires_at) if grant is not None else None

    def can_ask_emergency() -> bool:
        return current_user.is_authenticated and has_permission(current_user, P.MONITORING_EMERGENCY)

    def can_review_emergency() -> bool:
        return current_user.is_authenticated and has_permission(current_user, P.MONITORING_EMERGENCY_REVIEW)

    def can_read_access_log() -> bool:
        return current_user.is_authenticated and has_permission(current_user, P.PUPIL_ACCESS_LOG)

    return {"emergency_banner": emergency_banner, "can_ask_emergency": can_ask_emergency,
            "can_review_emergency": can_review_emergency, "can_read_access_log": can_read_access_log}


def _message(error: glass.EmergencyError) -> str:
    if isinstance(error, glass.NoOpenCase):
        return _("This pupil has no open case.")
    if isinstance(error, glass.WrongCode):
        return _("The code is wrong or was already used. Enter the current code from your app.")
    if isinstance(error, glass.NotLive):
        return _("This emergency access has already ended.")
    return _("Write the reason first.")


@bp.route("/monitoring/pupils/<pupil_uuid>/emergency-access", methods=["GET", "POST"])
@top_level_only  # break-the-glass: never one click inside someone else's page
@require(P.MONITORING_EMERGENCY)
def emergency_access(pupil_uuid: str) -> str | tuple[str, int] | Response:
    pupil = get_pupil_or_404(current_user, pupil_uuid, P.MONITORING_EMERGENCY)
    read_pupil(actor=current_user, pupil=pupil)
    form = EmergencyAccessForm()
    if form.validate_on_submit():
        try:
            grant = glass.request_access(actor=current_user, pupil=pupil, reason=form.reason.data,
                                         code=form.code.data, ip=request.remote_addr or "")
        except glass.AlreadyOnCase as error:
            return redirect(url_for("monitoring.case_detail", case_uuid=error.case.uuid))
        except glass.EmergencyError as error:
            flash(_message(error), "error")
            return render_template("monitoring/glass/request.html", pupil=pupil, form=form), 400
        flash(_("Emergency access granted until %(until)s. The case owner and the school administrator were told.",
                until=glass.local_time(grant.expires_at)), "warning")
        return redirect(url_for("monitoring.case_detail", case_uuid=grant.case.uuid))
    return render_template("monitoring/glass/request.html", pupil=pupil, form=form)


@bp.route("/monitoring/emergency-reviews")
@top_level_only
@require(P.MONITORING_EMERGENCY_REVIEW)
def emergency_reviews() -> str:
    rows = glass.review_queue(actor=current_user)
    forms = {row.grant.uuid: fresh(EmergencyReviewForm, f"r{row.grant.id}", version=row.grant.version)
             for row in rows}
    revoke_forms = {row.grant.uuid: fresh(EmergencyRevokeForm, f"x{row.grant.id}", version=row.grant.version)
                    for row in rows if row.live}
    return render_template("monitoring/glass/reviews.html", rows=rows, forms_by_uuid=forms,
                           revoke_forms=revoke_forms)


@bp.route("/monitoring/emergency-reviews/<grant_uuid>/revoke", methods=["POST"])
@require(P.MONITORING_EMERGENCY_REVIEW)
def emergency_revoke(grant_uuid: str) -> tuple[str, int] | Response:
    grant = get_emergency_grant_or_404(current_user, grant_uuid)
    form = EmergencyRevokeForm(prefix=f"x{grant.id}")
    back = url_for("monitoring.emergency_reviews")
    if not form.validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return redirect(back)
    try:
        glass.revoke(actor=current_user, grant=grant, version=form.version.data)
    except EditConflict:
        return render_conflict(title=_("Someone changed this emergency access while you were looking"), form=form,
                               action=request.path, back=back, rows=[], record=grant)
    except glass.EmergencyError as error:
        flash(_message(error), "error")
        return redirect(back)
    flash(_("Emergency access ended. %(name)s can no longer open the case.", name=grant.user.display_name),
          "success")
    return redirect(back)


@bp.route("/monitoring/emergency-reviews/<grant_uuid>", methods=["POST"])
@top_level_only
@require(P.MONITORING_EMERGENCY_REVIEW)
def emergency_review(grant_uuid: str) -> tuple[str, int] | Response:
    grant = get_emergency_grant_or_404(current_user, grant_uuid)
    form = EmergencyReviewForm(prefix=f"r{grant.id}")
    if not form.validate_on_submit():
        flash(_("Choose justified or not, and write a note."), "error")
        return redirect(url_for("monitoring.emergency_reviews"))
    try:
        glass.review(actor=current_user, grant=grant, version=form.version.data,
                     justified=form.justified.data == "yes", note=form.note.data)
    except EditConflict:
        theirs = _("Justified") if grant.justified else _("Not justified")
        mine = _("Justified") if form.justified.data == "yes" else _("Not justified")
        return render_conflict(title=_("Someone reviewed this emergency access while you were writing"),
                               form=form, action=request.path, back=url_for("monitoring.emergency_reviews"),
                               rows=[(_("Was it justified?"), mine, theirs if grant.reviewed_at else None),
                                     (_("Note"), form.note.data, grant.review_note)], record=grant)
    except glass.EmergencyError as error:
        flash(_message(error), "error")
        return redirect(url_for("monitoring.emergency_reviews"))
    flash(_("Review saved."), "success")
    return redirect(url_for("monitoring.emergency_reviews"))
