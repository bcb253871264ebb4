"""Pupil list and search, pupil card, access log ("who viewed this record"), the pupil's own page."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth.permissions import (
    Permission,
    get_class_or_404,
    get_pupil_or_404,
    has_permission,
    require,
    visible_classes,
)
from app.core.models import Pupil, SchoolClass
from app.extensions import db
from app.pupils import services
from app.pupils.forms import PupilForm, SearchForm

bp = Blueprint("pupils", __name__, template_folder="templates")


def _class_choices(permission: Permission) -> list[tuple[int, str]]:
    classes = db.session.execute(
        visible_classes(current_user, permission).order_by(SchoolClass.school_id, SchoolClass.grade,
                                                           SchoolClass.letter)
    ).scalars()
    return [(c.id, f"{c.label} ({c.school.name}, {c.school_year_label})") for c in classes]


@bp.route("/pupils")
@require(Permission.PUPIL_LIST)
def pupil_list() -> str:
    form = SearchForm(request.args)
    form.class_id.choices = [(0, _("All classes")), *_class_choices(Permission.PUPIL_LIST)]
    class_id = form.class_id.data if form.validate() and form.class_id.data else None
    name = (form.q.data or "").strip() or None
    pupils = services.list_pupils(actor=current_user, class_id=class_id, name=name)
    return render_template(
        "pupils/list.html", form=form, pupils=pupils, searched=bool(name),
        total=services.count_pupils(actor=current_user, class_id=class_id),
        can_manage=has_permission(current_user, Permission.PUPIL_MANAGE),
        can_open=has_permission(current_user, Permission.PUPIL_READ),
    )


@bp.route("/pupils/<pupil_uuid>")
@require(Permission.PUPIL_READ)
def pupil_detail(pupil_uuid: str) -> str:
    pupil = services.read_pupil(actor=current_user, pupil=get_pupil_or_404(current_user, pupil_uuid))
    return render_template(
        "pupils/detail.html", pupil=pupil,
        show_iin=has_permission(current_user, Permission.PUPIL_MANAGE),
        can_manage=has_permission(current_user, Permission.PUPIL_MANAGE),
        can_see_log=has_permission(current_user, Permission.PUPIL_ACCESS_LOG),
        links=services.card_links(actor=current_user, pupil=pupil),
        can_see_registry=has_permission(current_user, Permission.MONITORING_REGISTRY_READ),
    )


@bp.route("/pupils/<pupil_uuid>/access-log")
@require(Permission.PUPIL_ACCESS_LOG)
def access_log(pupil_uuid: str) -> str:
    pupil = get_pupil_or_404(current_user, pupil_uuid, Permission.PUPIL_ACCESS_LOG)
    entries = services.access_log(actor=current_user, pupil=pupil)
    return render_template("pupils/access_log.html", pupil=pupil, entries=entries,
                           names=services.actor_names(entries),
                           can_see_record=has_permission(current_user, Permission.PUPIL_READ))


def _save(form: PupilForm, pupil: Pupil | None) -> Response | None:
    if not form.validate_on_submit():
        return None
    school_class = get_class_or_404(current_user, form.class_id.data, Permission.PUPIL_MANAGE)
    if pupil is not None and school_class.school_id != pupil.school_id:
        form.class_id.errors.append(_("A pupil can only be moved to a class of the same school."))
        return None
    fields = {
        "last_name": form.last_name.data, "first_name": form.first_name.data,
        "patronymic": form.patronymic.data, "iin": form.iin.data or None,
        "birth_date": form.birth_date.data, "sex": form.sex.data,
    }
    try:
        if pupil is None:
            pupil = services.create_pupil(actor=current_user, school_class=school_class, **fields)
            flash(_("Pupil added."), "success")
        else:
            services.update_pupil(actor=current_user, pupil=pupil, school_class=school_class, **fields)
            flash(_("Changes saved."), "success")
    except services.DuplicateIIN:
        db.session.rollback()
        form.iin.errors.append(_("Another pupil already has this IIN."))
        return None
    return redirect(url_for("pupils.pupil_detail", pupil_uuid=pupil.uuid))


@bp.route("/pupils/new", methods=["GET", "POST"])
@require(Permission.PUPIL_MANAGE)
def pupil_new() -> str | Response:
    form = PupilForm()
    form.class_id.choices = _class_choices(Permission.PUPIL_MANAGE)
    if not form.class_id.choices:
        abort(404)
    return _save(form, None) or render_template("pupils/form.html", form=form, pupil=None)


@bp.route("/pupils/<pupil_uuid>/edit", methods=["GET", "POST"])
@require(Permission.PUPIL_MANAGE)
def pupil_edit(pupil_uuid: str) -> str | Response:
    pupil = get_pupil_or_404(current_user, pupil_uuid, Permission.PUPIL_MANAGE)
    services.read_pupil(actor=current_user, pupil=pupil)
    form = PupilForm(obj=None if request.method == "POST" else pupil)
    form.class_id.choices = [c for c in _class_choices(Permission.PUPIL_MANAGE)]
    if request.method == "GET":
        form.last_name.data, form.first_name.data = pupil.last_name, pupil.first_name
        form.patronymic.data, form.iin.data = pupil.patronymic, pupil.iin
    return _save(form, pupil) or render_template("pupils/form.html", form=form, pupil=pupil)


@bp.route("/me")
@require(Permission.PUPIL_SELF)
def my_page() -> str:
    pupil = services.own_record(actor=current_user)
    if pupil is None:
        abort(404)
    # Street Law (issue 11 item 5) is linked only once it exists in this installation.
    street_law = next((e for e in ("street_law.index", "streetlaw.index") if e in current_app.view_functions), None)
    return render_template("pupils/me.html", pupil=pupil, questionnaires=services.open_questionnaires(pupil=pupil),
                           street_law=street_law)
