"""Follow-ups (a case's, a registered pupil's), the overdue page, contacts with parents, the pupil's chronology."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from app.auth.permissions import Permission, get_case_or_404, get_pupil_or_404, has_permission, require, visible_cases
from app.core.conflict_page import render_conflict
from app.core.web import NavCount, register_nav_counts
from app.extensions import db
from app.monitoring import chronology as chronology_services
from app.monitoring import followups, plan_labels
from app.monitoring.conflicts import EditConflict
from app.monitoring.models import MonitoringCase, RegistryEntry
from app.monitoring.plan_forms import FollowUpForm, IntervalForm, ParentContactForm
from app.monitoring.plan_models import ContactWay
from app.monitoring.services import CaseClosed, CaseError, PupilHasOpenCase, open_case_of
from app.monitoring.views import bp
from app.monitoring.views.common import fresh

P = Permission


def _overdue_counts() -> list[NavCount]:
    """The menu's and the home page's count of one's overdue follow-ups."""
    if not has_permission(current_user, P.MONITORING_FOLLOWUPS):
        return []
    count = followups.overdue_count(actor=current_user)
    return [NavCount(count=count, kind="danger" if count else "neutral", url=url_for("monitoring.followups"),
                     label=ngettext("%(num)d follow-up overdue", "%(num)d follow-ups overdue", count))]


register_nav_counts("monitoring.followups", _overdue_counts)


def _error(error: CaseError) -> str:
    if isinstance(error, CaseClosed):
        return _("The case is closed. Reopen it first.")
    if isinstance(error, PupilHasOpenCase):
        return _("This pupil has an open case: record the follow-up in the case.")
    if isinstance(error, followups.NotMonitored):
        return _("This pupil has no open case and no current registration: there is nothing to follow up.")
    return _("Fill in the required fields first.")


@bp.route("/monitoring/follow-ups", endpoint="followups")
@require(P.MONITORING_FOLLOWUPS)
def followups_page() -> str:
    rows, counts = followups.read_dashboard(actor=current_user)
    day = followups.today()
    return render_template("monitoring/plans/followups.html", rows=rows, counts=counts, today=day,
                           overdue=[r for r in rows if r.overdue(day)],
                           upcoming=[r for r in rows if not r.overdue(day)])


def _may(case: MonitoringCase, permission: Permission) -> bool:
    return not case.is_closed and db.session.execute(
        visible_cases(current_user, permission).where(MonitoringCase.id == case.id)).first() is not None


def _case_followups_page(case: MonitoringCase, status: int = 200, form: FollowUpForm | None = None,
                         interval_form: IntervalForm | None = None,
                         contact_form: ParentContactForm | None = None) -> tuple[str, int]:
    from app.monitoring.services import read_case

    read_case(actor=current_user, case=case)
    interval, setting = followups.interval_of(case)
    return render_template(
        "monitoring/plans/case_followups.html", case=case, pupil=case.pupil, rows=followups.followups_of(case=case),
        due_on=followups.case_due(case), today=followups.today(), interval=interval, own_interval=setting is not None,
        form=form or fresh(FollowUpForm, "followup", done_on=followups.today()),
        interval_form=interval_form or fresh(IntervalForm, "interval", days=interval,
                                             version=setting.version if setting else None),
        can_record=_may(case, P.MONITORING_CASE_NOTE), can_manage=_may(case, P.MONITORING_CASE_MANAGE),
        contact_form=contact_form or fresh(ParentContactForm, "contact", contacted_on=followups.today()),
        contacts=followups.contacts_of(case), ways=plan_labels.CONTACT_WAY), status


@bp.route("/monitoring/cases/<case_uuid>/follow-ups", methods=["GET", "POST"])
@require(P.MONITORING_CASE_NOTE)
def case_followups(case_uuid: str) -> tuple[str, int] | Response:
    case = get_case_or_404(current_user, case_uuid, P.MONITORING_CASE_NOTE)
    if request.method == "GET":
        return _case_followups_page(case)
    form = FollowUpForm(prefix="followup")
    if not form.validate_on_submit():
        return _case_followups_page(case, 400, form=form)
    try:
        followups.record_followup(actor=current_user, pupil=case.pupil, case=case, done_on=form.done_on.data,
                                  done=form.done.data, outcome=form.outcome.data or "", next_on=form.next_on.data)
    except CaseError as error:
        flash(_error(error), "error")
        return _case_followups_page(case, 400, form=form)
    flash(_("Follow-up recorded."), "success")
    return redirect(url_for("monitoring.case_followups", case_uuid=case.uuid))


@bp.route("/monitoring/cases/<case_uuid>/follow-ups/interval", methods=["POST"])
@require(P.MONITORING_CASE_MANAGE)
def case_followup_interval(case_uuid: str) -> tuple[str, int] | Response:
    case = get_case_or_404(current_user, case_uuid, P.MONITORING_CASE_MANAGE)
    form = IntervalForm(prefix="interval")
    if not form.validate_on_submit():
        return _case_followups_page(case, 400, interval_form=form)
    try:
        followups.set_interval(actor=current_user, case=case, version=form.version.data, days=form.days.data)
    except EditConflict as conflict:
        return render_conflict(title=_("Someone changed the follow-up interval while you were editing"), form=form,
                               action=request.path, back=url_for("monitoring.case_followups", case_uuid=case.uuid),
                               rows=[(_("Days between follow-ups"), form.days.data, conflict.record.interval_days)],
                               record=conflict.record)
    except CaseError as error:
        flash(_error(error), "error")
        return _case_followups_page(case, 400, interval_form=form)
    flash(_("Follow-up interval saved."), "success")
    return redirect(url_for("monitoring.case_followups", case_uuid=case.uuid))


@bp.route("/monitoring/pupils/<pupil_uuid>/follow-ups", methods=["GET", "POST"])
@require(P.MONITORING_REGISTRY_MANAGE)
def pupil_followups(pupil_uuid: str) -> tuple[str, int] | Response:
    pupil = get_pupil_or_404(current_user, pupil_uuid, P.MONITORING_REGISTRY_MANAGE)
    form = FollowUpForm(prefix="followup") if request.method == "POST" else fresh(
        FollowUpForm, "followup", done_on=followups.today())
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                followups.record_followup(actor=current_user, pupil=pupil, case=None, done_on=form.done_on.data,
                                          done=form.done.data, outcome=form.outcome.data or "",
                                          next_on=form.next_on.data)
            except CaseError as error:
                flash(_error(error), "error")
            else:
                flash(_("Follow-up recorded."), "success")
                return redirect(url_for("monitoring.pupil_followups", pupil_uuid=pupil.uuid))
        status = 400
    from app.monitoring.registry import registry_of

    registry_of(actor=current_user, pupil=pupil)  # audits the reading of the pupil's monitoring records
    registered = db.session.execute(select(func.count()).select_from(RegistryEntry).where(
        RegistryEntry.pupil_id == pupil.id, RegistryEntry.ended_on.is_(None))).scalar_one() > 0
    open_case = open_case_of(pupil.id)
    return render_template("monitoring/plans/pupil_followups.html", pupil=pupil, form=form,
                           rows=followups.followups_of(pupil_id=pupil.id), registered=registered,
                           has_case=open_case is not None), status


@bp.route("/monitoring/cases/<case_uuid>/parent-contacts", methods=["POST"])
@require(P.MONITORING_CASE_NOTE)
def parent_contact(case_uuid: str) -> tuple[str, int] | Response:
    case = get_case_or_404(current_user, case_uuid, P.MONITORING_CASE_NOTE)
    form = ParentContactForm(prefix="contact")
    if not form.validate_on_submit():
        return _case_followups_page(case, 400, contact_form=form)
    try:
        followups.record_parent_contact(actor=current_user, case=case, contacted_on=form.contacted_on.data,
                                        way=ContactWay(form.way.data), summary=form.summary.data)
    except CaseError as error:
        flash(_error(error), "error")
        return _case_followups_page(case, 400, contact_form=form)
    flash(_("Contact with parents recorded."), "success")
    return redirect(url_for("monitoring.case_followups", case_uuid=case.uuid))


# --- chronology ---------------------------------------------------------------------------------------------------


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@bp.route("/monitoring/pupils/<pupil_uuid>/chronology")
@require(P.MONITORING_CHRONOLOGY)
def chronology(pupil_uuid: str) -> str:
    pupil = get_pupil_or_404(current_user, pupil_uuid, P.MONITORING_CHRONOLOGY)
    allowed = chronology_services.allowed_types(current_user)
    chosen = {t for t in allowed if t.value in request.args.getlist("type")}
    start, end = _date_arg("from"), _date_arg("to")
    page = chronology_services.chronology_page(actor=current_user, pupil=pupil, types=chosen or None, start=start,
                                               end=end)
    earlier = None
    if page.earlier_to is not None:
        args: dict[str, Any] = {"type": [t.value for t in chosen], "to": page.earlier_to.isoformat()}
        if start is not None:
            args["from"] = start.isoformat()
        earlier = url_for("monitoring.chronology", pupil_uuid=pupil.uuid, **args)
    names = {kind: str(words) for kind, words in plan_labels.entry_types().items()}  # once, not per line
    return render_template("monitoring/plans/chronology.html", pupil=pupil, entries=page.entries, allowed=allowed,
                           chosen=chosen, start=start, end=end, names=names, earlier=earlier,
                           earlier_to=page.earlier_to)
