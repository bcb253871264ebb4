"""The admin page of the roster sync from Kundelik: run it for a school, watch its progress, read the reports.

An admin works on any school, a director on their own (the file import's rule); another school's pages and runs
answer an audited 404. The page runs the sync under the signed-in person's own kept Kundelik sign-in.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.admin.forms import ConfirmForm, choices
from app.auth.models import User
from app.auth.permissions import Permission, get_school_or_404, require, school_scope, scoped_or_404, visible_schools
from app.core import audit
from app.core.audit import AuditAction
from app.core.models import Pupil, School
from app.core.routing import db_int
from app.extensions import db
from app.kundelik import sync, sync_labels
from app.kundelik.models import KundelikToken
from app.kundelik.runs import KundelikSyncRun, RunStatus
from app.roster import problems
from app.roster.forms import SchoolChoiceForm

bp = Blueprint("kundelik_sync", __name__, url_prefix="/kundelik/sync", template_folder="templates")

P = Permission.ROSTER_SYNC
#: Runs listed on a school's page.
RECENT = 10


def _get_run_or_404(run_uuid: str) -> KundelikSyncRun:
    """A run of a school in the user's scope; otherwise an audited 404 (in the run's school)."""
    schools = select(School.id).where(school_scope(current_user, P))
    query = select(KundelikSyncRun).where(KundelikSyncRun.uuid == run_uuid, KundelikSyncRun.school_id.in_(schools))
    return scoped_or_404(current_user, query, permission=P, object_type="kundelik_sync_run", object_id=run_uuid,
                         school_of=select(KundelikSyncRun.school_id).where(KundelikSyncRun.uuid == run_uuid))


def _has_token(user: User) -> bool:
    return db.session.execute(select(KundelikToken.id).where(KundelikToken.user_id == user.id)).first() is not None


@bp.route("/")
@require(P)
def index() -> str:
    schools = list(db.session.execute(visible_schools(current_user, P).order_by(School.id)).scalars())
    chooser = SchoolChoiceForm(request.args)
    chooser.school_id.choices = choices([(0, _("Choose a school")), *((s.id, s.name) for s in schools)])
    school_id = request.args.get("school_id", type=db_int) or (schools[0].id if len(schools) == 1 else None)
    school = get_school_or_404(current_user, school_id, P) if school_id else None
    runs = list(db.session.execute(select(KundelikSyncRun).where(KundelikSyncRun.school_id == school.id)
                                   .order_by(KundelikSyncRun.id.desc()).limit(RECENT)).scalars()) if school else []
    stale_before = sync.stale_before()
    live = next((r for r in runs if r.shown_status(stale_before) == RunStatus.RUNNING), None)
    return render_template("kundelik/sync_index.html", schools=schools, chooser=chooser, school=school, runs=runs,
                           form=ConfirmForm(), has_token=_has_token(current_user), labels=sync_labels,
                           stale_before=stale_before, live=live)


@bp.route("/schools/<int:school_id>/runs", methods=["POST"])
@require(P)
def start(school_id: int) -> Response:
    school = get_school_or_404(current_user, school_id, P)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form expired. Try again."), "error")
        return redirect(url_for("kundelik_sync.index", school_id=school.id))
    try:
        run = sync.start_run(actor=current_user, school=school, via="web")
    except sync.AlreadyRunning as running:
        flash(sync_labels.already_running(running.run), "info")
        return redirect(url_for("kundelik_sync.run", run_uuid=running.run.uuid))
    owner = sync.token_owner(school=school, username=current_user.username)
    if current_app.config["SENIM_KUNDELIK_SYNC_BACKGROUND"]:
        sync.run_in_background(current_app._get_current_object(), run.id,  # type: ignore[attr-defined]
                               current_user.id, owner.id if owner else None)
    else:
        sync.run_sync(run=run, actor=current_user, owner=owner)
    return redirect(url_for("kundelik_sync.run", run_uuid=run.uuid))


def _names(run: KundelikSyncRun) -> dict[int, str]:
    """Short names of the run's moved and departed pupils (of its school), for the report."""
    report = run.report
    ids = sorted({int(item["pupil"]) for key in ("moved", "left") for item in report.get(key, [])})
    if not ids:
        return {}
    pupils = db.session.execute(select(Pupil).where(Pupil.id.in_(ids), Pupil.school_id == run.school_id)).scalars()
    return {p.id: p.short_name for p in pupils}


@bp.route("/runs/<run_uuid>")
@require(P)
def run(run_uuid: str) -> str:
    found = _get_run_or_404(run_uuid)
    names = _names(found) if found.finished else {}
    if names:
        audit.record_read(current_user, AuditAction.KUNDELIK_SYNC_REPORT, school_id=found.school_id,
                          object_type="kundelik_sync_run", object_id=found.uuid, details={"pupils": len(names)})
    school = db.session.get_one(School, found.school_id)
    report = found.report
    state = found.shown_status(sync.stale_before())
    return render_template("kundelik/sync_run.html", run=found, school=school, report=report, names=names,
                           labels=sync_labels, problem_message=lambda item: problems.message(
                               problems.Problem.from_dict(item)), state=state, running=state == RunStatus.RUNNING,
                           reason="interrupted" if state == RunStatus.INTERRUPTED else found.error,
                           started_by=sync_labels.started_by(found))
