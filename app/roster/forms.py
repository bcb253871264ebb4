"""Forms of the roster import pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, SelectField


class SchoolChoiceForm(FlaskForm):
    """Which school's roster to work on (a GET form; administrators choose among every school)."""

    class Meta:
        csrf = False

    school_id = SelectField(_l("School"), coerce=int)


class UploadForm(FlaskForm):
    school_year = SelectField(_l("School year of the classes"), coerce=int)
    files = MultipleFileField(
        _l("Roster file"),
        description=_l("One Excel workbook (.xlsx) with the Classes, Pupils and Parents sheets, or up to three CSV "
                       "files (UTF-8, separated by ; or ,), one per sheet."))


class CommitForm(FlaskForm):
    mark_left = BooleanField(
        _l("This file is the school's whole roster: mark the pupils missing from it as left"),
        description=_l("Their records are kept and hidden from lists; importing them again brings them back."))
