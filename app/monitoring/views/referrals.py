"""Referrals and the inter-agency algorithm's steps on the case page; the algorithm is validated at start-up."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask.blueprints import BlueprintSetupState
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.auth.permissions import Permission, can_propose_transfer, deny_404, get_case_or_404, require, visible_cases
from app.consent.services import today_local
from app.core.conflict_page import render_conflict
from app.core.models import utcnow
from app.extensions import db
from app.monitoring import algorithm, referral_labels, referrals, transfers
from app.monitoring.conflicts import EditConflict
from app.monitoring.models import MonitoringCase
from app.monitoring.referral_forms import (
    ReferralForm,
    ReferralStatusForm,
    StepDoneForm,
    TransferAnswerForm,
)
from app.monitoring.referral_models import CaseStep, Referral, ReferralDestination, ReferralStatus
from app.monitoring.views import bp
from app.monitoring.views.common import fresh
from app.screening.forms import choices

P = Permission


@bp.record_once
def _check_algorithm(state: BlueprintSetupState) -> None:
    """A broken algorithm file stops the application at start-up (not at the first high-risk case)."""
    algorithm.load(state.app.config.get("MONITORING_ALGORITHM_FILE"))


def _on_case(user: Any, case: MonitoringCase, permission: Permission) -> bool:
    return db.session.execute(visible_cases(user, permission).where(MonitoringCase.id == case.id)).first() is not None


def case_sections(case: MonitoringCase, forms: dict[str, Any]) -> dict[str, Any]:
    """What the case page shows of referrals, steps and transfers, with their forms (posted ones kept)."""
    today, now = today_local(), utcnow()
    forms.setdefault("referral_form", fresh(ReferralForm, "referral", sent_on=today))
    status_forms = {}
    for referral in referrals.case_referrals(case):
        form = fresh(ReferralStatusForm, f"r{referral.id}", version=referral.version)
        form.status.choices = choices((s.value, referral_labels.STATUS_ACTION[s])
                                      for s in referrals.allowed_referral_statuses(referral))
        status_forms[referral] = form
    bound = forms.pop("referral_status_form", None)
    if bound is not None:
        status_forms = {r: (bound if r.id == bound.referral_id else f) for r, f in status_forms.items()}
    language = str(get_locale() or "en")
    transfer = transfers.pending_transfer(case)
    return {**forms, "referral_rows": status_forms, "today": today,
            "steps": referrals.step_views(referrals.case_steps(case), language=language, now=now),
            "step_form": fresh(StepDoneForm, "step"),
            "transfer": transfer,
            "withdraw_form": fresh(TransferAnswerForm, "withdraw", version=transfer.version if transfer else None),
            "declined_transfers": [t for t in transfers.case_transfers(case) if t.status == "declined"],
            "can_step": _on_case(current_user, case, P.MONITORING_CASE_NOTE) and not case.is_closed,
            "can_transfer": not case.is_closed and can_propose_transfer(current_user, case),
            "referral_labels": referral_labels.template_labels()}


def _page(case: MonitoringCase, status: int, **bound: FlaskForm) -> tuple[str, int]:
    from app.monitoring.views.cases import _case_page

    return _case_page(case, status, **bound)


def _back(case: MonitoringCase, anchor: str) -> Response:
    return redirect(url_for("monitoring.case_detail", case_uuid=case.uuid, _anchor=anchor))


def _error(error: referrals.ReferralError) -> str:
    if isinstance(error, referrals.CaseIsClosed):
        return _("The case is closed. Reopen it first.")
    if isinstance(error, referrals.BadReferralStatus):
        return _("This referral cannot be moved to that status any more.")
    if isinstance(error, referrals.BadDate):
        return _("The date must not be before the day the referral was sent.")
    if isinstance(error, referrals.StepAlreadyDone):
        return _("Someone already marked this step as done.")
    return _("Write the outcome, or why the referral was declined.")


@bp.route("/monitoring/cases/<case_uuid>/referrals", methods=["POST"])
@require(P.MONITORING_CASE_MANAGE)
def referral_new(case_uuid: str) -> tuple[str, int] | Response:
    case = get_case_or_404(current_user, case_uuid, P.MONITORING_CASE_MANAGE)
    form = ReferralForm(prefix="referral")
    if not form.validate_on_submit():
        return _page(case, 400, referral_form=form)
    try:
        referrals.create_referral(actor=current_user, case=case, destination=ReferralDestination(form.destination.data),
                                  reason=form.reason.data, sent_on=form.sent_on.data, deadline=form.deadline.data)
    except referrals.ReferralError as error:
        flash(_error(error), "error")
        return _page(case, 400, referral_form=form)
    flash(_("Referral recorded."), "success")
    return _back(case, "referrals-title")


def _referral_of(case: MonitoringCase, referral_uuid: str) -> Referral:
    found = db.session.execute(select(Referral).where(
        Referral.uuid == referral_uuid, Referral.case_id == case.id)).scalar_one_or_none()
    if found is None:
        deny_404(current_user, permission=P.MONITORING_CASE_MANAGE, object_type="referral", object_id=referral_uuid,
                 pupil_id=case.pupil_id, school_of=select(Referral.school_id).where(Referral.uuid == referral_uuid))
    return found


@bp.route("/monitoring/cases/<case_uuid>/referrals/<referral_uuid>", methods=["POST"])
@require(P.MONITORING_CASE_MANAGE)
def referral_status(case_uuid: str, referral_uuid: str) -> tuple[str, int] | Response:
    case = get_case_or_404(current_user, case_uuid, P.MONITORING_CASE_MANAGE)
    referral = _referral_of(case, referral_uuid)
    form = ReferralStatusForm(prefix=f"r{referral.id}")
    form.referral_id = referral.id  # type: ignore[attr-defined]
    form.status.choices = choices((s.value, referral_labels.STATUS_ACTION[s]) for s in referral_labels.STATUS_ACTION)
    if not form.validate_on_submit():
        return _page(case, 400, referral_status_form=form)
    try:
        referrals.update_referral(actor=current_user, referral=referral, version=form.version.data,
                                  status=ReferralStatus(form.status.data), text=form.text.data, on=form.on.data)
    except EditConflict:
        form.status.choices = choices((s.value, referral_labels.STATUS_ACTION[s])
                                      for s in referrals.allowed_referral_statuses(referral))
        rows = [(_("Status"), referral_labels.STATUS.get(ReferralStatus(form.status.data)),
                 referral_labels.STATUS[ReferralStatus(referral.status)]),
                (_("Outcome, or why it was declined"), form.text.data or None, referral.outcome),
                (_("Date"), form.on.data, referral.outcome_on)]
        return render_conflict(title=_("Someone changed this referral while you were editing"), form=form,
                               action=request.path, back=url_for("monitoring.case_detail", case_uuid=case.uuid),
                               rows=rows, record=referral)
    except referrals.ReferralError as error:
        flash(_error(error), "error")
        return _page(case, 400, referral_status_form=form)
    flash(_("Referral updated."), "success")
    return _back(case, "referrals-title")


@bp.route("/monitoring/cases/<case_uuid>/steps/<step_uuid>", methods=["POST"])
@require(P.MONITORING_CASE_NOTE)
def step_done(case_uuid: str, step_uuid: str) -> tuple[str, int] | Response:
    case = get_case_or_404(current_user, case_uuid, P.MONITORING_CASE_NOTE)
    step = db.session.execute(select(CaseStep).where(
        CaseStep.uuid == step_uuid, CaseStep.case_id == case.id)).scalar_one_or_none()
    if step is None:
        deny_404(current_user, permission=P.MONITORING_CASE_NOTE, object_type="case_step", object_id=step_uuid,
                 pupil_id=case.pupil_id, school_of=select(CaseStep.school_id).where(CaseStep.uuid == step_uuid))
    form = StepDoneForm(prefix="step")
    if not form.validate_on_submit():
        return _page(case, 400)
    try:
        referrals.complete_step(actor=current_user, step=step, version=form.version.data, note=form.note.data)
    except EditConflict:
        rows = [(_("What was done (optional)"), form.note.data or None, step.note)]
        return render_conflict(title=_("Someone changed this step while you were editing"), form=form,
                               action=request.path, back=url_for("monitoring.case_detail", case_uuid=case.uuid),
                               rows=rows, record=step)
    except referrals.ReferralError as error:
        flash(_error(error), "error")
        return _page(case, 400)
    flash(_("Step marked as done."), "success")
    return _back(case, "steps-title")

