"""Schools by region and district; new regions and districts from small forms on the same page."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.admin import services
from app.admin.forms import DistrictForm, RegionForm, SchoolFilterForm, SchoolForm, choices
from app.admin.views import bp
from app.admin.views.common import get_school_or_404
from app.auth.permissions import Permission, require
from app.core.models import District, Region, School
from app.extensions import db

PERM = Permission.ADMIN_SCHOOLS


def _district_choices() -> list[tuple[int, str]]:
    return [(d.id, f"{d.region.name} — {d.name}") for d in services.list_districts()]


def _render_list(region_form: RegionForm | None = None, district_form: DistrictForm | None = None) -> str:
    regions = services.list_regions()
    filters = SchoolFilterForm(request.args)
    filters.region_id.choices = choices([(0, _("All regions")), *((r.id, r.name) for r in regions)])
    filters.district_id.choices = choices([(0, _("All districts")), *_district_choices()])
    valid = filters.validate()
    schools = services.list_schools(actor=current_user, region_id=filters.region_id.data if valid else None,
                                    district_id=filters.district_id.data if valid else None)
    region_form = region_form or RegionForm(prefix="region", formdata=None)
    district_form = district_form or DistrictForm(prefix="district", formdata=None)
    district_form.region_id.choices = choices([(r.id, r.name) for r in regions])
    return render_template("admin/schools.html", schools=schools, filters=filters, region_form=region_form,
                           district_form=district_form, has_districts=bool(filters.district_id.choices[1:]))


@bp.route("/schools")
@require(PERM)
def schools() -> str:
    return _render_list()


@bp.route("/regions/new", methods=["POST"])
@require(PERM)
def region_new() -> str | Response:
    form = RegionForm(prefix="region")
    if not form.validate_on_submit():
        return _render_list(region_form=form)
    services.create_region(actor=current_user, name_kk=form.name_kk.data, name_ru=form.name_ru.data)
    flash(_("Region added."), "success")
    return redirect(url_for("admin.schools"))


@bp.route("/districts/new", methods=["POST"])
@require(PERM)
def district_new() -> str | Response:
    form = DistrictForm(prefix="district")
    form.region_id.choices = choices([(r.id, r.name) for r in services.list_regions()])
    if not form.validate_on_submit():
        return _render_list(district_form=form)
    region = db.get_or_404(Region, form.region_id.data)
    services.create_district(actor=current_user, region=region, name_kk=form.name_kk.data,
                             name_ru=form.name_ru.data)
    flash(_("District added."), "success")
    return redirect(url_for("admin.schools"))


def _save(form: SchoolForm, school: School | None) -> Response | None:
    if not form.validate_on_submit():
        return None
    district = db.get_or_404(District, form.district_id.data)
    fields = {"district": district, "name_kk": form.name_kk.data, "name_ru": form.name_ru.data,
              "kundelik_id": form.kundelik_id.data, "default_language": form.default_language.data}
    try:
        if school is None:
            services.create_school(actor=current_user, **fields)
            flash(_("School added."), "success")
        else:
            services.update_school(actor=current_user, school=school, **fields)
            flash(_("Changes saved."), "success")
    except services.DuplicateKundelikId:
        db.session.rollback()
        form.kundelik_id.errors.append(_("Another school already has this Kundelik id."))
        return None
    return redirect(url_for("admin.schools"))


@bp.route("/schools/new", methods=["GET", "POST"])
@require(PERM)
def school_new() -> str | Response:
    form = SchoolForm()
    form.district_id.choices = _district_choices()
    return _save(form, None) or render_template("admin/school_form.html", form=form, school=None)


@bp.route("/schools/<int:school_id>/edit", methods=["GET", "POST"])
@require(PERM)
def school_edit(school_id: int) -> str | Response:
    school = get_school_or_404(school_id, PERM)
    form = SchoolForm(obj=school if request.method == "GET" else None)
    form.district_id.choices = _district_choices()
    return _save(form, school) or render_template("admin/school_form.html", form=form, school=school)
