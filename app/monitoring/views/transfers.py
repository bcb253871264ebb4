"""Case transfers: the sending side proposes; the receiving school's psychologists see what waits and answer."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.auth.permissions import (
    Permission,
    can_propose_transfer,
    deny_404,
    get_case_or_404,
    get_transfer_or_404,
    require,
    visible_transfers,
)
from app.core.conflict_page import render_conflict
from app.core.models import School
from app.extensions import db
from app.monitoring import transfers
from app.monitoring.conflicts import EditConflict
from app.monitoring.models import MonitoringCase
from app.monitoring.referral_forms import TransferAnswerForm, TransferDeclineForm, TransferForm
from app.monitoring.referral_models import CaseTransfer
from app.monitoring.views import bp
from app.screening.forms import choices

P = Permission


def _error(error: transfers.TransferError) -> str:
    if isinstance(error, transfers.SameSchool):
        return _("The case is already at that school.")
    if isinstance(error, transfers.AlreadyPending):
        return _("A transfer of this case is already waiting for an answer.")
    if isinstance(error, transfers.ClosedCase):
        return _("The case is closed. Reopen it first.")
    if isinstance(error, transfers.ReasonMissing):
        return _("Write why you decline.")
    return _("This transfer was already answered.")


@bp.route("/monitoring/cases/<case_uuid>/transfer", methods=["GET", "POST"])
@require(P.MONITORING_CASE_READ)
def transfer_propose(case_uuid: str) -> str | Response:
    case = get_case_or_404(current_user, case_uuid)
    if not can_propose_transfer(current_user, case):
        deny_404(current_user, permission=P.MONITORING_CASE_READ, object_type="case", object_id=case_uuid,
                 pupil_id=case.pupil_id, school_of=select(MonitoringCase.school_id).where(MonitoringCase.id == case.id))
    form = TransferForm()
    schools = transfers.target_schools(case)
    form.to_school.choices = choices((s.id, s.name) for s in schools)
    if form.validate_on_submit():
        try:
            transfers.propose(actor=current_user, case=case, to_school=db.session.get_one(School, form.to_school.data))
        except transfers.TransferError as error:
            flash(_error(error), "error")
        else:
            flash(_("Transfer proposed. The new school's psychologist will accept or decline it."), "success")
            return redirect(url_for("monitoring.case_detail", case_uuid=case.uuid))
    elif request.method == "GET" and case.pupil.school_id != case.school_id:
        form.to_school.data = case.pupil.school_id  # the pupil's record is at the new school already
    return render_template("monitoring/transfers/propose.html", case=case, pupil=case.pupil, form=form,
                           pending=transfers.pending_transfer(case))


@bp.route("/monitoring/cases/<case_uuid>/transfer/withdraw", methods=["POST"])
@require(P.MONITORING_CASE_READ)
def transfer_withdraw(case_uuid: str) -> Response | tuple[str, int]:
    case = get_case_or_404(current_user, case_uuid)
    transfer = transfers.pending_transfer(case)
    if not can_propose_transfer(current_user, case) or transfer is None:
        deny_404(current_user, permission=P.MONITORING_CASE_READ, object_type="case", object_id=case_uuid,
                 pupil_id=case.pupil_id, school_of=select(MonitoringCase.school_id).where(MonitoringCase.id == case.id))
    form = TransferAnswerForm(prefix="withdraw")
    back = url_for("monitoring.case_detail", case_uuid=case.uuid)
    if not form.validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return redirect(back)
    try:
        transfers.withdraw(actor=current_user, transfer=transfer, version=form.version.data)
    except EditConflict:
        return render_conflict(title=_("Someone answered this transfer first"), form=form, action=request.path,
                               back=back, rows=[], record=transfer)
    except transfers.TransferError as error:
        flash(_error(error), "error")
        return redirect(back)
    flash(_("Transfer withdrawn. The case stays at this school."), "success")
    return redirect(back)


@bp.route("/monitoring/transfers")
@require(P.MONITORING_CASE_MANAGE)
def transfer_inbox() -> str:
    waiting = list(db.session.execute(visible_transfers(current_user).order_by(CaseTransfer.proposed_at)).scalars())
    rows = transfers.waiting_for(actor=current_user, transfers=waiting)
    return render_template("monitoring/transfers/inbox.html", rows=rows, answer_form=TransferAnswerForm(),
                           decline_form=TransferDeclineForm(prefix="decline"))


def _conflict(transfer: CaseTransfer, form: TransferAnswerForm | TransferDeclineForm) -> tuple[str, int]:
    return render_conflict(title=_("Someone answered this transfer first"), form=form, action=request.path,
                           back=url_for("monitoring.transfer_inbox"), rows=[], record=transfer)


@bp.route("/monitoring/transfers/<transfer_uuid>/accept", methods=["POST"])
@require(P.MONITORING_CASE_MANAGE)
def transfer_accept(transfer_uuid: str) -> Response | tuple[str, int]:
    transfer = get_transfer_or_404(current_user, transfer_uuid)
    form = TransferAnswerForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return redirect(url_for("monitoring.transfer_inbox"))
    try:
        case = transfers.accept(actor=current_user, transfer=transfer, version=form.version.data)
    except EditConflict:
        return _conflict(transfer, form)
    except transfers.TransferError as error:
        flash(_error(error), "error")
        return redirect(url_for("monitoring.transfer_inbox"))
    flash(_("You now own this case."), "success")
    return redirect(url_for("monitoring.case_detail", case_uuid=case.uuid))


@bp.route("/monitoring/transfers/<transfer_uuid>/decline", methods=["POST"])
@require(P.MONITORING_CASE_MANAGE)
def transfer_decline(transfer_uuid: str) -> Response | tuple[str, int]:
    transfer = get_transfer_or_404(current_user, transfer_uuid)
    form = TransferDeclineForm(prefix="decline")
    if not form.validate_on_submit():
        flash(_("Write why you decline."), "error")
        return redirect(url_for("monitoring.transfer_inbox"))
    try:
        transfers.decline(actor=current_user, transfer=transfer, version=form.version.data, reason=form.reason.data)
    except EditConflict:
        return _conflict(transfer, form)
    except transfers.TransferError as error:
        flash(_error(error), "error")
        return redirect(url_for("monitoring.transfer_inbox"))
    flash(_("Transfer declined. The case stays at its school."), "success")
    return redirect(url_for("monitoring.transfer_inbox"))
