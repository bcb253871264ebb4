"""Forms of the plans, follow-ups and contacts with parents; every form that edits a record carries its version."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from app.monitoring import plan_labels
from app.monitoring.followups import INTERVAL_RANGE
from app.monitoring.forms import TEXT_MAX
from app.monitoring.plan_models import ActionStatus, ContactWay, SafetySection
from app.screening.forms import choices


def _section(section: SafetySection) -> TextAreaField:
    return TextAreaField(plan_labels.SECTION[section], description=plan_labels.SECTION_HINT[section],
                         validators=[Optional(), Length(max=TEXT_MAX)])


class SafetyPlanForm(FlaskForm):
    warning_signs = _section(SafetySection.WARNING_SIGNS)
    coping = _section(SafetySection.COPING)
    distraction = _section(SafetySection.DISTRACTION)
    people = _section(SafetySection.PEOPLE)
    professionals = _section(SafetySection.PROFESSIONALS)
    environment = _section(SafetySection.ENVIRONMENT)
    review_on = DateField(_l("Review the plan on"), validators=[Optional()])
    #: The plan's version the form was loaded with; empty for a plan not saved yet.
    version = IntegerField(widget=HiddenInput(), validators=[Optional()])


class ReviewForm(FlaskForm):
    note = TextAreaField(_l("What the review concluded"), validators=[DataRequired(), Length(max=TEXT_MAX)])
    next_review_on = DateField(_l("Next review"), validators=[Optional()])


class ActionForm(FlaskForm):
    action = TextAreaField(_l("Action"), validators=[DataRequired(), Length(max=TEXT_MAX)])
    responsible = StringField(_l("Responsible person"), validators=[DataRequired(), Length(max=200)])
    due_on = DateField(_l("Due date"), validators=[Optional()])


class ActionUpdateForm(FlaskForm):
    status = SelectField(_l("Status"), validators=[DataRequired()], choices=choices(
        (status.value, plan_labels.ACTION_STATUS[status]) for status in ActionStatus))
    outcome = TextAreaField(_l("Outcome"), validators=[Optional(), Length(max=TEXT_MAX)])
    due_on = DateField(_l("Due date"), validators=[Optional()])
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class FollowUpForm(FlaskForm):
    done_on = DateField(_l("Date"), validators=[DataRequired()])
    done = TextAreaField(_l("What was done"), validators=[DataRequired(), Length(max=TEXT_MAX)])
    outcome = TextAreaField(_l("Outcome"), validators=[Optional(), Length(max=TEXT_MAX)])
    next_on = DateField(_l("Next follow-up"), validators=[Optional()],
                        description=_l("Leave empty to plan it one interval later."))


class IntervalForm(FlaskForm):
    days = IntegerField(_l("Days between follow-ups"), validators=[InputRequired(), NumberRange(*INTERVAL_RANGE)])
    version = IntegerField(widget=HiddenInput(), validators=[Optional()])


class ParentContactForm(FlaskForm):
    contacted_on = DateField(_l("Date"), validators=[DataRequired()])
    way = SelectField(_l("How"), validators=[DataRequired()], choices=choices(
        (way.value, plan_labels.CONTACT_WAY[way]) for way in ContactWay))
    summary = TextAreaField(_l("Summary"), validators=[DataRequired(), Length(max=TEXT_MAX)],
                            description=_l("Stored encrypted; only the case team can read it."))
