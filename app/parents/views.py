"""Parents' pages: my children (the parent's home), a child's page (consent, coming screenings, the psychologist's
summaries, meetings, school, rights, articles chosen for them), asking for a meeting and answering a proposed time
(accept it, ask for another, cancel). The psychologist's side of
meetings and summaries is in :mod:`app.parents.staff_views`.

Guidance articles live in the guidance library (app/guidance), which also answers the old /parents/guidance URLs.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth.permissions import Permission, get_meeting_or_404, get_pupil_or_404, has_permission, require
from app.core.models import Pupil
from app.monitoring.conflicts import EditConflict
from app.parents import meetings, services, summaries
from app.parents.forms import MeetingRequestForm, MeetingStepForm, OtherTimeForm
from app.parents.models import MeetingRequest

bp = Blueprint("parents", __name__, url_prefix="/parents", template_folder="templates")


@bp.route("/children")
@require(Permission.PARENT_CHILD)
def children() -> str:
    return render_template("parents/children.html", children=services.home(actor=current_user),
                           can_meet=has_permission(current_user, Permission.PARENT_MEETING_REQUEST))


def _step_forms(meeting_uuid: str, version: int, *, other: OtherTimeForm | None = None) -> dict[str, Any]:
    """The parent's forms of one meeting request, each with its own prefix (a page lists several requests)."""
    forms: dict[str, Any] = {"accept": MeetingStepForm(prefix=f"accept-{meeting_uuid}"),
                             "cancel": MeetingStepForm(prefix=f"cancel-{meeting_uuid}"),
                             "other": other or OtherTimeForm(prefix=f"other-{meeting_uuid}")}
    for form in forms.values():
        if form is not other:
            form.version.data = version
    return forms


def _render_child(pupil: Pupil, *, other: OtherTimeForm | None = None, other_uuid: str | None = None,
                  status: int = 200) -> tuple[str, int]:
    summary = services.read_child(actor=current_user, pupil=pupil)
    can_consent = has_permission(current_user, Permission.CONSENT_OWN)
    can_meet = has_permission(current_user, Permission.PARENT_MEETING_REQUEST)
    rows = meetings.parent_requests(actor=current_user, pupil=pupil) if can_meet else []
    step_forms = {m.uuid: _step_forms(m.uuid, m.version, other=other if m.uuid == other_uuid else None)
                  for m in rows if m.is_open}
    return render_template("parents/child.html", child=summary, can_consent=can_consent, can_meet=can_meet,
                           step_forms=step_forms, summaries=summaries.for_parent(actor=current_user, pupil=pupil),
                           meetings=rows), status


@bp.route("/child/<pupil_uuid>")
@require(Permission.PARENT_CHILD)
def child(pupil_uuid: str) -> tuple[str, int]:
    pupil = get_pupil_or_404(current_user, pupil_uuid, Permission.PARENT_CHILD)
    return _render_child(pupil)


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


def _own_meeting(meeting_uuid: str) -> MeetingRequest:
    """The parent's own request (another parent's, or one about a child no longer theirs: audited 404)."""
    return get_meeting_or_404(current_user, meeting_uuid, Permission.PARENT_MEETING_REQUEST)


def _back(meeting: MeetingRequest) -> Response:
    return redirect(url_for("parents.child", pupil_uuid=meeting.pupil.uuid) + "#meetings-title")


def _changed_meanwhile() -> None:
    flash(_("The school psychologist changed this request while the page was open. Please look at it again."),
          "error")


@bp.route("/meetings/<meeting_uuid>/cancel", methods=["POST"])
@require(Permission.PARENT_MEETING_REQUEST)
def meeting_cancel(meeting_uuid: str) -> Response:
    meeting = _own_meeting(meeting_uuid)
    form = MeetingStepForm(prefix=f"cancel-{meeting.uuid}")
    if form.validate_on_submit():
        try:
            meetings.cancel(actor=current_user, meeting=meeting, version=form.version.data)
        except EditConflict:
            _changed_meanwhile()
        except meetings.NotOpen:
            flash(_("This request is already closed."), "error")
        else:
            flash(_("Your request is cancelled."), "success")
    return _back(meeting)


@bp.route("/meetings/<meeting_uuid>/accept", methods=["POST"])
@require(Permission.PARENT_MEETING_REQUEST)
def meeting_accept(meeting_uuid: str) -> Response:
    meeting = _own_meeting(meeting_uuid)
    form = MeetingStepForm(prefix=f"accept-{meeting.uuid}")
    if form.validate_on_submit():
        try:
            meetings.accept(actor=current_user, meeting=meeting, version=form.version.data)
        except EditConflict:
            _changed_meanwhile()
        except meetings.TimePassed:
            flash(_("This time has already passed. Please ask for another time."), "error")
        except meetings.MeetingError:
            flash(_("There is no proposed time to accept on this request."), "error")
        else:
            flash(_("You accepted the time. The meeting is confirmed; the psychologist is told."), "success")
    return _back(meeting)


@bp.route("/meetings/<meeting_uuid>/other-time", methods=["POST"])
@require(Permission.PARENT_MEETING_REQUEST)
def meeting_other_time(meeting_uuid: str) -> Response | tuple[str, int]:
    meeting = _own_meeting(meeting_uuid)
    form = OtherTimeForm(prefix=f"other-{meeting.uuid}")
    if form.validate_on_submit():
        try:
            meetings.ask_other_time(actor=current_user, meeting=meeting, version=form.version.data,
                                    note=form.note.data)
        except EditConflict:
            _changed_meanwhile()
        except meetings.NotProposed:
            flash(_("There is no proposed time to change on this request."), "error")
        except meetings.MeetingError:
            form.note.errors.append(_("Please write at most %(num)d characters.", num=meetings.NOTE_MAX))
            return _render_child(meeting.pupil, other=form, other_uuid=meeting.uuid, status=400)
        else:
            flash(_("Your request for another time is sent. The psychologist will propose a new time."),
                  "success")
        return _back(meeting)
    if form.is_submitted() and form.note.errors:
        return _render_child(meeting.pupil, other=form, other_uuid=meeting.uuid, status=400)
    return _back(meeting)


from app.parents import staff_views  # noqa: E402, F401  (the psychologist's pages, on this blueprint)
