"""Caseload, case file (risk, status, review date, team, notes), opening a case by hand or from an alert."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.auth.models import User
from app.auth.permissions import (
    Permission,
    deny_404,
    get_case_or_404,
    get_pupil_or_404,
    has_permission,
    require,
    visible_cases,
)
from app.consent.services import today_local
from app.core.conflict_page import render_conflict
from app.extensions import db
from app.monitoring import labels, referrals, services
from app.monitoring import registry as registry_services
from app.monitoring.conflicts import EditConflict
from app.monitoring.forms import (
    NoteForm,
    OpenCaseForm,
    RemoveMemberForm,
    ReviewDateForm,
    RiskForm,
    StatusForm,
    TeamForm,
)
from app.monitoring.models import CaseOrigin, CaseStatus, MonitoringCase, RiskLevel
from app.monitoring.views import bp
from app.monitoring.views import referrals as referral_views
from app.monitoring.views.common import fresh
from app.pupils.services import read_pupil
from app.screening import alerts as alert_services
from app.screening.forms import choices
from app.screening.models import Alert

P = Permission


# --- the caseload ---------------------------------------------------------------------------------------------


@bp.route("/monitoring/cases")
@require(P.MONITORING_CASE_READ)
def caseload() -> str:
    include_closed = request.args.get("closed") == "1"
    rows = services.caseload(actor=current_user, include_closed=include_closed)
    return render_template("monitoring/caseload.html", rows=rows, include_closed=include_closed,
                           today=today_local(), words=labels.caseload_words(),
                           overdue=referrals.overdue_summary(actor=current_user))


# --- the case file --------------------------------------------------------------------------------------------


def _forms(case: MonitoringCase, **bound: FlaskForm) -> dict[str, Any]:
    """Every form of the case page: the posted one as sent (with its errors), the others fresh."""
    forms: dict[str, Any] = {
        "risk_form": fresh(RiskForm, "risk", version=case.version),
        "status_form": fresh(StatusForm, "status", version=case.version),
        "review_form": fresh(ReviewDateForm, "review", version=case.version, next_review_on=case.next_review_on),
        "team_form": fresh(TeamForm, "team", version=case.version),
        "remove_form": fresh(RemoveMemberForm, "remove", version=case.version),
        "note_form": fresh(NoteForm, "note"),
    }
    forms.update(bound)
    forms["status_form"].status.choices = choices(
        (s.value, labels.STATUS_ACTION[s]) for s in services.allowed_statuses(case))
    forms["team_form"].user_id.choices = choices(
        (user.id, f"{user.display_name} ({labels.TEAM_ROLE[role]})") for user, role in services.eligible_team(case))
    return forms


def _case_page(case: MonitoringCase, status: int = 200, **bound: FlaskForm) -> tuple[str, int]:
    services.read_case(actor=current_user, case=case)
    registrations = []
    if has_permission(current_user, P.MONITORING_REGISTRY_READ):
        registrations = registry_services.current_entries(actor=current_user, pupil_id=case.pupil_id)
    can_manage = db.session.execute(
        visible_cases(current_user, P.MONITORING_CASE_MANAGE).where(MonitoringCase.id == case.id)).first() is not None
    can_note = db.session.execute(
        visible_cases(current_user, P.MONITORING_CASE_NOTE).where(MonitoringCase.id == case.id)).first() is not None
    members = {event.data.get("user") for event in case.events if event.kind in ("member_added", "member_removed")}
    names = {user.id: user.display_name for user in db.session.execute(
        select(User).where(User.id.in_([m for m in members if isinstance(m, int)]))).scalars()}
    return render_template(
        "monitoring/case.html", case=case, pupil=case.pupil, registrations=registrations, names=names,
        can_manage=can_manage and not case.is_closed, can_reopen=can_manage and case.is_closed,
        can_note=can_note and not case.is_closed,
        can_see_registry=has_permission(current_user, P.MONITORING_REGISTRY_READ),
        can_see_results=has_permission(current_user, P.SCREENING_RESULTS),
        can_see_log=has_permission(current_user, P.PUPIL_ACCESS_LOG),
        labels=labels.template_labels(), **referral_views.case_sections(case, _forms(case, **bound))), status


@bp.route("/monitoring/cases/<case_uuid>")
@require(P.MONITORING_CASE_READ)
def case_detail(case_uuid: str) -> tuple[str, int]:
    return _case_page(get_case_or_404(current_user, case_uuid))


def _back(case: MonitoringCase) -> Response:
    return redirect(url_for("monitoring.case_detail", case_uuid=case.uuid))


def _case_error(error: services.CaseError) -> str:
    if isinstance(error, services.InvalidTransition):
        return _("A case that is “%(current)s” cannot be moved to “%(wanted)s”.",
                 current=labels.label(labels.STATUS, error.current), wanted=labels.label(labels.STATUS, error.wanted))
    if isinstance(error, services.PupilHasOpenCase):
        return _("This pupil already has an open case (owner: %(owner)s). Follow-up goes into that case.",
                 owner=error.case.owner.display_name)
    if isinstance(error, services.CaseClosed):
        return _("The case is closed. Reopen it first.")
    if isinstance(error, services.SameRisk):
        return _("That is already the case's risk level.")
    if isinstance(error, services.NotEligible):
        return _("That person cannot be added to this case's team.")
    return _("Write the reason first.")


def _current_rows(case: MonitoringCase) -> list[tuple[Any, Any, Any]]:
    return [(_("Risk level"), None, labels.label(labels.RISK, case.risk_level)),
            (_("Status"), None, labels.label(labels.STATUS, case.status)),
            (_("Next review"), None, case.next_review_on),
            (_("Team"), None, ", ".join(m.user.display_name for m in case.current_members) or "—")]


def _conflict(case: MonitoringCase, form: FlaskForm, mine: dict[str, Any]) -> tuple[str, int]:
    rows = [(label, mine.get(str(label)), theirs) for label, _ignored, theirs in _current_rows(case)]
    rows += [(label, value, None) for label, value in mine.items() if label not in {str(r[0]) for r in rows}]
    return render_conflict(title=_("Someone changed this case while you were editing"), form=form,
                           action=request.path, back=url_for("monitoring.case_detail", case_uuid=case.uuid),
                           rows=rows, record=case)


@bp.route("/monitoring/cases/<case_uuid>/risk", methods=["POST"])
@require(P.MONITORING_CASE_MANAGE)
def case_risk(case_uuid: str) -> tuple[str, int] | Response:
    case = get_case_or_404(current_user, case_uuid, P.MONITORING_CASE_MANAGE)
    form = RiskForm(prefix="risk")
    if not form.validate_on_submit():
        return _case_page(case, 400, risk_form=form)
    try:
        services.change_risk(actor=current_user, case=case, version=form.version.data,
                             risk=RiskLevel(form.risk.data), reason=form.reason.data)
    except EditConflict:
        return _conflict(case, form, {_("Risk level"): labels.label(labels.RISK, form.risk.data),
                                      _("Reason for the change"): form.reason.data})
    except services.CaseError as error:
        flash(_case_error(error), "error")
        return _case_page(case, 400, risk_form=form)
    flash(_("Risk level changed."), "success")
    return _back(case)


@bp.route("/monitoring/cases/<case_uuid>/status", methods=["POST"])
@require(P.MONITORING_CASE_MANAGE)
def case_status(case_uuid: str) -> tuple[str, int] | Response:
    case = get_case_or_404(current_user, case_uuid, P.MONITORING_CASE_MANAGE)
    form = StatusForm(prefix="status")
    form.status.choices = choices((s.value, labels.STATUS_ACTION[s]) for s in CaseStatus)
    if not form.validate_on_submit():
        return _case_page(case, 400, status_form=form)
    try:
        services.change_status(actor=current_user, case=case, version=form.version.data,
                               status=CaseStatus(form.status.data), reason=form.reason.data)
    except EditConflict:
        form.status.choices = choices((s.value, labels.STATUS_ACTION[s]) for s in services.allowed_statuses(case))
        return _conflict(case, form, {_("Status"): labels.label(labels.STATUS, form.status.data),
                                      _("Reason"): form.reason.data})
    except services.CaseError as error:
        flash(_case_error(error), "error")
        return _case_page(case, 400, status_form=form)
    flash(_("Status changed."), "success")
    return _back(case)


@bp.route("/monitoring/cases/<case_uuid>/review-date", methods=["POST"])
@require(P.MONITORING_CASE_MANAGE)
def case_review_date(case_uuid: str) -> tuple[str, int] | Response:
    case = get_case_or_404(current_user, case_uuid, P.MONITORING_CASE_MANAGE)
    form = ReviewDateForm(prefix="review")
    if not form.validate_on_submit():
        return _case_page(case, 400, review_form=form)
    try:
        services.set_review_date(actor=current_user, case=case, version=form.version.data,
                                 next_review_on=form.next_review_on.data)
    except EditConflict:
        return _conflict(case, form, {_("Next review"): form.next_review_on.data})
    except services.CaseError as error:
        flash(_case_error(error), "error")
        return _case_page(case, 400, review_form=form)
    flash(_("Next review date saved."), "success")
    return _back(case)


@bp.route("/monitoring/cases/<case_uuid>/team", methods=["POST"])
@require(P.MONITORING_CASE_MANAGE)
def case_team_add(case_uuid: str) -> tuple[str, int] | Response:
    case = get_case_or_404(current_user, case_uuid, P.MONITORING_CASE_MANAGE)
    form = TeamForm(prefix="team")
    form.user_id.validate_choice = False  # the service decides who may join (and says so)
    if not form.validate_on_submit():
        return _case_page(case, 400, team_form=form)
    try:
        services.add_member(actor=current_user, case=case, version=form.version.data, user_id=form.user_id.data)
    except EditConflict:
        form.user_id.choices = choices((user.id, user.display_name) for user, _r in services.eligible_team(case))
        return _conflict(case, form, {})
    except services.CaseError as error:
        flash(_case_error(error), "error")
        return _case_page(case, 400)
    flash(_("Added to the team."), "success")
    return _back(case)


@bp.route("/monitoring/cases/<case_uuid>/team/<int:member_id>/remove", methods=["POST"])
@require(P.MONITORING_CASE_MANAGE)
def case_team_remove(case_uuid: str, member_id: int) -> tuple[str, int] | Response:
    case = get_case_or_404(current_user, case_uuid, P.MONITORING_CASE_MANAGE)
    form = RemoveMemberForm(prefix="remove")
    if not form.validate_on_submit():
        return _case_page(case, 400)
    try:
        services.remove_member(actor=current_user, case=case, version=form.version.data, member_id=member_id)
    except EditConflict:
        return _conflict(case, form, {})
    except services.CaseError as error:
        flash(_case_error(error), "error")
        return _case_page(case, 400)
    flash(_("Taken off the team."), "success")
    return _back(case)


@bp.route("/monitoring/cases/<case_uuid>/notes", methods=["POST"])
@require(P.MONITORING_CASE_NOTE)
def case_note(case_uuid: str) -> tuple[str, int] | Response:
    case = get_case_or_404(current_user, case_uuid, P.MONITORING_CASE_NOTE)
    form = NoteForm(prefix="note")
    if not form.validate_on_submit():
        return _case_page(case, 400, note_form=form)
    try:
        services.add_note(actor=current_user, case=case, body=form.body.data)
    except services.CaseError as error:
        flash(_case_error(error), "error")
        return _case_page(case, 400, note_form=form)
    flash(_("Note added."), "success")
    return _back(case)


# --- opening a case -------------------------------------------------------------------------------------------


@bp.route("/monitoring/pupils/<pupil_uuid>/cases/new", methods=["GET", "POST"])
@require(P.MONITORING_CASE_MANAGE)
def case_new(pupil_uuid: str) -> str | Response:
    pupil = get_pupil_or_404(current_user, pupil_uuid, P.MONITORING_CASE_MANAGE)
    read_pupil(actor=current_user, pupil=pupil)
    form = OpenCaseForm()
    existing = services.open_case_of(pupil.id)
    if existing is None and form.validate_on_submit():
        try:
            case = services.open_case(actor=current_user, pupil=pupil, origin=CaseOrigin(form.origin.data),
                                      risk=RiskLevel(form.risk.data), reason=form.reason.data,
                                      next_review_on=form.next_review_on.data)
        except services.PupilHasOpenCase as error:
            existing = error.case
        else:
            flash(_("Case opened."), "success")
            return _back(case)
    existing_visible = existing is not None and db.session.execute(
        visible_cases(current_user).where(MonitoringCase.id == existing.id)).first() is not None
    return render_template("monitoring/case_new.html", pupil=pupil, form=form, existing=existing,
                           existing_visible=existing_visible)


class AlertCaseForm(FlaskForm):
    """The one-click "open a case" button of the alert inbox (CSRF only)."""


@bp.route("/monitoring/alerts/<alert_uuid>/case", methods=["POST"])
@require(P.MONITORING_CASE_MANAGE)
def case_from_alert(alert_uuid: str) -> Response:
    alert = alert_services.get_alert(actor=current_user, alert_uuid=alert_uuid)
    if alert is None or alert.pupil_id is None:  # an anonymous request for help has no pupil to open a case for
        deny_404(current_user, permission=P.MONITORING_CASE_MANAGE, object_type="alert", object_id=alert_uuid,
                 school_of=select(Alert.school_id).where(Alert.uuid == alert_uuid))
    if not AlertCaseForm().validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return redirect(url_for("screening.alert_inbox"))
    try:
        case, opened = services.case_from_alert(actor=current_user, alert=alert)
    except alert_services.AlertAlreadyResolved:
        flash(_("This alert was already resolved."), "warning")
        return redirect(url_for("screening.alert_inbox"))
    visible = db.session.execute(visible_cases(current_user).where(MonitoringCase.id == case.id)).first()
    if visible is None:  # the pupil's case belongs to a colleague: the alert went into it all the same
        flash(_("The alert was added to the pupil's open case (owner: %(owner)s). Ask them to add you to the team.",
                owner=case.owner.display_name), "success")
        return redirect(url_for("screening.alert_inbox"))
    flash(_("Case opened from the alert.") if opened else _("The alert was added to the pupil's open case."),
          "success")
    return _back(case)
