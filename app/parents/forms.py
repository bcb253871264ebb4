"""Forms of the parent portal: a parent's request for a meeting and answer to a proposed time; the psychologist's
answer and summaries. The answers to a request carry the version they were loaded with (hidden)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from app.parents.meetings import MESSAGE_MAX, NOTE_MAX, REPLY_MAX, TIMES_MAX
from app.parents.summaries import BODY_MAX


class MeetingRequestForm(FlaskForm):
    child = SelectField(_l("About which child"), validators=[DataRequired()])
    times = TextAreaField(_l("When suits you"), validators=[DataRequired(), Length(max=TIMES_MAX)],
                          description=_l("Days and times you can come, e.g. “Tuesday or Thursday after 15:00”."))
    message = TextAreaField(_l("What you would like to talk about (optional)"),
                            validators=[Optional(), Length(max=MESSAGE_MAX)],
                            description=_l("Only the school psychologist reads it."))


def _version() -> IntegerField:
    return IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class ScheduleForm(FlaskForm):
    version = _version()
    day = DateField(_l("Day"), validators=[DataRequired()])
    time = TimeField(_l("Time"), validators=[DataRequired()])
    reply = TextAreaField(_l("Note to the parent (optional)"), validators=[Optional(), Length(max=REPLY_MAX)],
                          description=_l("For example the room, or what to bring."))


class DeclineForm(FlaskForm):
    version = _version()
    reply = TextAreaField(_l("Message to the parent"), validators=[DataRequired(), Length(max=REPLY_MAX)],
                          description=_l("Say why, and what the parent can do instead."))


class MeetingStepForm(FlaskForm):
    """A parent's button on a meeting request (accept the time, cancel): the CSRF token and the version."""

    version = _version()


class OtherTimeForm(FlaskForm):
    """The parent asks for another time than the one proposed."""

    version = _version()
    note = TextAreaField(_l("Which days and times suit you better (optional)"),
                         validators=[Optional(), Length(max=NOTE_MAX)],
                         description=_l("Only the school psychologist reads it."))


class EmptyForm(FlaskForm):
    """A button that changes one thing (cancel a request, take a release back): the CSRF token only."""


class SummaryForm(FlaskForm):
    body = TextAreaField(_l("Summary for the parents"), validators=[DataRequired(), Length(max=BODY_MAX)],
                         description=_l("A few sentences for the parents: how the child is doing and what helps. "
                                        "No answers, scores, registry status or notes."))


class ReleaseForm(FlaskForm):
    confirm = BooleanField(_l("I have read the text again: it is written for the parents and may be shown to them"),
                           validators=[DataRequired()])
