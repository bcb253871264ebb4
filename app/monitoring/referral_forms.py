"""Forms of referrals, algorithm steps and case transfers. Forms that edit a record carry its version (hidden)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import HiddenInput

from app.monitoring import referral_labels
from app.monitoring.forms import TEXT_MAX
from app.monitoring.referral_models import ReferralDestination
from app.screening.forms import choices


def _version() -> IntegerField:
    return IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class ReferralForm(FlaskForm):
    destination = RadioField(_l("Referred to"), validators=[DataRequired()], choices=choices(
        (d.value, referral_labels.DESTINATION[d]) for d in ReferralDestination))
    reason = TextAreaField(_l("Reason for the referral"), validators=[DataRequired(), Length(max=TEXT_MAX)],
                           description=_l("Only the case team can read it; it is stored encrypted."))
    sent_on = DateField(_l("Sent on"), validators=[DataRequired()])
    deadline = DateField(_l("Answer expected by"), validators=[DataRequired()])

    def validate_deadline(self, field: DateField) -> None:
        if field.data and self.sent_on.data and field.data < self.sent_on.data:
            raise ValidationError(_l("The deadline must not be before the day the referral was sent."))


class ReferralStatusForm(FlaskForm):
    status = SelectField(_l("What happened"), validators=[DataRequired()])
    text = TextAreaField(_l("Outcome, or why it was declined"), validators=[Optional(), Length(max=TEXT_MAX)],
                         description=_l("Needed for an outcome or a refusal. Stored encrypted."))
    on = DateField(_l("Date"), validators=[Optional()])
    version = _version()


class StepDoneForm(FlaskForm):
    note = StringField(_l("What was done (optional)"), validators=[Optional(), Length(max=500)])
    version = _version()


class TransferForm(FlaskForm):
    to_school = SelectField(_l("The pupil's new school"), coerce=int, validators=[DataRequired()])


class TransferAnswerForm(FlaskForm):
    version = _version()


class TransferDeclineForm(FlaskForm):
    reason = TextAreaField(_l("Why you decline"), validators=[DataRequired(), Length(max=TEXT_MAX)],
                           description=_l("The sending school's case team reads it."))
    version = _version()
