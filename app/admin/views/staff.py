"""Staff accounts: list, create, role grants and revocations, disable/enable, password and 2FA resets."""

from __future__ import annotations

from typing import Any, NoReturn

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from werkzeug.wrappers import Response
from wtforms.validators import DataRequired, Optional

from app.admin import accounts, services
from app.admin.forms import (
    ConfirmForm,
    GrantForm,
    KundelikLinkForm,
    PasswordResetForm,
    RoleScopeMixin,
    UserForm,
    choices,
)
from app.admin.views import bp
from app.admin.views.common import class_choices, get_school_or_404, school_choices
from app.auth import reset
from app.auth.models import RoleAssignment, User
from app.auth.permissions import Permission, deny_404, get_class_or_404, require
from app.auth.roles import ROLE_LABELS, Role
from app.auth.services import policy_context
from app.core import audit
from app.core.models import District, Region
from app.core.routing import db_int
from app.extensions import db
from app.kundelik import services as kundelik_services

PERM = Permission.ADMIN_STAFF


def _get_user_or_404(user_uuid: str) -> User:
    user = db.session.execute(
        accounts.visible_users(current_user).where(User.uuid == user_uuid)
    ).scalar_one_or_none()
    if user is None:
        deny_404(current_user, permission=PERM, object_type="user", object_id=user_uuid,
                 school_of=select(RoleAssignment.school_id).join(User, User.id == RoleAssignment.user_id)
                 .where(User.uuid == user_uuid, RoleAssignment.school_id.is_not(None))
                 .order_by(RoleAssignment.id).limit(1))
    return user


def _refuse_own(user: User) -> Response:
    """Nobody changes their own roles: say so, audit the attempt, change nothing."""
    db.session.rollback()
    audit.record_denied(current_user, permission=PERM, object_type="user", object_id=str(user.id))
    flash(_("You cannot change your own roles. Ask an administrator."), "error")
    return redirect(url_for("admin.user_detail", user_uuid=user.uuid))


def _refuse(user: User) -> NoReturn:
    """Audit a refused change (a role the actor cannot grant, a scope outside theirs) and answer 404."""
    db.session.rollback()
    audit.record_denied(current_user, permission=PERM, object_type="user", object_id=str(user.id))
    abort(404)


def _fill_scope(form: RoleScopeMixin, *, role_optional: bool = False) -> None:
    roles = accounts.grantable_roles(current_user)
    first = _("No role yet") if role_optional else _("Choose a role")
    form.role.choices = choices([("", first), *((r.value, str(ROLE_LABELS[r])) for r in roles)])
    form.role.validators = [Optional()] if role_optional else [DataRequired()]
    none = (0, "—")
    form.school_id.choices = choices([none, *school_choices(PERM)])
    form.class_id.choices = choices([none, *class_choices(PERM)])
    if accounts.is_global(current_user):
        districts = ((d.id, f"{d.region.name} — {d.name}") for d in services.list_districts())
        form.district_id.choices = choices([none, *districts])
        form.region_id.choices = choices([none, *((r.id, r.name) for r in services.list_regions())])
    else:
        form.district_id.choices = choices([none])
        form.region_id.choices = choices([none])


def _scope(form: RoleScopeMixin) -> accounts.Scope:
    return accounts.Scope(
        school=get_school_or_404(form.school_id.data, PERM) if form.school_id.data else None,
        school_class=get_class_or_404(current_user, form.class_id.data, PERM) if form.class_id.data else None,
        district=db.session.get(District, form.district_id.data) if form.district_id.data else None,
        region=db.session.get(Region, form.region_id.data) if form.region_id.data else None,
    )


@bp.route("/staff")
@require(PERM)
def staff() -> str:
    query = accounts.visible_users(current_user)
    search = (request.args.get("q") or "").strip()[:100]
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(or_(User.username.like(pattern), User.full_name.ilike(pattern)))
    page = db.paginate(query.where(User.pupil_id.is_(None)).order_by(User.username),
                       page=request.args.get("page", 1, type=db_int), per_page=50, error_out=False)
    roles = {u.id: accounts.visible_assignments(current_user, u) for u in page.items}
    return render_template("admin/staff.html", page=page, roles=roles, search=search)


@bp.route("/staff/new", methods=["GET", "POST"])
@require(PERM)
def user_new() -> str | Response:
    form = UserForm()
    _fill_scope(form, role_optional=accounts.is_global(current_user))
    if form.validate_on_submit():
        account = accounts.NewAccount(username=form.username.data, full_name=form.full_name.data,
                                      email=form.email.data, password=form.new_password.data)
        role = Role(form.role.data) if form.role.data else None
        try:
            user = accounts.create_user(actor=current_user, account=account, role=role, scope=_scope(form))
        except accounts.UsernameTaken:
            db.session.rollback()
            form.username.errors.append(_("This sign-in name is taken. Choose another."))
        except accounts.NotAllowed:
            db.session.rollback()
            form.role.errors.append(_("You cannot give this role here."))
        else:
            flash(_("Account created."), "success")
            return redirect(url_for("admin.user_detail", user_uuid=user.uuid))
    return render_template("admin/user_form.html", form=form)


def _render_detail(user: User, **forms: Any) -> str:
    grant_form = forms.get("grant_form") or GrantForm(prefix="grant", formdata=None)
    _fill_scope(grant_form)
    password_form = forms.get("password_form") or PasswordResetForm(prefix="pw", formdata=None)
    kundelik_form = forms.get("kundelik_form") or KundelikLinkForm(
        prefix="kl", formdata=None, data={"person_id": user.kundelik_person_id or ""})
    children = accounts.children_in_scope(actor=current_user, user=user)
    return render_template(
        "admin/user_detail.html", user=user, assignments=accounts.visible_assignments(current_user, user),
        can_revoke=lambda a: accounts.can_revoke(current_user, a),
        can_manage=accounts.can_manage_account(current_user, user), can_send_link=reset.eligible_for_link(user),
        can_take_over=accounts.can_take_over(current_user, user), own_account=user.id == current_user.id,
        can_grant=bool(accounts.grantable_roles(current_user)) and user.pupil_id is None
        and user.id != current_user.id,
        grant_form=grant_form, password_form=password_form, confirm=ConfirmForm(), children=children,
        kundelik_form=kundelik_form,
    )


@bp.route("/staff/<user_uuid>")
@require(PERM)
def user_detail(user_uuid: str) -> str:
    return _render_detail(_get_user_or_404(user_uuid))


@bp.route("/staff/<user_uuid>/roles", methods=["POST"])
@require(PERM)
def role_grant(user_uuid: str) -> str | Response:
    user = _get_user_or_404(user_uuid)
    form = GrantForm(prefix="grant")
    _fill_scope(form)
    if not form.validate_on_submit():
        return _render_detail(user, grant_form=form)
    try:
        accounts.grant_role(actor=current_user, user=user, role=Role(form.role.data), scope=_scope(form))
    except accounts.AlreadyAssigned:
        db.session.rollback()
        form.role.errors.append(_("This person already has this role there."))
        return _render_detail(user, grant_form=form)
    except accounts.OwnAccount:
        return _refuse_own(user)
    except accounts.NotAllowed:
        _refuse(user)
    flash(_("Role given. It applies from the person's next page view."), "success")
    return redirect(url_for("admin.user_detail", user_uuid=user.uuid))


@bp.route("/staff/<user_uuid>/roles/<int:assignment_id>/revoke", methods=["POST"])
@require(PERM)
def role_revoke(user_uuid: str, assignment_id: int) -> Response:
    user = _get_user_or_404(user_uuid)
    assignment = db.session.get(RoleAssignment, assignment_id)
    if assignment is None or assignment.user_id != user.id or not ConfirmForm().validate_on_submit():
        _refuse(user)
    try:
        accounts.revoke_role(actor=current_user, assignment=assignment)
    except accounts.OwnAccount:
        return _refuse_own(user)
    except accounts.NotAllowed:
        _refuse(user)
    flash(_("Role taken away. It stops applying from the person's next page view."), "success")
    return redirect(url_for("admin.user_detail", user_uuid=user.uuid))


def _account_action(user_uuid: str, change: Any, message: str) -> Response:
    user = _get_user_or_404(user_uuid)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        change(user)
    except accounts.NotAllowed:
        _refuse(user)
    flash(message, "success")
    return redirect(url_for("admin.user_detail", user_uuid=user.uuid))


@bp.route("/staff/<user_uuid>/disable", methods=["POST"])
@require(PERM)
def user_disable(user_uuid: str) -> Response:
    return _account_action(user_uuid, lambda u: accounts.set_active(actor=current_user, user=u, active=False),
                           _("Account disabled. Its open sessions were ended."))


@bp.route("/staff/<user_uuid>/enable", methods=["POST"])
@require(PERM)
def user_enable(user_uuid: str) -> Response:
    return _account_action(user_uuid, lambda u: accounts.set_active(actor=current_user, user=u, active=True),
                           _("Account enabled."))


@bp.route("/staff/<user_uuid>/mfa-reset", methods=["POST"])
@require(PERM)
def mfa_reset(user_uuid: str) -> Response:
    return _account_action(user_uuid, lambda u: accounts.reset_mfa(actor=current_user, user=u),
                           _("Two-step sign-in reset. The person sets it up again at the next sign-in."))


@bp.route("/staff/<user_uuid>/reset-link", methods=["POST"])
@require(PERM)
def reset_link(user_uuid: str) -> Response:
    user = _get_user_or_404(user_uuid)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        accounts.send_reset_link(actor=current_user, user=user, fallback_language=str(get_locale() or "kk"))
    except accounts.NotAllowed:
        _refuse(user)
    except reset.NotEligible:
        db.session.rollback()
        flash(_("No link was sent: the account needs an e-mail address and must be active, e-mail must be "
                "configured, and at most 3 links an hour are sent."), "error")
    else:
        flash(_("A link to choose a new password was e-mailed to %(email)s. It works once, for 30 minutes.",
                email=user.email), "success")
    return redirect(url_for("admin.user_detail", user_uuid=user.uuid))


@bp.route("/staff/<user_uuid>/password", methods=["POST"])
@require(PERM)
def password_reset(user_uuid: str) -> str | Response:
    user = _get_user_or_404(user_uuid)
    form = PasswordResetForm(prefix="pw")
    form.context_words = policy_context(user)
    if not form.validate_on_submit():
        return _render_detail(user, password_form=form)
    try:
        accounts.reset_password(actor=current_user, user=user, password=form.new_password.data)
    except accounts.NotAllowed:
        _refuse(user)
    flash(_("Temporary password set and the person's sessions ended. Give it to them privately."), "success")
    return redirect(url_for("admin.user_detail", user_uuid=user.uuid))



@bp.route("/staff/<user_uuid>/kundelik", methods=["POST"])
@require(PERM)
def kundelik_link(user_uuid: str) -> str | Response:
    """Link the account to a Kundelik person (an administrator's confirmation of who signs in with Kundelik)."""
    user = _get_user_or_404(user_uuid)
    form = KundelikLinkForm(prefix="kl")
    if not form.validate_on_submit():
        return _render_detail(user, kundelik_form=form)
    try:
        accounts.link_kundelik(actor=current_user, user=user, person_id=form.person_id.data or None)
    except accounts.NotAllowed:
        _refuse(user)
    except kundelik_services.PersonTaken:
        db.session.rollback()
        form.person_id.errors = [_("Another account is already linked to this Kundelik person.")]
        return _render_detail(user, kundelik_form=form)
    flash(_("Kundelik link saved.") if form.person_id.data else _("Kundelik link removed."), "success")
    return redirect(url_for("admin.user_detail", user_uuid=user.uuid))
