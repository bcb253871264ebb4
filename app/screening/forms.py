"""Screening forms: campaign planning, code entry, questions, paper entry, alert actions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget


def choices(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """WTForms 3.2 choices (plain tuples are deprecated)."""
    return [SelectChoice(value, label) for value, label in pairs]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CampaignForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)],
                        description=_l("For example \u201cAutumn wellbeing screening, grades 7\u20139\u201d."))
    instruments = MultiCheckboxField(_l("Instruments"), validators=[DataRequired()])
    classes = MultiCheckboxField(_l("Classes"), coerce=int, validators=[DataRequired()])
    opens_on = DateField(_l("Opens on"), validators=[DataRequired()])
    closes_on = DateField(_l("Closes on"), validators=[DataRequired()])
    mode = RadioField(_l("How pupils answer"), validators=[DataRequired()],
                      choices=[SelectChoice("online", _l("Online, with a personal one-time code")),
                               SelectChoice("paper", _l("On paper; the psychologist enters the answers"))])

    def validate_opens_on(self, field: DateField) -> None:
        _plausible(field)

    def validate_closes_on(self, field: DateField) -> None:
        _plausible(field)
        if self.opens_on.data and field.data and field.data < self.opens_on.data:
            raise ValidationError(_l("The closing date must not be before the opening date."))


#: A campaign's window lies in these years: a date such as 0001-01-01 is a typing slip, and turning its
#: school-time midnight into UTC falls outside the calendar (a 500 on PostgreSQL).
CAMPAIGN_YEARS = (2000, 2099)


def _plausible(field: DateField) -> None:
    if field.data and not CAMPAIGN_YEARS[0] <= field.data.year <= CAMPAIGN_YEARS[1]:
        raise ValidationError(_l("Enter a date between %(first)s and %(last)s.", first=CAMPAIGN_YEARS[0],
                                 last=CAMPAIGN_YEARS[1]))


class IssueCodesForm(FlaskForm):
    pupils = MultiCheckboxField(_l("Pupils"), validators=[DataRequired()])
    #: Set by the confirmation page: live codes of the chosen pupils may be replaced.
    replace = BooleanField()


class CardsPrintedForm(FlaskForm):
    pass


class CodeForm(FlaskForm):
    code = StringField(_l("Your code"), validators=[DataRequired(), Length(max=20)],
                       description=_l("It is printed on the card you got, e.g. K7QM-4XPA."))


class LanguageForm(FlaskForm):
    language = RadioField(_l("Language"), validators=[DataRequired()])


class QuestionForm(FlaskForm):
    """One question of self-completion: the hot path of a screening (bench/README.md).

    No form-level CSRF field: CSRFProtect already checks the token of every POST (app-wide), and a
    form-level field would sign a fresh token on each answer save only to throw it away on the redirect.
    The page renders the token itself with ``csrf_token()``.
    """

    class Meta:
        csrf = False

    answer = RadioField("", coerce=int, validators=[InputRequired(message=_l("Choose one answer."))])


class PaperEntryForm(FlaskForm):
    pupil = SelectField(_l("Pupil"), validators=[DataRequired()])
    instrument = SelectField(_l("Instrument"), validators=[DataRequired()])
    language = SelectField(_l("Language of the paper form"), validators=[DataRequired()])


class AcknowledgeForm(FlaskForm):
    pass


class ResolveForm(FlaskForm):
    note = TextAreaField(_l("What was done"), validators=[DataRequired(), Length(max=4000)],
                         description=_l("Stored encrypted. For example: talked with the pupil, parents informed."))


class OptionalNote(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=4000)])
