"""Sign-in and account forms."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from app.auth import passwords

POLICY_MESSAGES = {
    passwords.PolicyViolation.TOO_SHORT: _l("Use at least %(n)d characters.", n=passwords.MIN_LENGTH),
    passwords.PolicyViolation.TOO_LONG: _l("Use at most %(n)d characters.", n=passwords.MAX_LENGTH),
    passwords.PolicyViolation.COMMON: _l("This password is too common. A few unrelated words work well."),
    passwords.PolicyViolation.CONTAINS_CONTEXT: _l(
        "The password must not contain your name, sign-in name, school or the product's name."
    ),
}


class LoginForm(FlaskForm):
    username = StringField(_l("Sign-in name"), validators=[DataRequired(), Length(max=150)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()


class CodeForm(FlaskForm):
    code = StringField(
        _l("Six-digit code from your authenticator app"),
        validators=[DataRequired(), Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message=_l("Enter the six digits."))],
    )


class ReauthForm(CodeForm):
    """Step-up: the password again, and the code for roles with a second factor (the view drops it otherwise)."""

    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()


class EnrollForm(CodeForm):
    secret = HiddenField(validators=[DataRequired(), Regexp(r"^[A-Z2-7]{16,64}$")])


class NewPasswordMixin:
    """Validation of a new password against the policy (context words set by the view)."""

    context_words: list[str] = []

    def validate_new_password(self, field: PasswordField) -> None:
        violations = passwords.check_password_policy(field.data or "", context_words=self.context_words)
        if violations:
            raise ValidationError(" ".join(str(POLICY_MESSAGES[v]) for v in violations))


class NewPasswordForm(NewPasswordMixin, FlaskForm):
    """A new password, twice, checked against the policy."""

    new_password = PasswordField(
        _l("New password"), validators=[DataRequired()],
        description=_l("At least 10 characters. A phrase of several words is easy to remember and hard to guess."),
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The two passwords differ."))],
    )


class PasswordChangeForm(NewPasswordForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])

    def validate_new_password(self, field: PasswordField) -> None:
        super().validate_new_password(field)
        if field.data and self.current_password.data and passwords.same_password(
                self.current_password.data, field.data):
            raise ValidationError(_l("Choose a new password that differs from the current one."))


class LanguageForm(FlaskForm):
    language = SelectField(_l("Interface language"), choices=[])


_PHONE_MESSAGE = _l("Write a phone number like +7 701 234 5678 or 8 7172 12 34 56.")


class PhoneForm(FlaskForm):
    """A psychologist's work phone: the school administrator sees it beside an escalated urgent alert."""

    phone = StringField(_l("Work phone"), filters=[lambda v: (v or "").strip()], validators=[Length(max=30)],
                        description=_l("The school administrator sees it beside an urgent alert that was not "
                                       "answered in time, to call you. Leave it empty to remove it."))

    def validate_phone(self, field: StringField) -> None:
        from app.core.phone import normalise_phone

        if re.search(r"[^\d\s()+\-.]", field.data or ""):
            raise ValidationError(str(_PHONE_MESSAGE))
        try:
            normalise_phone(field.data or "")
        except ValueError:
            raise ValidationError(str(_PHONE_MESSAGE)) from None


class ForgotPasswordForm(FlaskForm):
    identifier = StringField(_l("Sign-in name or e-mail address"), validators=[DataRequired(), Length(max=254)])


class PasswordResetForm(NewPasswordForm):
    """A new password chosen through a reset link (the same fields and rules as a change)."""
