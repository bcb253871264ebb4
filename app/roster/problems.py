"""What can be wrong with a roster file, as stable codes with messages in the reader's language.

A :class:`Problem` holds a code, where it is (sheet, row, column) and plain parameters (numbers, a row, a class
label), never a name or an IIN, so the report can be shown in any language and its counts audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from app.roster.columns import SHEET_LABELS, Sheet, column


@dataclass(frozen=True)
class Problem:
    """One finding; ``row`` is the spreadsheet row (the header is row 1), ``column`` a column key."""

    code: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def is_warning(self) -> bool:
        return self.code in WARNINGS

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "sheet": self.sheet, "row": self.row, "column": self.column,
                "params": dict(self.params)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Problem:
        return cls(code=data["code"], sheet=data.get("sheet"), row=data.get("row"), column=data.get("column"),
                   params=tuple(sorted((data.get("params") or {}).items())))


def problem(code: str, sheet: Sheet | str | None = None, row: int | None = None, column: str | None = None,
            **params: Any) -> Problem:
    """A :class:`Problem` (keyword parameters become its message's placeholders)."""
    return Problem(code=code, sheet=str(sheet) if sheet else None, row=row, column=column,
                   params=tuple(sorted(params.items())))


MESSAGES: dict[str, Any] = {
    # the file
    "file_type": _l("%(file)s is not a CSV or XLSX file. Save it as \u201cExcel workbook (.xlsx)\u201d or "
                    "\u201cCSV UTF-8\u201d."),
    "file_old_xls": _l("%(file)s is an old Excel 97\u20132003 (.xls) file. Save it as \u201cExcel workbook "
                       "(.xlsx)\u201d."),
    "file_encoding": _l("%(file)s is not in UTF-8. In Excel choose \u201cSave as\u201d \u2192 \u201cCSV UTF-8 "
                        "(comma delimited)\u201d."),
    "file_too_large": _l("%(file)s is larger than %(limit)s MB."),
    "file_unreadable": _l("%(file)s could not be read as an Excel workbook. Open it in Excel and save it again."),
    "file_empty": _l("%(file)s holds no data."),
    "too_many_files": _l("Upload one XLSX workbook or up to three CSV files (one per sheet)."),
    "no_files": _l("Choose a file to upload."),
    "header_unknown": _l("The header row of %(file)s is not one of the template's. Start from the template: its "
                         "first row names the columns."),
    "no_sheets": _l("No sheet of the file has a header row of the template (Classes, Pupils or Parents)."),
    "duplicate_sheet": _l("The file holds two %(kind)s sheets (%(file)s). Put the rows of one sheet together."),
    "missing_columns": _l("Required columns are missing: %(columns)s."),
    "duplicate_column": _l("The column %(columns)s appears twice."),
    "unknown_column": _l("Columns not in the template were ignored: %(columns)s."),
    "too_many_rows": _l("The sheet has more than %(limit)s rows. Split the school into several files."),
    # one value
    "required": _l("A value is required."),
    "too_long": _l("Longer than %(limit)s characters."),
    "control_characters": _l("Holds invisible control characters. Type the value again."),
    "formula_text": _l("Starts with %(char)s, which spreadsheets read as a formula: it is stored as plain text "
                       "and exported with a leading apostrophe."),
    "extra_cells": _l("The row has more cells than the header. Check the separators (; or ,)."),
    "bad_grade": _l("The grade must be a whole number from 0 to 12."),
    "bad_letter": _l("The letter must be one to four letters."),
    "bad_language": _l("Use kk or ru."),
    "bad_class": _l("Write the class as a grade and a letter, e.g. 7А."),
    "unknown_class": _l("The class %(label)s does not exist in the school year %(year)s and is not on the Classes "
                        "sheet."),
    "iin_format": _l("An IIN has exactly 12 digits."),
    "iin_century": _l("The 7th digit of an IIN must be 1 to 6."),
    "iin_date": _l("The first six digits of the IIN are not a date."),
    "iin_checksum": _l("The IIN's check digit is wrong. Check it against the document."),
    "iin_birth_date": _l("The date of birth differs from the one the IIN holds."),
    "iin_sex": _l("The sex differs from the one the IIN holds."),
    "bad_date": _l("Not a date. Write it as YYYY-MM-DD or DD.MM.YYYY."),
    "implausible_birth_date": _l("A pupil born on this date would be %(age)s years old."),
    "bad_sex": _l("Write male or female."),
    "no_identifier": _l("Give the IIN, the Kundelik ID or the personal file number: one of them identifies the "
                        "pupil at the next import."),
    "duplicate_row": _l("The same %(what)s as row %(other)s."),
    "possible_duplicate": _l("The same name and date of birth as row %(other)s: check that these are two pupils."),
    "other_school": _l("This %(what)s is registered for a pupil of another school, so the row cannot be imported. "
                       "A pupil changing schools is not handled by the import: ask the administrator."),
    "conflicting_match": _l("The IIN, the Kundelik ID and the personal file number belong to different pupils "
                            "already registered."),
    "unknown_pupil": _l("No pupil of this school with this IIN or personal file number, in the file or already "
                        "registered."),
    "no_pupil_reference": _l("Give the child's IIN or personal file number."),
    "bad_relation": _l("Write mother, father, guardian or other."),
    "bad_phone": _l("Not a Kazakhstan phone number. Write it as +7 7XX XXX XX XX."),
    "bad_email": _l("Not an e-mail address."),
    "missing_contact": _l("Give the parent's phone or e-mail, so that the school can reach them."),
    "bad_yes_no": _l("Write yes or no."),
    "contact_not_parent": _l("This %(what)s belongs to an account that is not a parent's. Link this parent by hand "
                             "on the Staff page."),
    "contact_ambiguous": _l("Several parent accounts have this %(what)s. Link this parent by hand on the Staff "
                            "page."),
    "contact_other_name": _l("The same %(what)s as row %(other)s but another name: one contact belongs to one "
                             "person."),
    "no_parent": _l("No parent or guardian of this pupil is on the Parents sheet."),
}

#: Codes that are reported but do not stop the import.
WARNINGS = frozenset({"unknown_column", "formula_text", "possible_duplicate", "no_parent"})

#: Words used in "%(what)s" placeholders.
WHAT: dict[str, Any] = {
    "iin": _l("IIN"),
    "kundelik_id": _l("Kundelik ID"),
    "file_number": _l("personal file number"),
    "class": _l("class"),
    "contact": _l("parent and child"),
    "phone": _l("phone number"),
    "email": _l("e-mail address"),
}


def column_label(sheet: str | None, key: str | None) -> str:
    """The header of a column in the interface language ("" for the whole row or file)."""
    if not sheet or not key:
        return ""
    try:
        return column(Sheet(sheet), key).header(str(get_locale() or "kk"))
    except (ValueError, StopIteration):
        return key


def sheet_label(sheet: str | None) -> str:
    """The translated name of a sheet ("" for the whole file)."""
    return str(SHEET_LABELS[Sheet(sheet)]) if sheet else ""


def message(item: Problem) -> str:
    """The problem's message in the interface language."""
    params = dict(item.params)
    if "what" in params:
        params["what"] = str(WHAT.get(params["what"], params["what"]))
    if "kind" in params:
        params["kind"] = sheet_label(params["kind"])
    if "columns" in params:
        params["columns"] = ", ".join(column_label(item.sheet, key) or key for key in params["columns"])
    return str(MESSAGES[item.code]) % params if params else str(MESSAGES[item.code])


def sort_key(item: Problem) -> tuple[int, int, int]:
    """File problems first, then by sheet order and row."""
    order = {None: 0, Sheet.CLASSES.value: 1, Sheet.PUPILS.value: 2, Sheet.PARENTS.value: 3}
    return order.get(item.sheet, 4), item.row or 0, 0 if not item.is_warning else 1


def errors(items: Iterable[Problem]) -> list[Problem]:
    """The problems that stop the import."""
    return [p for p in items if not p.is_warning]
