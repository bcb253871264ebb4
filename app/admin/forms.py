"""Admin forms. Each form declares exactly the fields it takes; choices are filled by the view from the
actor's scope, so a posted id outside the scope fails validation ("Not a valid choice")."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from app.auth import passwords
from app.auth.forms import POLICY_MESSAGES
from app.auth.roles import ROLE_SCOPE, ScopeKind
from app.core.audit import AuditAction, Outcome
from app.core.audit_labels import AUDIT_ACTION_LABELS
from app.core.models import GuardianRelation


def choices(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


LANGUAGE_CHOICES = choices([("kk", _l("Kazakh")), ("ru", _l("Russian"))])
USERNAME_PATTERN = r"^[a-zA-Z0-9._-]{3,150}$"
USERNAME_MESSAGE = _l("Use 3 to 150 Latin letters, digits, dots, hyphens or underscores.")
#: Class letters: Kazakh, Russian and Latin capitals or small letters.
LETTER_PATTERN = r"^[A-Za-zА-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі]{1,4}$"


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class NamesMixin:
    name_kk = StringField(_l("Name in Kazakh"), filters=[_strip], validators=[DataRequired(), Length(max=200)])
    name_ru = StringField(_l("Name in Russian"), filters=[_strip], validators=[DataRequired(), Length(max=200)])


class RegionForm(NamesMixin, FlaskForm):
    pass


class DistrictForm(NamesMixin, FlaskForm):
    region_id = SelectField(_l("Region"), coerce=int, validators=[DataRequired()])


class SchoolForm(NamesMixin, FlaskForm):
    district_id = SelectField(_l("District"), coerce=int, validators=[DataRequired()])
    kundelik_id = StringField(
        _l("Kundelik id"), filters=[_strip],
        validators=[Optional(), Length(max=64), Regexp(r"^[\w-]+$", message=_l("Use digits and letters only."))],
        description=_l("The school's id in Kundelik, for roster sync. Leave empty if not known yet."))
    default_language = SelectField(_l("Default language"), choices=LANGUAGE_CHOICES,
                                   description=_l("Used when neither the user nor the browser chooses one."))


class ClassForm(FlaskForm):
    grade = IntegerField(_l("Grade"), validators=[
        InputRequired(message=_l("Enter a grade from 0 to 12.")),
        NumberRange(min=0, max=12, message=_l("Enter a grade from 0 to 12."))],
        description=_l("0 for the pre-school class, otherwise 1 to 12."))
    letter = StringField(_l("Letter"), filters=[_strip],
                         validators=[DataRequired(), Regexp(LETTER_PATTERN, message=_l("Use one to four letters."))])
    school_year = IntegerField(_l("School year starts in"), validators=[
        DataRequired(message=_l("Enter the year the school year starts, e.g. 2026.")),
        NumberRange(min=2000, max=2100, message=_l("Enter the year the school year starts, e.g. 2026."))])
    language = SelectField(_l("Language of instruction"), choices=LANGUAGE_CHOICES)


class NewClassForm(ClassForm):
    school_id = SelectField(_l("School"), coerce=int, validators=[DataRequired()])


class ClassFilterForm(FlaskForm):
    class Meta:
        csrf = False

    school_id = SelectField(_l("School"), coerce=int, validators=[Optional()])
    year = SelectField(_l("School year"), coerce=int, validators=[Optional()])


class SchoolFilterForm(FlaskForm):
    class Meta:
        csrf = False

    region_id = SelectField(_l("Region"), coerce=int, validators=[Optional()])
    district_id = SelectField(_l("District"), coerce=int, validators=[Optional()])


class PolicyPasswordMixin:
    """A ``new_password`` field checked against the password policy; ``context_words`` set by the view."""

    context_words: list[str] = []

    def extra_context(self) -> list[str]:
        return []

    def validate_new_password(self, field: PasswordField) -> None:
        if not field.data:
            return
        words = [*self.context_words, *self.extra_context()]
        violations = passwords.check_password_policy(field.data, context_words=words)
        if violations:
            raise ValidationError(" ".join(str(POLICY_MESSAGES[v]) for v in violations))


_PASSWORD_HINT = _l("At least 10 characters. Give it to the person privately; they must replace it with a "
                    "password of their own when they next sign in.")


class AccountFieldsMixin(PolicyPasswordMixin):
    username = StringField(_l("Sign-in name"), filters=[_strip],
                           validators=[DataRequired(), Regexp(USERNAME_PATTERN, message=USERNAME_MESSAGE)])
    full_name = StringField(_l("Full name"), filters=[_strip], validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), filters=[_strip], validators=[
        Optional(), Length(max=254), Email(message=_l("Enter an e-mail address like name@example.kz."),
                                           check_deliverability=False)])
    new_password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(max=1024)],
                                 description=_PASSWORD_HINT)

    def extra_context(self) -> list[str]:
        return [self.username.data or "", self.full_name.data or ""]  # type: ignore[attr-defined]


class RoleScopeMixin:
    """A role and the one scope field it needs (school, class, district or region)."""

    role = SelectField(_l("Role"), validators=[DataRequired()])
    school_id = SelectField(_l("School"), coerce=int, validators=[Optional()])
    class_id = SelectField(_l("Class"), coerce=int, validators=[Optional()])
    district_id = SelectField(_l("District"), coerce=int, validators=[Optional()])
    region_id = SelectField(_l("Region"), coerce=int, validators=[Optional()])

    _SCOPE_FIELDS = {ScopeKind.SCHOOL: "school_id", ScopeKind.CLASS: "class_id",
                     ScopeKind.DISTRICT: "district_id", ScopeKind.REGION: "region_id"}

    def validate(self, extra_validators: Any = None) -> bool:
        from app.auth.roles import Role

        valid = super().validate(extra_validators)  # type: ignore[misc]
        role = self.role.data  # type: ignore[attr-defined]
        if role and role not in Role._value2member_map_:
            return False  # not one of the choices (a forged form): the field already says so; was a 500
        name = self._SCOPE_FIELDS.get(ROLE_SCOPE[Role(role)]) if role else None
        if name is not None and not getattr(self, name).data:
            getattr(self, name).errors.append(_l("Choose where this role applies."))
            return False
        return valid


class UserForm(AccountFieldsMixin, RoleScopeMixin, FlaskForm):
    pass


class GrantForm(RoleScopeMixin, FlaskForm):
    pass


class PasswordResetForm(PolicyPasswordMixin, FlaskForm):
    new_password = PasswordField(_l("Temporary password"), validators=[DataRequired(), Length(max=1024)],
                                 description=_PASSWORD_HINT)


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token."""


class KundelikLinkForm(FlaskForm):
    """The Kundelik person an account belongs to (empty: no link)."""

    person_id = StringField(
        _l("Kundelik person number"), filters=[_strip],
        validators=[Optional(), Regexp(r"^\d{1,20}$", message=_l("A Kundelik person number has only digits."))],
        description=_l("The number Senim showed the person after a Kundelik sign-in, or the person's id in the "
                       "school's Kundelik roster. Their next “Sign in with Kundelik” opens this account."))


class GuardianClassForm(FlaskForm):
    class Meta:
        csrf = False

    class_id = SelectField(_l("Class"), coerce=int, validators=[DataRequired()])


RELATION_CHOICES = choices([
    (GuardianRelation.MOTHER.value, _l("Mother")), (GuardianRelation.FATHER.value, _l("Father")),
    (GuardianRelation.GUARDIAN.value, _l("Guardian")), (GuardianRelation.OTHER.value, _l("Other")),
])


class GuardianForm(PolicyPasswordMixin, FlaskForm):
    class_id = HiddenField(validators=[DataRequired()])
    pupil_id = SelectField(_l("Pupil"), coerce=int, validators=[DataRequired()])
    relation = SelectField(_l("Relation"), choices=RELATION_CHOICES)
    is_legal_representative = BooleanField(_l("Legal representative (may give or withdraw consent)"), default=True)
    username = StringField(_l("Parent's sign-in name"), filters=[_strip],
                           validators=[DataRequired(), Regexp(USERNAME_PATTERN, message=USERNAME_MESSAGE)],
                           description=_l("An existing parent account, or a new one to create below."))
    create_account = BooleanField(_l("Create this account"))
    full_name = StringField(_l("Full name"), filters=[_strip], validators=[Optional(), Length(max=200)])
    email = EmailField(_l("E-mail"), filters=[_strip], validators=[
        Optional(), Length(max=254), Email(message=_l("Enter an e-mail address like name@example.kz."),
                                           check_deliverability=False)])
    new_password = PasswordField(_l("Initial password"), validators=[Optional(), Length(max=1024)],
                                 description=_PASSWORD_HINT)

    def extra_context(self) -> list[str]:
        return [self.username.data or "", self.full_name.data or ""]

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if self.create_account.data:
            if not self.full_name.data:
                self.full_name.errors.append(_l("Enter the parent's full name."))
                valid = False
            if not self.new_password.data:
                self.new_password.errors.append(_l("Enter an initial password."))
                valid = False
        return valid


OUTCOME_CHOICES = choices([("", _l("Any outcome")), (Outcome.SUCCESS.value, _l("allowed")),
                   (Outcome.DENIED.value, _l("refused")), (Outcome.FAILED.value, _l("failed"))])


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = SelectField(_l("Action"), validators=[Optional()], choices=choices(
        [("", _l("Any action")), *((a.value, AUDIT_ACTION_LABELS[a]) for a in AuditAction)]))
    outcome = SelectField(_l("Outcome"), choices=OUTCOME_CHOICES, validators=[Optional()])
    user_id = IntegerField(_l("User id"), validators=[Optional(), NumberRange(min=1)])
    pupil_id = IntegerField(_l("Pupil id"), validators=[Optional(), NumberRange(min=1)])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
