"""Forms of the help directory (admins) and of "ask for help" (pupils)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import URL, DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from app.help.models import ServiceKind
from app.help.services import MESSAGE_MAX

KIND_LABELS = {
    ServiceKind.HELPLINE.value: _l("Help line"),
    ServiceKind.SUPPORT_CENTRE.value: _l("Psychological support centre"),
    ServiceKind.CALL_CENTRE.value: _l("Call centre of an education department"),
    ServiceKind.EMERGENCY.value: _l("Emergency"),
}


class HelpServiceForm(FlaskForm):
    """A directory entry. Region 0 means national; a district (optional) narrows a regional entry."""

    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, v) for k, v in KIND_LABELS.items()],
                       validators=[DataRequired()])
    region_id = SelectField(_l("Region"), coerce=int, validators=[InputRequired()],
                            description=_l("National: shown everywhere. A region: shown to its schools."))
    district_id = SelectField(_l("District"), coerce=int, validators=[InputRequired()],
                              description=_l("Optional: only this district of the region."))
    name_kk = StringField(_l("Name in Kazakh"), validators=[DataRequired(), Length(max=200)])
    name_ru = StringField(_l("Name in Russian"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[DataRequired(), Length(max=32),
                                                 Regexp(r"^\+?[0-9 ()-]{3,31}$",
                                                        message=_l("Digits, spaces, brackets and dashes only."))])
    hours_kk = StringField(_l("Hours in Kazakh"), validators=[Optional(), Length(max=120)])
    hours_ru = StringField(_l("Hours in Russian"), validators=[Optional(), Length(max=120)])
    hours_en = StringField(_l("Hours in English"), validators=[Optional(), Length(max=120)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    website = StringField(_l("Website"), validators=[Optional(), Length(max=300),
                                                     URL(require_tld=True, message=_l("An address starting with "
                                                                                      "https://"))])
    source = StringField(_l("Source"), validators=[Optional(), Length(max=500)],
                         description=_l("Where the number is published (required for a national number)."))
    position = IntegerField(_l("Order"), default=100, validators=[InputRequired(), NumberRange(min=0, max=9999)])
    active = BooleanField(_l("Shown"), default=True)

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def, override]
        ok = super().validate(extra_validators)
        if self.region_id.data == 0 and not (self.source.data or "").strip():
            self.source.errors = [*self.source.errors, _l("A national number needs its source.")]
            ok = False
        if self.region_id.data == 0 and self.district_id.data:
            self.district_id.errors = [*self.district_id.errors, _l("A national number has no district.")]
            ok = False
        website = (self.website.data or "").strip()
        if website and not website.startswith(("https://", "http://")):
            self.website.errors = [*self.website.errors, _l("An address starting with https://")]
            ok = False
        return ok


class SchoolChoiceForm(FlaskForm):
    """Step 1 of an anonymous request: which school (GET, no CSRF needed: it changes nothing)."""

    class Meta:
        csrf = False

    school = SelectField(_l("Your school"), coerce=int, validators=[DataRequired()])


class HelpRequestForm(FlaskForm):
    """The message; ``class_id`` for an anonymous pupil, ``sign`` for a pupil we know."""

    class_id = SelectField(_l("Your class"), coerce=int, validators=[Optional()])
    message = TextAreaField(_l("Your message"), validators=[DataRequired(), Length(max=MESSAGE_MAX)],
                            description=_l("Write what is happening, in your own words. Only the school "
                                           "psychologist reads it."))
    sign = RadioField(_l("Who is writing"), choices=[
        SelectChoice("named", _l("Send it with my name, so the psychologist can find me")),
        SelectChoice("anonymous", _l("Send it without my name"))], default="named", validators=[Optional()])
