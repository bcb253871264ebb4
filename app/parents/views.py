"""Parents' pages: my children (the parent's home), a child's page (consent, coming screenings, the psychologist's
summaries, meetings, school, rights, articles chosen for them), asking for a meeting. The psychologist's side of
meetings and summaries is in :mod:`app.parents.staff_views`.

Guidance articles live in the guidance library (app/guidance), which also answers the old /parents/guidance URLs.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth.permissions import Permission, get_meeting_or_404, get_pupil_or_404, has_permission, require
from app.parents import meetings, services, summaries
from app.parents.forms import EmptyForm, MeetingRequestForm

bp = Blueprint("parents", __name__, url_prefix="/parents", template_folder="templates")


@bp.route("/children")
@require(Permission.PARENT_CHILD)
def children() -> str:
    return render_template("parents/children.html", children=services.home(actor=current_user),
                           can_meet=has_permission(current_user, Permission.PARENT_MEETING_REQUEST))


@bp.route("/child/<pupil_uuid>")
@require(Permission.PARENT_CHILD)
def child(pupil_uuid: str) -> str:
    pupil = get_pupil_or_404(current_user, pupil_uuid, Permission.PARENT_CHILD)
    summary = services.read_child(actor=current_user, pupil=pupil)
    can_consent = has_permission(current_user, Permission.CONSENT_OWN)
    can_meet = has_permission(current_user, Permission.PARENT_MEETING_REQUEST)
    return render_template("parents/child.html", child=summary,
                           can_consent=can_consent, can_meet=can_meet, cancel_form=EmptyForm(),
                           summaries=summaries.for_parent(actor=current_user, pupil=pupil),
                           meetings=meetings.parent_requests(actor=current_user, pupil=pupil) if can_meet else [])


@bp.route("/meetings/new", methods=["GET", "POST"])
@require(Permission.PARENT_MEETING_REQUEST)
def meeting_new() -> str | Response | tuple[str, int]:
    own = services.my_children(actor=current_user)
    if not own:
        return redirect(url_for("parents.children"))
    form = MeetingRequestForm()
    form.child.choices = [(c.uuid, c.name) for c in own]
    chosen = form.child.data if form.is_submitted() else request.args.get("child")
    if chosen and chosen not in {c.uuid for c in own}:
        get_pupil_or_404(current_user, str(chosen)[:64], Permission.PARENT_MEETING_REQUEST)  # audited 404
    if not form.is_submitted():
        form.child.data = chosen or own[0].uuid
    status = 200
    if form.validate_on_submit():
        pupil = get_pupil_or_404(current_user, form.child.data, Permission.PARENT_MEETING_REQUEST)
        try:
            meetings.request_meeting(actor=current_user, pupil=pupil, times=form.times.data,
                                     message=form.message.data)
        except meetings.MeetingThrottled:
            form.times.errors.append(_("You have sent several requests today. Please wait for an answer, or call "
                                       "the school."))
            status = 429
        except meetings.AlreadyWaiting:
            form.times.errors.append(_("Your earlier request about this child is still waiting for the "
                                       "psychologist. You can cancel it on the child's page."))
        except meetings.MeetingError:
            form.times.errors.append(_("Please write when suits you (at most %(num)d characters).",
                                       num=meetings.TIMES_MAX))
        else:
            flash(_("Your request is sent. The school psychologist will answer here and by e-mail."), "success")
            return redirect(url_for("parents.child", pupil_uuid=pupil.uuid))
    return render_template("parents/meeting_new.html", form=form), status


@bp.route("/meetings/<meeting_uuid>/cancel", methods=["POST"])
@require(Permission.PARENT_MEETING_REQUEST)
def meeting_cancel(meeting_uuid: str) -> Response:
    meeting = get_meeting_or_404(current_user, meeting_uuid, Permission.PARENT_MEETING_REQUEST)
    if EmptyForm().validate_on_submit():
        try:
            meetings.cancel(actor=current_user, meeting=meeting)
        except meetings.NotOpen:
            flash(_("This request is already closed."), "error")
        else:
            flash(_("Your request is cancelled."), "success")
    return redirect(url_for("parents.child", pupil_uuid=meeting.pupil.uuid))


from app.parents import staff_views  # noqa: E402, F401  (the psychologist's pages, on this blueprint)
