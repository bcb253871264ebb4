"""Safety plan (edit, history, the pupil's printed copy) and support plan (actions, reviews) of a case."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from app.auth.permissions import Permission, deny_404, get_case_or_404, require, visible_cases
from app.consent.services import today_local
from app.core.conflict_page import render_conflict
from app.extensions import db
from app.monitoring import labels, plan_labels, plans
from app.monitoring.conflicts import EditConflict
from app.monitoring.models import MonitoringCase
from app.monitoring.plan_forms import ActionForm, ActionUpdateForm, ReviewForm, SafetyPlanForm
from app.monitoring.plan_models import ActionStatus, PlanKind, SafetySection, section_lines
from app.monitoring.services import CaseClosed, CaseError
from app.monitoring.views import bp
from app.monitoring.views.common import fresh

P = Permission
#: The languages of the pupil's printed plan.
PRINT_LANGUAGES = ("kk", "ru", "en")


def _may_manage(case: MonitoringCase) -> bool:
    return not case.is_closed and db.session.execute(
        visible_cases(current_user, P.MONITORING_CASE_MANAGE).where(MonitoringCase.id == case.id)).first() is not None


def _error(error: CaseError) -> str:
    if isinstance(error, CaseClosed):
        return _("The case is closed. Reopen it first.")
    return _("Fill in the required fields first.")


def _template_labels() -> dict[str, Any]:
    return {**labels.template_labels(), "section": plan_labels.SECTION, "pupil_section": plan_labels.PUPIL_SECTION,
            "action_status": plan_labels.ACTION_STATUS,
            "contact_way": plan_labels.CONTACT_WAY}


# --- safety plan ------------------------------------------------------------------------------------------------


def _safety_page(case: MonitoringCase, status: int = 200, form: SafetyPlanForm | None = None,
                 review_form: ReviewForm | None = None) -> tuple[str, int]:
    plan = plans.read_safety_plan(actor=current_user, case=case)
    content = plan.content if plan is not None else plans.blank_safety_content()
    if form is None:
        form = fresh(SafetyPlanForm, "plan", review_on=plan.review_on if plan else None,
                     version=plan.version if plan else None, **content)
    return render_template(
        "monitoring/plans/safety_plan.html", case=case, pupil=case.pupil, plan=plan, content=content, form=form,
        review_form=review_form or fresh(ReviewForm, "review"), reviews=plans.reviews_of(case, PlanKind.SAFETY),
        sections=list(SafetySection), lines=section_lines, can_manage=_may_manage(case),
        labels=_template_labels(), today=today_local(), print_languages=PRINT_LANGUAGES), status


@bp.route("/monitoring/cases/<case_uuid>/safety-plan")
@require(P.MONITORING_CASE_READ)
def safety_plan(case_uuid: str) -> tuple[str, int]:
    return _safety_page(get_case_or_404(current_user, case_uuid))


def _content(form: SafetyPlanForm) -> dict[str, str]:
    return {s.value: getattr(form, s.value).data or "" for s in SafetySection}


@bp.route("/monitoring/cases/<case_uuid>/safety-plan/save", methods=["POST"])
@require(P.MONITORING_CASE_MANAGE)
def safety_plan_save(case_uuid: str) -> tuple[str, int] | Response:
    case = get_case_or_404(current_user, case_uuid, P.MONITORING_CASE_MANAGE)
    form = SafetyPlanForm(prefix="plan")
    if not form.validate_on_submit():
        return _safety_page(case, 400, form=form)
    try:
        plans.save_safety_plan(actor=current_user, case=case, version=form.version.data, content=_content(form),
                               review_on=form.review_on.data)
    except EditConflict as conflict:
        plan = conflict.record
        theirs = plan.content
        mine = _content(form)
        rows = [(plan_labels.SECTION[s], mine[s.value] or None, theirs.get(s.value) or None) for s in SafetySection]
        rows.append((_("Review the plan on"), form.review_on.data, plan.review_on))
        return render_conflict(title=_("Someone changed this safety plan while you were editing"), form=form,
                               action=request.path, back=url_for("monitoring.safety_plan", case_uuid=case.uuid),
                               rows=rows, record=plan)
    except CaseError as error:
        flash(_error(error), "error")
        return _safety_page(case, 400, form=form)
    flash(_("Safety plan saved. The previous version is kept in its history."), "success")
    return redirect(url_for("monitoring.safety_plan", case_uuid=case.uuid))


@bp.route("/monitoring/cases/<case_uuid>/safety-plan/print")
@require(P.MONITORING_CASE_READ)
def safety_plan_print(case_uuid: str) -> str | Response:
    case = get_case_or_404(current_user, case_uuid)
    language = request.args.get("lang", "kk")
    if language not in PRINT_LANGUAGES:
        abort(404)
    plan = plans.read_safety_plan(actor=current_user, case=case, printed=True)
    if plan is None:
        flash(_("Save the safety plan first."), "warning")
        return redirect(url_for("monitoring.safety_plan", case_uuid=case.uuid))
    with force_locale(language):
        return render_template("monitoring/plans/safety_print.html", case=case, pupil=case.pupil,
                               content=plan.content, sections=list(SafetySection), lines=section_lines,
                               labels=_template_labels(), language=language)


@bp.route("/monitoring/cases/<case_uuid>/plans/<kind>/review", methods=["POST"])
@require(P.MONITORING_CASE_MANAGE)
def plan_review(case_uuid: str, kind: str) -> tuple[str, int] | Response:
    case = get_case_or_404(current_user, case_uuid, P.MONITORING_CASE_MANAGE)
    try:
        plan_kind = PlanKind(kind)
    except ValueError:
        deny_404(current_user, permission=P.MONITORING_CASE_MANAGE, object_type="plan", object_id=kind,
                 pupil_id=case.pupil_id)
    form = ReviewForm(prefix="review")
    page = "monitoring.safety_plan" if plan_kind is PlanKind.SAFETY else "monitoring.support_plan"
    if not form.validate_on_submit():
        if plan_kind is PlanKind.SAFETY:
            return _safety_page(case, 400, review_form=form)
        return _support_page(case, 400, review_form=form)
    try:
        plans.review_plan(actor=current_user, case=case, kind=plan_kind, note=form.note.data,
                          next_review_on=form.next_review_on.data)
    except CaseError as error:
        flash(_error(error) if isinstance(error, CaseClosed) else _("Save the safety plan first."), "error")
        return redirect(url_for(page, case_uuid=case.uuid))
    flash(_("Review recorded."), "success")
    return redirect(url_for(page, case_uuid=case.uuid))


# --- support plan -----------------------------------------------------------------------------------------------


def _support_page(case: MonitoringCase, status: int = 200, **bound: FlaskForm) -> tuple[str, int]:
    plan = plans.read_support_plan(actor=current_user, case=case)
    actions = plan.actions if plan is not None else []
    updates = {row.uuid: fresh(ActionUpdateForm, f"a{row.id}", status=row.status, outcome=row.details.get("outcome"),
                               due_on=row.due_on, version=row.version) for row in actions}
    return render_template(
        "monitoring/plans/support_plan.html", case=case, pupil=case.pupil, plan=plan, actions=actions,
        updates={**updates, **bound.get("updates", {})},  # type: ignore[dict-item]
        action_form=bound.get("action_form") or fresh(ActionForm, "action"),
        review_form=bound.get("review_form") or fresh(ReviewForm, "review"),
        reviews=plans.reviews_of(case, PlanKind.SUPPORT), can_manage=_may_manage(case), labels=_template_labels(),
        today=today_local()), status


@bp.route("/monitoring/cases/<case_uuid>/support-plan")
@require(P.MONITORING_CASE_READ)
def support_plan(case_uuid: str) -> tuple[str, int]:
    return _support_page(get_case_or_404(current_user, case_uuid))


@bp.route("/monitoring/cases/<case_uuid>/support-plan/actions", methods=["POST"])
@require(P.MONITORING_CASE_MANAGE)
def support_action_add(case_uuid: str) -> tuple[str, int] | Response:
    case = get_case_or_404(current_user, case_uuid, P.MONITORING_CASE_MANAGE)
    form = ActionForm(prefix="action")
    if not form.validate_on_submit():
        return _support_page(case, 400, action_form=form)
    try:
        plans.add_action(actor=current_user, case=case, action=form.action.data, responsible=form.responsible.data,
                         due_on=form.due_on.data)
    except CaseError as error:
        flash(_error(error), "error")
        return _support_page(case, 400, action_form=form)
    flash(_("Action added to the support plan."), "success")
    return redirect(url_for("monitoring.support_plan", case_uuid=case.uuid))


@bp.route("/monitoring/cases/<case_uuid>/support-plan/actions/<action_uuid>", methods=["POST"])
@require(P.MONITORING_CASE_MANAGE)
def support_action_update(case_uuid: str, action_uuid: str) -> tuple[str, int] | Response:
    case = get_case_or_404(current_user, case_uuid, P.MONITORING_CASE_MANAGE)
    row = plans.action_of(case, action_uuid)
    if row is None:
        deny_404(current_user, permission=P.MONITORING_CASE_MANAGE, object_type="support_action",
                 object_id=action_uuid, pupil_id=case.pupil_id)
    form = ActionUpdateForm(prefix=f"a{row.id}")
    if not form.validate_on_submit():
        return _support_page(case, 400, updates={row.uuid: form})  # type: ignore[arg-type]
    try:
        plans.update_action(actor=current_user, case=case, row=row, version=form.version.data,
                            status=ActionStatus(form.status.data), outcome=form.outcome.data or "",
                            due_on=form.due_on.data)
    except EditConflict:
        details = row.details
        rows = [(_("Action"), None, details.get("action")),
                (_("Status"), plan_labels.ACTION_STATUS[ActionStatus(form.status.data)],
                 labels.label(plan_labels.ACTION_STATUS, row.status)),
                (_("Outcome"), form.outcome.data or None, details.get("outcome") or None),
                (_("Due date"), form.due_on.data, row.due_on)]
        return render_conflict(title=_("Someone changed this action while you were editing"), form=form,
                               action=request.path, back=url_for("monitoring.support_plan", case_uuid=case.uuid),
                               rows=rows, record=row)
    except CaseError as error:
        flash(_error(error), "error")
        return _support_page(case, 400)
    flash(_("Action updated."), "success")
    return redirect(url_for("monitoring.support_plan", case_uuid=case.uuid))
