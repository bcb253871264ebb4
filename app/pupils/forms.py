"""Pupil forms, with IIN checksum and birth-date checks."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from app.core.iin import InvalidIIN, parse_iin

NAME_PATTERN = r"^[^\d<>{}\[\]\\/@#$%^&*=+|~`\"]+$"
NAME_MESSAGE = _l("Use letters, spaces, hyphens and apostrophes only.")


class PupilForm(FlaskForm):
    last_name = StringField(_l("Surname"), validators=[DataRequired(), Length(max=100),
                                                       Regexp(NAME_PATTERN, message=NAME_MESSAGE)])
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100),
                                                           Regexp(NAME_PATTERN, message=NAME_MESSAGE)])
    patronymic = StringField(_l("Patronymic"), validators=[Optional(), Length(max=100),
                                                           Regexp(NAME_PATTERN, message=NAME_MESSAGE)])
    iin = StringField(_l("IIN"), validators=[Optional(), Regexp(r"^\d{12}$", message=_l("The IIN has 12 digits."))],
                      description=_l("12 digits. It is stored encrypted."))
    birth_date = DateField(_l("Date of birth"), validators=[DataRequired()])
    sex = RadioField(_l("Sex"), choices=[SelectChoice("female", _l("Female")), SelectChoice("male", _l("Male"))],
                     validators=[DataRequired()])
    class_id = SelectField(_l("Class"), coerce=int, validators=[DataRequired()])

    def validate_iin(self, field: StringField) -> None:
        if not field.data:
            return
        try:
            info = parse_iin(field.data)
        except InvalidIIN as exc:
            if exc.code == "checksum":
                raise ValidationError(_l("This IIN has a wrong check digit. Check it against the document.")) from exc
            raise ValidationError(_l("This is not a valid IIN.")) from exc
        if self.birth_date.data and info.birth_date != self.birth_date.data:
            raise ValidationError(_l("The IIN does not match the date of birth."))
        if self.sex.data and info.sex != self.sex.data:
            raise ValidationError(_l("The IIN does not match the sex."))


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Surname and first name"), validators=[Optional(), Length(max=200)],
                    description=_l("Exact surname and first name, e.g. \u201cAkhmetov Yerlan\u201d."))
    class_id = SelectField(_l("Class"), coerce=int, validators=[Optional()])
