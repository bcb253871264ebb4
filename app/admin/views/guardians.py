"""Link a parent (an existing parent account or a new one) to a pupil: admin anywhere, director in their school."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.admin import accounts
from app.admin.forms import GuardianClassForm, GuardianForm, choices
from app.admin.views import bp
from app.admin.views.common import class_choices
from app.auth.permissions import Permission, get_class_or_404, require
from app.core.models import Pupil, SchoolClass
from app.core.routing import db_int
from app.extensions import db

PERM = Permission.ADMIN_STAFF


def _link(form: GuardianForm, pupils: list[Pupil]) -> Response | None:
    if not form.validate_on_submit():
        return None
    pupil = next(p for p in pupils if p.id == form.pupil_id.data)  # the choices were these pupils
    new_account = None
    if form.create_account.data:
        new_account = accounts.NewAccount(username=form.username.data, full_name=form.full_name.data,
                                          email=form.email.data, password=form.new_password.data)
    try:
        link = accounts.link_guardian(
            actor=current_user, pupil=pupil, username=form.username.data, relation=form.relation.data,
            is_legal_representative=form.is_legal_representative.data, new_account=new_account)
    except accounts.UsernameTaken:
        form.username.errors.append(_("This sign-in name is taken. Choose another."))
    except accounts.NotAParent:
        form.username.errors.append(_("There is no parent account with this sign-in name. "
                                      "Tick \u201cCreate this account\u201d to create it."))
    except accounts.AlreadyLinked:
        form.pupil_id.errors.append(_("This parent is already linked to this pupil."))
    else:
        flash(_("Parent linked to the pupil."), "success")
        return redirect(url_for("admin.user_detail", user_uuid=link.user.uuid))
    db.session.rollback()
    return None


@bp.route("/guardians/new", methods=["GET", "POST"])
@require(PERM)
def guardian_new() -> str | Response:
    source = request.form if request.method == "POST" else request.args
    class_form = GuardianClassForm(request.args)
    class_form.class_id.choices = choices([(0, _("Choose a class")), *class_choices(PERM)])
    class_id = source.get("class_id", type=db_int)
    school_class: SchoolClass | None = get_class_or_404(current_user, class_id, PERM) if class_id else None
    form = GuardianForm()
    pupils = accounts.class_pupils(actor=current_user, school_class=school_class) if school_class else []
    form.pupil_id.choices = choices([(p.id, p.short_name) for p in pupils])
    if request.method == "GET":
        form.class_id.data = class_id or ""
        form.username.data = request.args.get("username", "")[:150]
        class_form.class_id.data = class_id or 0
    response = _link(form, pupils) if school_class is not None else None
    return response or render_template("admin/guardian_form.html", form=form, class_form=class_form,
                                       school_class=school_class, pupils=pupils)
