"""The psychologist's side of the parent portal: parents' meeting requests (list with a menu count, propose a time
or decline, an accepted meeting as a calendar file), and summaries for a pupil's parents (write, release, take
back)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth.permissions import (
    Permission,
    get_meeting_or_404,
    get_pupil_or_404,
    get_summary_or_404,
    has_permission,
    require,
)
from app.core.models import Pupil
from app.core.security import DOWNLOAD_CSP
from app.core.web import NavCount, register_nav_counts
from app.monitoring.conflicts import EditConflict
from app.parents import meetings, summaries
from app.parents.forms import DeclineForm, EmptyForm, ReleaseForm, ScheduleForm, SummaryForm
from app.parents.models import MeetingRequest, MeetingStatus
from app.parents.views import bp

M = Permission.PARENT_MEETING_MANAGE
S = Permission.PARENT_SUMMARY_MANAGE


def _waiting_counts() -> list[NavCount]:
    """The menu's count of meeting requests waiting for an answer (information, not an alert)."""
    if not has_permission(current_user, M):
        return []
    count = meetings.waiting_count(actor=current_user)
    return [NavCount(count=count, kind="info", url=url_for("parents.meeting_list"),
                     label=ngettext("%(num)d request waiting", "%(num)d requests waiting", count))]


register_nav_counts("parents.meeting_list", _waiting_counts)


@bp.route("/meetings")
@require(M)
def meeting_list() -> str:
    return render_template("parents/meeting_list.html", rows=meetings.school_requests(actor=current_user))


def _render_meeting(meeting: MeetingRequest, schedule_form: ScheduleForm | None = None,
                    decline_form: DeclineForm | None = None, status: int = 200) -> tuple[str, int]:
    """The request's page; a form not given is a fresh one at the request's current version."""
    view = meetings.read_request(actor=current_user, meeting=meeting)
    schedule_form = schedule_form or ScheduleForm(prefix="schedule")
    decline_form = decline_form or DeclineForm(prefix="decline")
    for form in (schedule_form, decline_form):
        if not form.is_submitted():
            form.version.data = view.version
    return render_template("parents/meeting_detail.html", meeting=view, schedule_form=schedule_form,
                           decline_form=decline_form), status


def _conflict(meeting: MeetingRequest, form: ScheduleForm | DeclineForm) -> tuple[str, int]:
    """A stale form (the parent answered or cancelled meanwhile): the page as it is now, the typed values kept in
    a form at the current version, so that sending it again is a decision taken on what the page shows (409)."""
    form.version.data, form.version.raw_data = meeting.version, [str(meeting.version)]
    if meeting.status == MeetingStatus.CANCELLED.value:  # no form is shown below: say so, promise no kept text
        flash(_("The parent cancelled this request while the page was open. Nothing was sent."), "error")
    elif not meeting.is_open:
        flash(_("This request was declined while the page was open. Nothing was sent."), "error")
    else:
        flash(_("The parent changed this request while the page was open. Look at it again: your text is kept "
                "below."), "error")
    if isinstance(form, ScheduleForm):
        return _render_meeting(meeting, schedule_form=form, status=409)
    return _render_meeting(meeting, decline_form=form, status=409)


@bp.route("/meetings/<meeting_uuid>")
@require(M)
def meeting_detail(meeting_uuid: str) -> tuple[str, int]:
    meeting = get_meeting_or_404(current_user, meeting_uuid, M)
    return _render_meeting(meeting)


@bp.route("/meetings/<meeting_uuid>/calendar.ics")
@require(M)
def meeting_calendar(meeting_uuid: str) -> Response:
    meeting = get_meeting_or_404(current_user, meeting_uuid, M)
    try:
        body = meetings.calendar_file(meeting)
    except meetings.NotProposed:
        abort(404)
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": "attachment; filename=meeting.ics", "Content-Security-Policy": DOWNLOAD_CSP})


def _local(day: date, at: time) -> datetime:
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day, at, tzinfo=zone)


@bp.route("/meetings/<meeting_uuid>/schedule", methods=["POST"])
@require(M)
def meeting_schedule(meeting_uuid: str) -> Response | tuple[str, int]:
    meeting = get_meeting_or_404(current_user, meeting_uuid, M)
    form = ScheduleForm(prefix="schedule")
    if form.validate_on_submit():
        try:
            meetings.schedule(actor=current_user, meeting=meeting, version=form.version.data,
                              meeting_at=_local(form.day.data, form.time.data), reply=form.reply.data)
        except EditConflict:
            return _conflict(meeting, form)
        except meetings.NotOpen:
            flash(_("This request is closed: it was declined or cancelled."), "error")
        except meetings.MeetingError:
            form.day.errors.append(_("Choose a day and time that are still ahead."))
            return _render_meeting(meeting, schedule_form=form, status=400)
        else:
            flash(_("The time is proposed. The parent sees it in Senim, gets an e-mail and can accept it or ask "
                    "for another time."), "success")
        return redirect(url_for("parents.meeting_detail", meeting_uuid=meeting.uuid))
    return _render_meeting(meeting, schedule_form=form, status=400)


@bp.route("/meetings/<meeting_uuid>/decline", methods=["POST"])
@require(M)
def meeting_decline(meeting_uuid: str) -> Response | tuple[str, int]:
    meeting = get_meeting_or_404(current_user, meeting_uuid, M)
    form = DeclineForm(prefix="decline")
    if form.validate_on_submit():
        try:
            meetings.decline(actor=current_user, meeting=meeting, version=form.version.data, reply=form.reply.data)
        except EditConflict:
            return _conflict(meeting, form)
        except meetings.NotOpen:
            flash(_("This request is closed: it was declined or cancelled."), "error")
        except meetings.MeetingError:
            form.reply.errors.append(_("Write a message to the parent."))
            return _render_meeting(meeting, decline_form=form, status=400)
        else:
            flash(_("The request is declined. The parent sees your message."), "success")
        return redirect(url_for("parents.meeting_detail", meeting_uuid=meeting.uuid))
    return _render_meeting(meeting, decline_form=form, status=400)


# --- summaries for parents ---------------------------------------------------------------------------------


def _release_form(summary_uuid: str) -> ReleaseForm:
    """One release form per draft (its own prefix: the page's checkboxes need ids of their own)."""
    return ReleaseForm(prefix=f"release-{summary_uuid}")


def _render_summaries(pupil: Pupil, form: SummaryForm, status: int = 200) -> tuple[str, int]:
    rows = summaries.for_psychologist(actor=current_user, pupil=pupil)
    return render_template("parents/summaries.html", pupil=pupil, form=form, withdraw_form=EmptyForm(),
                           release_forms={s.uuid: _release_form(s.uuid) for s in rows if s.released_at is None},
                           rows=rows), status


@bp.route("/pupils/<pupil_uuid>/summaries", methods=["GET", "POST"])
@require(S)
def pupil_summaries(pupil_uuid: str) -> Response | tuple[str, int]:
    pupil = get_pupil_or_404(current_user, pupil_uuid, S)
    form = SummaryForm()
    if form.validate_on_submit():
        summaries.save(actor=current_user, pupil=pupil, summary=None, body=form.body.data)
        flash(_("Draft saved. Parents see it only after you release it."), "success")
        return redirect(url_for("parents.pupil_summaries", pupil_uuid=pupil.uuid))
    return _render_summaries(pupil, form, 400 if form.is_submitted() else 200)


@bp.route("/summaries/<summary_uuid>/edit", methods=["GET", "POST"])
@require(S)
def summary_edit(summary_uuid: str) -> Response | tuple[str, int]:
    summary = get_summary_or_404(current_user, summary_uuid, S)
    back = url_for("parents.pupil_summaries", pupil_uuid=summary.pupil.uuid)
    if summary.released:
        flash(_("A released summary cannot be changed. Take the release back first."), "error")
        return redirect(back)
    form = SummaryForm()
    if form.validate_on_submit():
        summaries.save(actor=current_user, pupil=summary.pupil, summary=summary, body=form.body.data)
        flash(_("Draft saved. Parents see it only after you release it."), "success")
        return redirect(back)
    if not form.is_submitted():
        form.body.data = summary.body
    return render_template("parents/summary_edit.html", form=form, summary=summary, back=back), (
        400 if form.is_submitted() else 200)


@bp.route("/summaries/<summary_uuid>/release", methods=["POST"])
@require(S)
def summary_release(summary_uuid: str) -> Response:
    summary = get_summary_or_404(current_user, summary_uuid, S)
    if _release_form(summary.uuid).validate_on_submit() and not summary.released:
        summaries.release(actor=current_user, summary=summary)
        flash(_("Released: the parents can read this summary now."), "success")
    elif not summary.released:
        flash(_("Tick the box to confirm the text may be shown to the parents."), "error")
    return redirect(url_for("parents.pupil_summaries", pupil_uuid=summary.pupil.uuid))


@bp.route("/summaries/<summary_uuid>/withdraw", methods=["POST"])
@require(S)
def summary_withdraw(summary_uuid: str) -> Response:
    summary = get_summary_or_404(current_user, summary_uuid, S)
    if EmptyForm().validate_on_submit() and summary.released:
        summaries.withdraw(actor=current_user, summary=summary)
        flash(_("The parents no longer see this summary. It is a draft again."), "success")
    return redirect(url_for("parents.pupil_summaries", pupil_uuid=summary.pupil.uuid))
