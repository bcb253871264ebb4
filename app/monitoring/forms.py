"""Monitoring forms. Every form that edits a record carries the version it was loaded with (hidden)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import HiddenInput

from app.monitoring import labels
from app.monitoring.models import CaseOrigin, RegistryKind, RegistryReason, RiskLevel
from app.screening.forms import choices

#: Longest note, reason or basis text (a page of text; longer belongs in an attachment).
TEXT_MAX = 4000


def _version() -> IntegerField:
    return IntegerField(widget=HiddenInput(), validators=[InputRequired()])


def _risk_field(label: object) -> RadioField:
    return RadioField(label, validators=[DataRequired()],
                      choices=choices((level.value, labels.RISK[level]) for level in RiskLevel))


def _reason_field(label: object, description: object = None) -> TextAreaField:
    return TextAreaField(label, description=description, validators=[DataRequired(), Length(max=TEXT_MAX)])


class OpenCaseForm(FlaskForm):
    origin = RadioField(_l("Where the concern came from"), validators=[DataRequired()], choices=choices(
        (origin.value, labels.ORIGIN[origin]) for origin in CaseOrigin if origin is not CaseOrigin.ALERT))
    risk = _risk_field(_l("Risk level"))
    reason = _reason_field(_l("Why this risk level"),
                           _l("What you know now. Only the case team can read it; it is stored encrypted."))
    next_review_on = DateField(_l("Next review"), validators=[Optional()])


class RiskForm(FlaskForm):
    risk = _risk_field(_l("New risk level"))
    reason = _reason_field(_l("Reason for the change"))
    version = _version()


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"), validators=[DataRequired()])
    reason = _reason_field(_l("Reason"))
    version = _version()


class ReviewDateForm(FlaskForm):
    next_review_on = DateField(_l("Next review"), validators=[Optional()],
                               description=_l("Leave empty to clear the date."))
    version = _version()


class TeamForm(FlaskForm):
    user_id = SelectField(_l("Staff member"), coerce=int, validators=[DataRequired()])
    version = _version()


class RemoveMemberForm(FlaskForm):
    version = _version()


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Note"), validators=[DataRequired(), Length(max=TEXT_MAX)],
                         description=_l("Notes cannot be changed or deleted later. Only the case team can read them."))


class RegistryForm(FlaskForm):
    kind = RadioField(_l("Registry"), validators=[DataRequired()],
                      choices=choices((kind.value, labels.REGISTRY_KIND[kind]) for kind in RegistryKind))
    basis_document = StringField(_l("Basis document"), validators=[DataRequired(), Length(max=200)],
                                 description=_l("For example a police notice or the prevention council's minutes."))
    basis_number = StringField(_l("Document number"), validators=[Optional(), Length(max=64)])
    basis_date = DateField(_l("Document date"), validators=[Optional()])
    reason_category = SelectField(_l("Reason"), validators=[DataRequired()], choices=choices(
        (reason.value, labels.REGISTRY_REASON[reason]) for reason in RegistryReason))
    reason_text = _reason_field(_l("Reason in detail"), _l("Stored encrypted; shown only to staff who keep the "
                                                          "registry and to the case team."))
    started_on = DateField(_l("Registered on"), validators=[DataRequired()])
    next_review_on = DateField(_l("Next review"), validators=[Optional()])
    version = IntegerField(widget=HiddenInput(), validators=[Optional()])

    def validate_next_review_on(self, field: DateField) -> None:
        if field.data and self.started_on.data and field.data < self.started_on.data:
            raise ValidationError(_l("The review date must not be before the registration date."))


class DeregisterForm(FlaskForm):
    ended_on = DateField(_l("Deregistered on"), validators=[DataRequired()])
    end_reason = _reason_field(_l("Reason for deregistration"))
    version = _version()


class EmergencyAccessForm(FlaskForm):
    """Break-the-glass: a written reason and a fresh code from the authenticator."""

    reason = _reason_field(_l("Why you need access now"),
                           _l("The case owner and the school administrator will read it. Stored encrypted."))
    code = StringField(_l("Code from your authenticator app"), validators=[DataRequired(), Length(max=10)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class EmergencyReviewForm(FlaskForm):
    """The owner's or school administrator's verdict on one emergency access."""

    version = _version()
    justified = RadioField(_l("Was it justified?"), validators=[DataRequired()],
                           choices=choices([("yes", _l("Justified")), ("no", _l("Not justified"))]))
    note = _reason_field(_l("Note"))


class EmergencyRevokeForm(FlaskForm):
    """End a running emergency access early (the button carries the grant's version)."""

    version = _version()


class AttachmentForm(FlaskForm):
    """Attach a file to a note (PDF, PNG, JPEG or Word .docx)."""

    file = FileField(_l("Attach a file (PDF, PNG, JPEG or Word .docx)"))
