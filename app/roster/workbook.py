"""The roster template and exports as XLSX (all sheets and a help sheet) or CSV (one sheet per file).

Headers are written in the reader's language; every text cell goes through :func:`app.core.exports.safe_cell`,
so a name such as ``=HYPERLINK(...)`` comes out as the text ``'=HYPERLINK(...)``, never as a formula (the importer
removes that apostrophe again). IIN, phone and id columns are text columns, so Excel keeps their leading zeros.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from flask_babel import gettext as _

from app.core.exports import csv_bytes, safe_cell
from app.roster.columns import COLUMNS, DISPLAY_VALUES, SHEET_TITLES, Sheet

#: Rows of the template that get the drop-down lists and the text format.
TEMPLATE_ROWS = 5000


def _header(sheet: Sheet, language: str) -> list[str]:
    return [c.header(language) for c in COLUMNS[sheet]]


def csv_sheet(sheet: Sheet, language: str, rows: Sequence[Sequence[str]] = ()) -> bytes:
    """One sheet as CSV (``;``-separated, UTF-8 with BOM, as Excel in Kazakhstan opens it)."""
    return csv_bytes([_header(sheet, language), *rows], delimiter=";")


def _help_rows(language: str) -> list[list[str]]:
    rows = [[_("Sheet"), _("Column"), _("Required"), _("What to write"), _("Example")]]
    for sheet in Sheet:
        for column in COLUMNS[sheet]:
            rows.append([SHEET_TITLES[sheet][language], column.header(language),
                         _("yes") if column.required else _("no"), str(column.help), column.example])
    rows.append([])
    rows.append([_("Headers may be in Kazakh, Russian or English. Row 1 of each sheet is the header; one pupil or "
                   "parent per row. Re-importing the same file changes nothing.")])
    return rows


def xlsx_workbook(language: str, rows: Mapping[Sheet, Sequence[Sequence[str]]] | None = None) -> bytes:
    """The template (``rows`` empty) or an export: a sheet per kind, then a help sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    for sheet in Sheet:
        worksheet = workbook.create_sheet(SHEET_TITLES[sheet][language])
        worksheet.append([safe_cell(h) for h in _header(sheet, language)])
        for cell in worksheet[1]:
            cell.font = bold
        worksheet.freeze_panes = "A2"
        last = max(TEMPLATE_ROWS, len((rows or {}).get(sheet, ())) + 1)
        for index, column in enumerate(COLUMNS[sheet], start=1):
            letter = get_column_letter(index)
            worksheet.column_dimensions[letter].width = max(14, len(column.header(language)) + 4)
            if column.text:
                worksheet.column_dimensions[letter].number_format = "@"
            words = DISPLAY_VALUES.get(column.key, {}).get(language)
            if words:
                choice = DataValidation(type="list", formula1='"' + ",".join(words.values()) + '"', allow_blank=True)
                worksheet.add_data_validation(choice)
                choice.add(f"{letter}2:{letter}{last}")
        for values in (rows or {}).get(sheet, ()):
            worksheet.append([safe_cell(v) for v in values])  # strings stay text; the column format is for typing
    help_sheet = workbook.create_sheet(_("Help"))
    for values in _help_rows(language):
        help_sheet.append([safe_cell(v) for v in values])
    for cell in help_sheet[1]:
        cell.font = bold
    for letter, width in zip("ABCDE", (14, 28, 10, 80, 16), strict=True):
        help_sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
