"""Consent forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField
from wtforms.validators import DataRequired


class PaperConsentForm(FlaskForm):
    signed_on = DateField(_l("Date on the signed form"), validators=[DataRequired()])
    confirm = BooleanField(_l("I have the consent form signed by a legal representative"),
                           validators=[DataRequired()])


class ParentConsentForm(FlaskForm):
    confirm = BooleanField(
        _l("As the child's legal representative I agree to psychological screening of my child "
           "by the school psychologist this school year"), validators=[DataRequired()])


class WithdrawForm(FlaskForm):
    pass
