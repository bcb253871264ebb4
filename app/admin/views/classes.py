"""Classes per school and school year: an admin for every school, a director for their own."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.admin import services
from app.admin.forms import ClassFilterForm, ClassForm, NewClassForm, choices
from app.admin.views import bp
from app.admin.views.common import get_school_or_404, school_choices
from app.auth.permissions import Permission, get_class_or_404, require
from app.core.models import SchoolClass
from app.core.routing import db_int
from app.extensions import db
from app.roster.services import current_school_year

PERM = Permission.ADMIN_CLASSES


@bp.route("/classes")
@require(PERM)
def classes() -> str:
    filters = ClassFilterForm(request.args)
    filters.school_id.choices = choices([(0, _("All schools")), *school_choices(PERM)])
    years = services.school_years(actor=current_user)
    filters.year.choices = choices([(0, _("All school years")), *((y, f"{y}–{y + 1}") for y in years)])
    valid = filters.validate()
    rows = services.list_classes(actor=current_user, school_id=filters.school_id.data if valid else None,
                                 school_year=filters.year.data if valid else None)
    return render_template("admin/classes.html", classes=rows, filters=filters,
                           can_add=len(filters.school_id.choices) > 1)


def _save(form: ClassForm, school_class: SchoolClass | None) -> Response | None:
    if not form.validate_on_submit():
        return None
    fields = {"grade": form.grade.data, "letter": form.letter.data, "school_year": form.school_year.data,
              "language": form.language.data}
    try:
        if school_class is None:
            school = get_school_or_404(form.school_id.data, PERM)  # type: ignore[attr-defined]
            school_class = services.create_class(actor=current_user, school=school, **fields)
            flash(_("Class added."), "success")
        else:
            services.update_class(actor=current_user, school_class=school_class, **fields)
            flash(_("Changes saved."), "success")
    except services.DuplicateClass:
        db.session.rollback()
        form.letter.errors.append(_("This school already has a class with this grade and letter in this school year."))
        return None
    return redirect(url_for("admin.classes", school_id=school_class.school_id, year=school_class.school_year))


@bp.route("/classes/new", methods=["GET", "POST"])
@require(PERM)
def class_new() -> str | Response:
    form = NewClassForm()
    form.school_id.choices = school_choices(PERM)
    if not form.school_id.choices:
        abort(404)
    if request.method == "GET":
        form.school_id.data = request.args.get("school_id", type=db_int)
        form.school_year.data = current_school_year()
    return _save(form, None) or render_template("admin/class_form.html", form=form, school_class=None)


@bp.route("/classes/<int:class_id>/edit", methods=["GET", "POST"])
@require(PERM)
def class_edit(class_id: int) -> str | Response:
    school_class = get_class_or_404(current_user, class_id, PERM)
    form = ClassForm(obj=school_class if request.method == "GET" else None)
    return _save(form, school_class) or render_template("admin/class_form.html", form=form,
                                                        school_class=school_class)
