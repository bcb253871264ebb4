"""Seminar forms. The organiser's forms carry the version they were loaded with (hidden); the services check every
rule again."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from app.admin.forms import choices
from app.core.routing import db_int
from app.seminars import services
from app.seminars.models import Audience

AUDIENCE_LABELS = {
    Audience.PARENTS.value: _l("Parents"),
    Audience.STAFF.value: _l("Teachers and school staff"),
    Audience.BOTH.value: _l("Parents, teachers and school staff"),
}
LANGUAGE_LABELS = {"kk": _l("Kazakh"), "ru": _l("Russian"), "en": _l("English")}
MARKDOWN_HINT = _l("Plain text; *italics*, **bold**, lists with “-” and links as [text](https://…) work.")


def _version() -> IntegerField:
    return IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class SeminarForm(FlaskForm):
    """Schedule or change a seminar. Times are the school's (Kazakhstan time)."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=services.TITLE_MAX)])
    description = TextAreaField(_l("Description"), description=MARKDOWN_HINT,
                                validators=[Optional(), Length(max=services.TEXT_MAX)])
    audience = RadioField(_l("Who it is for"), validators=[DataRequired()],
                          choices=choices(AUDIENCE_LABELS.items()), default=Audience.PARENTS.value)
    where = SelectField(_l("For which school or area"), validators=[DataRequired()])
    day = DateField(_l("Day"), validators=[DataRequired()])
    starts = TimeField(_l("Starts at"), description=_l("Kazakhstan time."), validators=[DataRequired()])
    ends = TimeField(_l("Ends at"), validators=[DataRequired()])
    online_url = StringField(_l("Online link"), description=_l("For an online seminar: an address starting with "
                                                               "https://. Registered people see it."),
                             validators=[Optional(), Length(max=services.URL_MAX)])
    place = StringField(_l("Place"), description=_l("Or, for a seminar in person: the room or address."),
                        validators=[Optional(), Length(max=services.PLACE_MAX)])
    capacity = IntegerField(_l("Places"), default=30,
                            validators=[InputRequired(), NumberRange(min=1, max=services.CAPACITY_MAX)])
    closes = DateTimeLocalField(_l("Registration closes"), format="%Y-%m-%dT%H:%M",
                                description=_l("Optional: empty means when the seminar starts."),
                                validators=[Optional()])
    language = SelectField(_l("Language of the seminar"), choices=choices(LANGUAGE_LABELS.items()),
                           validators=[DataRequired()])
    version = IntegerField(widget=HiddenInput(), validators=[Optional()])


class CancelForm(FlaskForm):
    reason = StringField(_l("Reason (registered people read it)"),
                         validators=[Optional(), Length(max=services.REASON_MAX)])
    version = _version()


class MaterialsForm(FlaskForm):
    materials = TextAreaField(_l("Materials"), description=MARKDOWN_HINT,
                              validators=[Optional(), Length(max=services.TEXT_MAX)])
    version = _version()


class _Present(SelectMultipleField):
    """Registration ids as checkboxes. A value that is not a database id is dropped, and ids that are not the
    seminar's active registrations are ignored by the service, so no choice check here."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, label: object = None, **kwargs: object) -> None:
        super().__init__(label, coerce=int, validate_choice=False, **kwargs)  # type: ignore[arg-type]

    def process_formdata(self, valuelist: list[str]) -> None:
        present = []
        for value in valuelist:
            try:
                present.append(db_int(value))
            except ValueError:
                continue
        self.data = present


class AttendanceForm(FlaskForm):
    """Who attended (the choices are the seminar's registrations, set by the view), with the seminar's version the
    sheet was loaded at: a sheet saved after a colleague's save gets the conflict page."""

    present = _Present(_l("Who attended"), validators=[Optional()])
    version = _version()


class ActionForm(FlaskForm):
    """A button that changes something (register, cancel a registration, save attendance): CSRF only."""
