"""Seminar pages: the audience's list, a seminar's page, registering, the calendar file; the organiser's list,
form, registrants and attendance, materials, cancelling; the counts for school administrators and officers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth.permissions import Permission, get_seminar_or_404, require, seminar_places
from app.core.conflict_page import render_conflict
from app.core.i18n import format_short_datetime
from app.core.models import District, Region, School, utcnow
from app.core.routing import db_int
from app.core.security import DOWNLOAD_CSP
from app.extensions import db
from app.monitoring.conflicts import EditConflict
from app.seminars import services
from app.seminars.forms import (
    AUDIENCE_LABELS,
    LANGUAGE_LABELS,
    ActionForm,
    AttendanceForm,
    CancelForm,
    MaterialsForm,
    SeminarForm,
)
from app.seminars.models import Seminar

bp = Blueprint("seminars", __name__, template_folder="templates")


@bp.record_once
def _register(_state: Any) -> None:
    from app.core import demo
    from app.seminars.demo import create_demo_seminars

    demo.register_after_create("seminars", create_demo_seminars)

P = Permission
ATTEND, MANAGE = P.SEMINARS_ATTEND, P.SEMINARS_MANAGE


def _labels() -> dict[str, Any]:
    return {"audience": AUDIENCE_LABELS, "language": LANGUAGE_LABELS}


# --- the audience --------------------------------------------------------------------------------------------


@bp.route("/seminars")
@require(ATTEND)
def index() -> str:
    now = utcnow()
    return render_template("seminars/index.html", upcoming=services.upcoming_for(current_user, now),
                           past=services.past_registered(current_user, now),
                           mine=services.registered_ids(current_user), labels=_labels(), now=now)


@bp.route("/seminars/<seminar_uuid>")
@require(ATTEND)
def detail(seminar_uuid: str) -> str:
    seminar = get_seminar_or_404(current_user, seminar_uuid, ATTEND)
    registration = services.registration_of(current_user, seminar)
    return render_template("seminars/detail.html", seminar=seminar, registration=registration,
                           open=services.open_for_registration(seminar), form=ActionForm(), labels=_labels(),
                           changed_at=services.changed_since(registration), now=utcnow())


@bp.route("/seminars/<seminar_uuid>/register", methods=["POST"])
@require(ATTEND)
def register(seminar_uuid: str) -> Response:
    seminar = get_seminar_or_404(current_user, seminar_uuid, ATTEND)
    if ActionForm().validate_on_submit():
        try:
            services.register(actor=current_user, seminar=seminar)
        except services.RegistrationRefused as refused:
            flash({"full": _("Sorry, all places are taken."),
                   "already": _("You are already registered."),
                   "closed": _("Registration for this seminar is closed.")}[refused.reason], "warning")
        else:
            flash(_("You are registered. We will remind you before the seminar."), "success")
    return redirect(url_for("seminars.detail", seminar_uuid=seminar_uuid))


@bp.route("/seminars/<seminar_uuid>/unregister", methods=["POST"])
@require(ATTEND)
def unregister(seminar_uuid: str) -> Response:
    seminar = get_seminar_or_404(current_user, seminar_uuid, ATTEND)
    if ActionForm().validate_on_submit():
        if services.unregister(actor=current_user, seminar=seminar):
            flash(_("Your registration is cancelled."), "success")
        else:
            flash(_("There was no registration to cancel."), "warning")
    return redirect(url_for("seminars.detail", seminar_uuid=seminar_uuid))


@bp.route("/seminars/<seminar_uuid>/calendar.ics")
@require(ATTEND)
def calendar(seminar_uuid: str) -> Response:
    seminar = get_seminar_or_404(current_user, seminar_uuid, ATTEND)
    registered = services.registration_of(current_user, seminar) is not None
    return Response(services.ics(seminar, with_link=registered), mimetype="text/calendar", headers={
        "Content-Disposition": "attachment; filename=seminar.ics", "Content-Security-Policy": DOWNLOAD_CSP})


# --- organisers ----------------------------------------------------------------------------------------------


def _place_label(kind: str, place_id: int) -> str:
    if kind == "school":
        return db.session.get_one(School, place_id).name
    if kind == "district":
        return _("%(name)s: all schools of the district", name=db.session.get_one(District, place_id).name)
    return _("%(name)s: all schools of the region", name=db.session.get_one(Region, place_id).name)


def _fill(form: SeminarForm) -> None:
    form.where.choices = [(f"{kind}:{pid}", _place_label(kind, pid)) for kind, pid in seminar_places(current_user)]


def _where(value: str | None) -> tuple[str, int]:
    kind, _sep, number = (value or "").partition(":")
    try:
        return kind, db_int(number)
    except ValueError:
        return kind, -1


def _input(form: SeminarForm) -> services.SeminarInput:
    day = form.day.data
    starts = services.from_local(datetime.combine(day, form.starts.data))
    ends = services.from_local(datetime.combine(day, form.ends.data))
    closes = services.from_local(form.closes.data) if form.closes.data else starts
    return services.SeminarInput(
        title=form.title.data or "", description=form.description.data or "", audience=form.audience.data or "",
        where=_where(form.where.data), starts_at=starts, ends_at=ends, online_url=form.online_url.data or "",
        place=form.place.data or "", capacity=int(form.capacity.data or 0), registration_closes_at=closes,
        language=form.language.data or "")


def _refuse(form: Any, problem: services.InvalidSeminar) -> None:
    field = getattr(form, problem.field, None)
    if field is not None:
        field.errors = [*field.errors, problem.message]
    else:
        form.form_errors.append(problem.message)


@bp.route("/seminars/organise")
@require(MANAGE)
def organise() -> str:
    return render_template("seminars/organise.html", rows=services.organiser_rows(current_user), labels=_labels(),
                           now=utcnow())


@bp.route("/seminars/organise/new", methods=["GET", "POST"])
@require(MANAGE)
def new() -> str | Response:
    form = SeminarForm()
    _fill(form)
    if request.method == "GET":
        form.language.data = str(current_user.preferred_language or "kk")
    if form.validate_on_submit():
        try:
            seminar = services.create_seminar(actor=current_user, data=_input(form))
        except services.InvalidSeminar as problem:
            _refuse(form, problem)
        else:
            flash(_("Seminar scheduled."), "success")
            return _to_manage(seminar)
    return render_template("seminars/form.html", form=form, seminar=None)


def _managed(seminar_uuid: str) -> Seminar:
    return get_seminar_or_404(current_user, seminar_uuid, MANAGE)  # type: ignore[no-any-return]


def _to_manage(seminar: Seminar) -> Response:
    return redirect(url_for("seminars.manage", seminar_uuid=seminar.uuid))


def _still_on(seminar_uuid: str, message: str) -> tuple[Seminar, Response | None]:
    """The seminar to change, and (if it is cancelled) the way back to its page with ``message``."""
    seminar = _managed(seminar_uuid)
    if not seminar.cancelled:
        return seminar, None
    flash(message, "warning")
    return seminar, _to_manage(seminar)


@bp.route("/seminars/organise/<seminar_uuid>")
@require(MANAGE)
def manage(seminar_uuid: str) -> str:
    seminar = _managed(seminar_uuid)
    now = utcnow()
    registrations = services.registrations_of(seminar)
    form = _attendance_form(registrations, formdata=None, data={"version": seminar.version})
    return render_template("seminars/manage.html", seminar=seminar, registrations=registrations,
                           started=seminar.starts_at <= now, form=form, labels=_labels(), now=now)


def _when(moment: datetime) -> str:
    return format_short_datetime(moment)


def _rows(values: services.SeminarInput | Seminar) -> list[tuple[str, Any]]:
    where = values.where if isinstance(values, services.SeminarInput) else services.where_of(values)
    return [
        (_("Title"), values.title), (_("Description"), values.description),
        (_("Who it is for"), AUDIENCE_LABELS.get(values.audience, values.audience)),
        (_("For which school or area"), _place_label(*where) if where[1] > 0 else "—"),
        (_("Starts at"), _when(values.starts_at)), (_("Ends at"), _when(values.ends_at)),
        (_("Online link"), values.online_url or None), (_("Place"), values.place or None),
        (_("Places"), values.capacity), (_("Registration closes"), _when(values.registration_closes_at)),
        (_("Language of the seminar"), LANGUAGE_LABELS.get(values.language, values.language)),
    ]


def _conflict(*, title: str, form: Any, seminar: Seminar, rows: list[tuple[str, Any, Any]]) -> tuple[str, int]:
    """The shared conflict page (409): both versions, the user's values kept in the form."""
    return render_conflict(title=title, form=form, action=request.path,
                           back=url_for("seminars.manage", seminar_uuid=seminar.uuid), rows=rows, record=seminar)


@bp.route("/seminars/organise/<seminar_uuid>/edit", methods=["GET", "POST"])
@require(MANAGE)
def edit(seminar_uuid: str) -> str | tuple[str, int] | Response:
    seminar, back = _still_on(seminar_uuid, _("A cancelled seminar cannot be changed."))
    if back is not None:
        return back
    form = SeminarForm()
    _fill(form)
    if request.method == "GET":
        starts, ends = services.to_local(seminar.starts_at), services.to_local(seminar.ends_at)
        kind, place_id = services.where_of(seminar)
        form.process(data={
            "title": seminar.title, "description": seminar.description, "audience": seminar.audience,
            "where": f"{kind}:{place_id}", "day": starts.date(), "starts": starts.time(), "ends": ends.time(),
            "online_url": seminar.online_url, "place": seminar.place, "capacity": seminar.capacity,
            "closes": services.to_local(seminar.registration_closes_at), "language": seminar.language,
            "version": seminar.version})
    elif form.validate_on_submit():
        mine = _input(form)
        try:
            told = services.update_seminar(actor=current_user, seminar=seminar, version=form.version.data,
                                           data=mine)
        except EditConflict:
            theirs = _rows(seminar)
            return _conflict(title=_("Change a seminar"), form=form, seminar=seminar,
                             rows=[(label, value, theirs[i][1]) for i, (label, value) in enumerate(_rows(mine))])
        except services.InvalidSeminar as problem:
            _refuse(form, problem)
        else:
            flash(_("Changes saved. Registered people are told by e-mail: %(count)d.", count=told) if told
                  else _("Changes saved."), "success")
            return _to_manage(seminar)
    return render_template("seminars/form.html", form=form, seminar=seminar)


@bp.route("/seminars/organise/<seminar_uuid>/cancel", methods=["GET", "POST"])
@require(MANAGE)
def cancel(seminar_uuid: str) -> str | tuple[str, int] | Response:
    seminar, back = _still_on(seminar_uuid, _("This seminar is already cancelled."))
    if back is not None:
        return back
    form = CancelForm()
    if request.method == "GET":
        form.version.data = seminar.version
    elif form.validate_on_submit():
        try:
            told = services.cancel_seminar(actor=current_user, seminar=seminar, version=form.version.data,
                                           reason=form.reason.data or "")
        except EditConflict:
            return _conflict(title=_("Cancel the seminar"), form=form, seminar=seminar,
                             rows=[(_("Reason (registered people read it)"), form.reason.data or "—", None),
                                   *((label, None, value) for label, value in _rows(seminar))])
        except services.InvalidSeminar as problem:
            _refuse(form, problem)
        else:
            flash(_("Seminar cancelled. Registered people are told: %(count)d.", count=told), "success")
            return _to_manage(seminar)
    return render_template("seminars/cancel.html", form=form, seminar=seminar)


def _attendance_form(registrations: Any, **data: Any) -> AttendanceForm:
    form = AttendanceForm(**data)
    form.present.choices = [(r.id, r.user.display_name) for r in registrations]
    return form


def _attendance_rows(form: AttendanceForm, registrations: Any) -> list[tuple[str, Any, Any]]:
    """(name, the user's mark, the current mark) for each registration, for the conflict page."""
    mine = set(form.present.data or [])
    marks = {True: _("Present"), False: _("Absent"), None: _("Not marked")}
    return [(r.user.display_name, marks[r.id in mine], marks[r.attended]) for r in registrations]


@bp.route("/seminars/organise/<seminar_uuid>/attendance", methods=["POST"])
@require(MANAGE)
def attendance(seminar_uuid: str) -> str | tuple[str, int] | Response:
    seminar = _managed(seminar_uuid)
    form = _attendance_form(services.registrations_of(seminar))
    if form.validate_on_submit():
        try:
            count = services.mark_attendance(actor=current_user, seminar=seminar, version=form.version.data,
                                             present=form.present.data or [])
        except services.NotYet:
            flash(_("Attendance is marked once the seminar has begun."), "warning")
        except EditConflict:
            return _conflict(title=_("Someone saved the attendance while you were marking it"), form=form,
                             seminar=seminar, rows=_attendance_rows(form, services.registrations_of(seminar)))
        else:
            flash(_("Attendance saved: %(count)d present.", count=count), "success")
    return _to_manage(seminar)


@bp.route("/seminars/organise/<seminar_uuid>/materials", methods=["GET", "POST"])
@require(MANAGE)
def materials(seminar_uuid: str) -> str | tuple[str, int] | Response:
    seminar = _managed(seminar_uuid)
    form = MaterialsForm()
    if request.method == "GET":
        form.process(data={"materials": seminar.materials, "version": seminar.version})
    elif form.validate_on_submit():
        try:
            services.save_materials(actor=current_user, seminar=seminar, version=form.version.data,
                                    materials=form.materials.data or "")
        except EditConflict:
            return _conflict(title=_("Seminar materials"), form=form, seminar=seminar,
                             rows=[(_("Materials"), form.materials.data, seminar.materials)])
        except services.NotYet:
            flash(_("Materials are added once the seminar has begun."), "warning")
            return _to_manage(seminar)
        except services.InvalidSeminar as problem:
            _refuse(form, problem)
        else:
            flash(_("Materials published."), "success")
            return _to_manage(seminar)
    return render_template("seminars/materials.html", form=form, seminar=seminar)


# --- counts --------------------------------------------------------------------------------------------------


@bp.route("/seminars/stats")
@require(P.SEMINARS_STATS)
def stats() -> str:
    return render_template("seminars/stats.html", totals=services.totals(current_user), labels=_labels())
