"""Help pages: the directory (public), "ask for help" (public: anonymous, or a pupil we know), and the admins'
directory editor. Every page's help box (``ui.helplines``) reads :func:`help_contacts`."""

from __future__ import annotations

import secrets
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from app.admin.forms import choices
from app.auth.permissions import Permission, has_permission, require
from app.core.models import District, Pupil, Region, School, SchoolClass
from app.core.routing import db_int
from app.extensions import db
from app.help import services
from app.help.forms import KIND_LABELS, HelpRequestForm, HelpServiceForm, SchoolChoiceForm
from app.help.models import HelpService
from app.screening import selfservice

bp = Blueprint("help", __name__, template_folder="templates")

#: The browser's random id for the rate limit; the same cookie key pupils' code pages use.
DEVICE = "senim_device"
#: The region and district of the pupil's screening sitting, cached for the help boxes (never set by a request).
PLACE = "senim_help_place"
#: Per-request cache (the WSGI environ: ``g`` may outlive a request when an app context is held open).
_CONTACTS_KEY, _PLACE_KEY = "senim.help_contacts", "senim.help_place"


# --- the help box on every page ------------------------------------------------------------------

def _viewer_place() -> services.Place:
    if getattr(current_user, "is_authenticated", False):
        return services.place_of_user(current_user)
    cached = session.get(PLACE)
    if isinstance(cached, list) and len(cached) == 2:
        return services.Place(region_id=cached[0], district_id=cached[1])
    found = selfservice.school_place_of_sitting(session.get(selfservice.SESSION_KEY))
    if found is not None:
        session[PLACE] = list(found)
        return services.Place(*found)
    return services.Place()


def _set_place(place: services.Place) -> None:
    """This request's help boxes show ``place``'s services (a chosen school or region)."""
    request.environ[_PLACE_KEY] = place


def help_contacts() -> list[services.Contact]:
    """The help lines for this page's viewer (their school's region and district, else national only); cached
    for the request. Never fails: on a database error, the built-in 150 / 111 / 112."""
    if not has_request_context():
        return list(services.BUILT_IN)
    cached = request.environ.get(_CONTACTS_KEY)
    if cached is None:
        place = request.environ.get(_PLACE_KEY)
        try:
            cached = services.contacts_for(place if place is not None else _viewer_place())
        except SQLAlchemyError:
            cached = list(services.BUILT_IN)
        request.environ[_CONTACTS_KEY] = cached
    return list(cached)


@bp.record_once
def _register_global(state: Any) -> None:
    state.app.jinja_env.globals["help_contacts"] = help_contacts


# --- the directory -------------------------------------------------------------------------------

@bp.route("/help")
def directory() -> str:
    """Every help line and service for a region: the viewer's, or the one chosen (``?region=``)."""
    regions = db.session.execute(db.select(Region).order_by(Region.id)).scalars().all()
    region_id = request.args.get("region", type=db_int)
    if region_id is not None and any(r.id == region_id for r in regions):
        _set_place(services.Place(region_id=region_id))
    contacts = help_contacts()
    # A source is the admins' note of where a number is published (one language, often English): pupils and
    # parents read the directory in their own language, so only those who keep it see the sources.
    show_sources = bool(getattr(current_user, "is_authenticated", False)
                        and has_permission(current_user, Permission.HELP_DIRECTORY_MANAGE))
    return render_template("help/directory.html", contacts=contacts, regions=regions, region_id=region_id,
                           kinds=KIND_LABELS, show_sources=show_sources)


# --- ask for help --------------------------------------------------------------------------------

def _device() -> str:
    if DEVICE not in session:
        session[DEVICE] = secrets.token_urlsafe(16)
    return str(session[DEVICE])


def _known_pupil() -> Pupil | None:
    """The pupil writing, when we know: a signed-in pupil account, or a pupil with a screening code just used."""
    if getattr(current_user, "is_authenticated", False):
        return current_user.pupil if getattr(current_user, "pupil_id", None) is not None else None
    return selfservice.pupil_of_sitting(session.get(selfservice.SESSION_KEY))


def _chosen_school() -> School | None:
    school_id = request.args.get("school", type=db_int)
    return db.session.get(School, school_id) if school_id is not None else None


@bp.route("/help/ask", methods=["GET", "POST"])
def ask() -> str | Response | tuple[str, int]:
    pupil = _known_pupil()
    if pupil is not None and pupil.school_id is None:
        pupil = None
    school = pupil.school if pupil is not None else _chosen_school()
    if school is None:  # step 1 of an anonymous request: the school
        picker = SchoolChoiceForm(request.args if "school" in request.args else None)
        picker.school.choices = choices([(s.id, s.name) for s in services.schools_for_anonymous()])
        return render_template("help/ask_school.html", picker=picker)
    _set_place(services.Place.of_school(school))
    form = HelpRequestForm()
    classes = services.classes_of(school) if pupil is None else []
    form.class_id.choices = choices([(0, _("I'd rather not say")), *((c.id, c.label) for c in classes)])
    if form.validate_on_submit():
        anonymous = pupil is None or form.sign.data == "anonymous"
        school_class = pupil.school_class if pupil is not None else None  # anonymous: still the school and class
        if pupil is None and form.class_id.data:
            school_class = db.session.get(SchoolClass, form.class_id.data)
        try:
            services.send_request(actor=current_user if pupil is not None and not anonymous else None,
                                  school=school, school_class=school_class,
                                  pupil=None if anonymous else pupil,
                                  message=form.message.data, device=_device(), ip=request.remote_addr or "")
        except services.RequestThrottled:
            return render_template("help/sent.html", throttled=True, named=False), 429
        # Nothing goes into the session about the request (it is the sender's cookie, readable on a shared
        # phone): the "sent" page finds the school's help in its link, as the form page did.
        return redirect(url_for("help.sent", named="0" if anonymous else "1",
                                school=school.id if pupil is None else None))
    return render_template("help/ask.html", form=form, pupil=pupil, school=school)


@bp.route("/help/sent")
def sent() -> str:
    school = _chosen_school()
    if school is not None:
        _set_place(services.Place.of_school(school))
    return render_template("help/sent.html", throttled=False, named=request.args.get("named") == "1")


# --- the directory editor (admins) ---------------------------------------------------------------

M = Permission.HELP_DIRECTORY_MANAGE


def _fill(form: HelpServiceForm) -> None:
    regions = db.session.execute(db.select(Region).order_by(Region.id)).scalars().all()
    districts = db.session.execute(db.select(District).order_by(District.region_id, District.id)).scalars().all()
    form.region_id.choices = choices([(0, _("National (all regions)")), *((r.id, r.name) for r in regions)])
    form.district_id.choices = choices([(0, _("Whole region")),
                                        *((d.id, f"{d.region.name} — {d.name}") for d in districts)])


def _values(form: HelpServiceForm) -> dict[str, Any]:
    values = {name: (form[name].data or "").strip() for name in (
        "kind", "name_kk", "name_ru", "name_en", "phone", "hours_kk", "hours_ru", "hours_en", "address",
        "website", "source")}
    values.update(region_id=form.region_id.data or None, district_id=form.district_id.data or None,
                  position=form.position.data, active=bool(form.active.data))
    return values


@bp.route("/admin/help-services")
@require(M)
def services_admin() -> str:
    return render_template("help/admin_list.html", services=services.all_services(), kinds=KIND_LABELS)


@bp.route("/admin/help-services/new", methods=["GET", "POST"])
@require(M)
def service_new() -> str | Response:
    form = HelpServiceForm()
    _fill(form)
    if form.validate_on_submit():
        services.save_service(actor=current_user, service=None, values=_values(form))
        flash(_("Help directory entry added."), "success")
        return redirect(url_for("help.services_admin"))
    return render_template("help/admin_form.html", form=form, service=None)


@bp.route("/admin/help-services/<service_uuid>", methods=["GET", "POST"])
@require(M)
def service_edit(service_uuid: str) -> str | Response:
    service = db.session.execute(db.select(HelpService).where(HelpService.uuid == service_uuid)).scalar_one_or_none()
    if service is None:
        abort(404)
    form = HelpServiceForm(obj=service) if request.method == "GET" else HelpServiceForm()
    _fill(form)
    if request.method == "GET":
        form.region_id.data = service.region_id or 0
        form.district_id.data = service.district_id or 0
    if form.validate_on_submit():
        services.save_service(actor=current_user, service=service, values=_values(form))
        flash(_("Help directory entry saved."), "success")
        return redirect(url_for("help.services_admin"))
    return render_template("help/admin_form.html", form=form, service=service)
