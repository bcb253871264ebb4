"""Consent pages: staff record paper consent and withdrawal; parents give or withdraw online."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth.permissions import Permission, can_see_pupil, get_pupil_or_404, require
from app.consent import services
from app.consent.forms import PaperConsentForm, ParentConsentForm, WithdrawForm
from app.core.links import safe_next

bp = Blueprint("consent", __name__, url_prefix="/consent", template_folder="templates")


def _back(pupil_uuid: str) -> str | None:
    """The page the user came from (``next``: the pupil card or a campaign), if it is on this site."""
    here = url_for("consent.staff_record", pupil_uuid=pupil_uuid)
    target = safe_next(request.args.get("next"), default=here)
    return target if target != here else None


@bp.route("/pupils/<pupil_uuid>", methods=["GET", "POST"])
@require(Permission.CONSENT_RECORD)
def staff_record(pupil_uuid: str) -> str | Response:
    pupil = get_pupil_or_404(current_user, pupil_uuid, Permission.CONSENT_RECORD)
    came_from = _back(pupil.uuid)
    form = PaperConsentForm()
    if form.validate_on_submit():
        if form.signed_on.data > services.today_local():
            form.signed_on.errors.append(_("The date cannot be in the future."))
        else:
            services.record_paper_consent(actor=current_user, pupil=pupil, signed_on=form.signed_on.data)
            flash(_("Paper consent recorded."), "success")
            return redirect(came_from or url_for("consent.staff_record", pupil_uuid=pupil.uuid))
    elif not form.is_submitted():
        form.signed_on.data = services.today_local()
    back = came_from
    if back is None and can_see_pupil(current_user, pupil, Permission.PUPIL_READ):
        back = url_for("pupils.pupil_detail", pupil_uuid=pupil.uuid)
    return render_template("consent/staff.html", pupil=pupil, form=form, withdraw_form=WithdrawForm(),
                           current=services.read_consent(actor=current_user, pupil=pupil),
                           history=services.consent_history(pupil), back=back, came_from=came_from)


@bp.route("/pupils/<pupil_uuid>/withdraw", methods=["POST"])
@require(Permission.CONSENT_RECORD)
def staff_withdraw(pupil_uuid: str) -> Response:
    pupil = get_pupil_or_404(current_user, pupil_uuid, Permission.CONSENT_RECORD)
    if WithdrawForm().validate_on_submit():
        services.withdraw_consent(actor=current_user, pupil=pupil)
        flash(_("Consent withdrawn. The pupil will not be screened."), "success")
    return redirect(_back(pupil.uuid) or url_for("consent.staff_record", pupil_uuid=pupil.uuid))


@bp.route("/my-children/<pupil_uuid>", methods=["GET", "POST"])
@require(Permission.CONSENT_OWN)
def parent_consent(pupil_uuid: str) -> str | Response:
    pupil = get_pupil_or_404(current_user, pupil_uuid, Permission.CONSENT_OWN)
    form = ParentConsentForm()
    if form.validate_on_submit():
        try:
            services.give_online_consent(actor=current_user, pupil=pupil)
        except services.NotLegalRepresentative:
            form.confirm.errors.append(_("Only a legal representative of the child can give consent."))
        else:
            flash(_("Thank you. Your consent is recorded."), "success")
            return redirect(url_for("consent.parent_consent", pupil_uuid=pupil.uuid))
    return render_template("consent/parent.html", pupil=pupil, form=form, withdraw_form=WithdrawForm(),
                           current=services.read_consent(actor=current_user, pupil=pupil), today=services.today_local())


@bp.route("/my-children/<pupil_uuid>/withdraw", methods=["POST"])
@require(Permission.CONSENT_OWN)
def parent_withdraw(pupil_uuid: str) -> Response:
    pupil = get_pupil_or_404(current_user, pupil_uuid, Permission.CONSENT_OWN)
    if WithdrawForm().validate_on_submit():
        try:
            services.withdraw_consent(actor=current_user, pupil=pupil, as_parent=True)
        except services.NotLegalRepresentative:
            flash(_("Only a legal representative of the child can withdraw consent."), "error")
        else:
            flash(_("Your consent is withdrawn. Your child will not be screened."), "success")
    return redirect(url_for("consent.parent_consent", pupil_uuid=pupil.uuid))
