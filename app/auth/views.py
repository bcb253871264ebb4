"""Sign-in, sign-out, second factor and the user's own account."""

from __future__ import annotations

from flask import Blueprint, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth import reset, services, totp
from app.auth.forms import (
    CodeForm,
    EnrollForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    PhoneForm,
    ReauthForm,
)
from app.auth.permissions import Permission, has_permission, require
from app.core.framing import top_level_only
from app.core.i18n import language_choices
from app.core.links import safe_next
from app.kundelik import client as kundelik_client

bp = Blueprint("auth", __name__, template_folder="templates")


def _client_ip() -> str:
    return request.remote_addr or "unknown"


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("core.index"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        if g.get("senim_session_expired"):
            flash(_("You were signed out after a period of inactivity. Please sign in again."), "info")
    failed = False
    if form.validate_on_submit():
        result = services.attempt_login(
            username=form.username.data, password=form.password.data, ip=_client_ip(),
            user_agent=request.user_agent.string,
        )
        if result.outcome is services.LoginOutcome.SUCCESS:
            return redirect(safe_next(form.next.data))
        failed = True
    return render_template("auth/login.html", form=form, failed=failed, reset_available=reset.available(),
                           kundelik_available=kundelik_client.configured())


@bp.route("/logout", methods=["POST"])
@require(Permission.ACCOUNT_SELF, mfa=False)
def logout() -> Response:
    services.logout(current_user)
    response = make_response(redirect(url_for("auth.login")))
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.route("/mfa", methods=["GET", "POST"])
@require(Permission.ACCOUNT_SELF, mfa=False)
def mfa_verify() -> str | Response:
    if not current_user.mfa_enrolled:
        return redirect(url_for("auth.mfa_enroll"))
    form = CodeForm()
    if form.validate_on_submit():
        if services.verify_mfa(user=current_user, code=form.code.data, ip=_client_ip()):
            return redirect(safe_next(request.args.get("next")))
        flash(_("That code was not accepted. Wait for a new code and try again."), "error")
    return render_template("auth/mfa_verify.html", form=form)


@bp.route("/reauth", methods=["GET", "POST"])
@top_level_only  # step-up before data leaves Senim: in its own window (README, "Embedding in Kundelik")
@require(Permission.ACCOUNT_SELF)
def reauth() -> str | Response:
    """Step-up (app.auth.stepup): enter the password (and code) again, then go back to ``next``."""
    form = ReauthForm()
    if not current_user.requires_mfa:
        del form.code
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        code = form.code.data if current_user.requires_mfa else None
        if services.reauthenticate(user=current_user, password=form.password.data, code=code, ip=_client_ip()):
            return redirect(safe_next(form.next.data))
        flash(_("That was not accepted. Check what you typed and try again."), "error")
    return render_template("auth/reauth.html", form=form, with_code=current_user.requires_mfa)


@bp.route("/mfa/enroll", methods=["GET", "POST"])
@require(Permission.ACCOUNT_SELF, mfa=False)
def mfa_enroll() -> str | Response:
    if current_user.mfa_enrolled and g.get("senim_mfa_verified"):
        return redirect(url_for("auth.account"))
    if current_user.mfa_enrolled:
        return redirect(url_for("auth.mfa_verify"))
    form = EnrollForm()
    if request.method == "GET" or not form.secret.data:
        form.secret.data = totp.new_secret()
    if form.validate_on_submit():
        if services.enroll_mfa(user=current_user, secret=form.secret.data, code=form.code.data, ip=_client_ip()):
            flash(_("Two-step sign-in is set up."), "success")
            return redirect(url_for("core.index"))
        flash(_("That code was not accepted. Check the time on your phone and try again."), "error")
    uri = totp.provisioning_uri(form.secret.data, account=current_user.username)
    return render_template(
        "auth/mfa_enroll.html", form=form, secret=form.secret.data,
        qr=totp.qr_svg(uri, title=_("QR code for your authenticator app")),
    )


@bp.route("/account", methods=["GET", "POST"])
@top_level_only  # password change: where the address bar shows Senim's address
@require(Permission.ACCOUNT_SELF)
def account() -> str | Response:
    password_form = PasswordChangeForm(prefix="pw")
    password_form.context_words = services.policy_context(current_user)
    language_form = LanguageForm(prefix="lang")
    phone_form = PhoneForm(prefix="phone") if has_permission(current_user, Permission.SCREENING_ALERTS) else None
    language_form.language.choices = language_choices()
    if request.method == "GET":
        language_form.language.data = current_user.preferred_language or str(get_locale())
        if phone_form is not None:
            phone_form.phone.data = current_user.phone or ""
    if "pw-current_password" in request.form and password_form.validate_on_submit():
        was_required = current_user.password_change_required
        if services.change_password(user=current_user, current_password=password_form.current_password.data,
                                    new_password=password_form.new_password.data):
            flash(_("Your password is changed. Your other sessions were signed out."), "success")
            return redirect(url_for("core.index" if was_required else "auth.account"))
        password_form.current_password.errors.append(_("The current password is not correct."))
    elif "lang-language" in request.form and language_form.validate_on_submit():
        services.set_language(user=current_user, language=language_form.language.data)
        flash(_("Language saved."), "success")
        return redirect(url_for("auth.account"))
    elif phone_form is not None and "phone-phone" in request.form and phone_form.validate_on_submit():
        services.set_phone(user=current_user, phone=phone_form.phone.data)
        flash(_("Work phone saved.") if current_user.phone else _("Work phone removed."), "success")
        return redirect(url_for("auth.account"))
    return render_template("auth/account.html", password_form=password_form, language_form=language_form,
                           phone_form=phone_form)


@bp.route("/password/forgot", methods=["GET", "POST"])
def password_forgot() -> str | Response:
    """Ask for a reset link. Every request gets the same answer, whether or not an account matched."""
    if current_user.is_authenticated:
        return redirect(url_for("auth.account"))
    form = ForgotPasswordForm()
    if reset.available() and form.validate_on_submit():
        reset.request_reset(identifier=form.identifier.data, ip=_client_ip(), fallback_language=str(get_locale()))
        return redirect(url_for("auth.password_forgot", sent=1))
    return render_template("auth/password_forgot.html", form=form, available=reset.available(),
                           sent=request.args.get("sent") == "1")


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def password_reset(token: str) -> str | Response | tuple[str, int]:
    """Choose a new password through an e-mailed link; then sign in as usual (second factor included)."""
    try:
        link = reset.check_link(token)
    except reset.InvalidResetLink as refused:
        reset.reject(refused.reason)
        return render_template("auth/password_reset_invalid.html"), 404
    form = PasswordResetForm()
    form.context_words = services.policy_context(link.user)
    if form.validate_on_submit():
        try:
            reset.complete_reset(token=token, new_password=form.new_password.data)
        except services.SamePassword:
            form.new_password.errors = [_("Choose a new password that differs from the current one.")]
        except reset.InvalidResetLink as refused:
            reset.reject(refused.reason)
            return render_template("auth/password_reset_invalid.html"), 404
        else:
            flash(_("Your password is changed and you were signed out everywhere. Sign in with the new password."),
                  "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/password_reset.html", form=form, username=link.user.username)
