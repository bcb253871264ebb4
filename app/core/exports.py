"""Safe spreadsheet exports: every text cell through :func:`safe_cell`, CSV as ``utf-8-sig``.

Excel and LibreOffice run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return before one) as a formula ("CSV injection", OWASP). A school or class name typed by a user could
start that way, so every text cell is prefixed with ``'``, which spreadsheets show as plain text.
Numbers are written as numbers. The BOM of ``utf-8-sig`` makes Excel read Cyrillic correctly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

#: First characters that make a spreadsheet treat a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """``value`` made inert for a spreadsheet: text that could start a formula gets a leading ``'``."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        value = str(value)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_bytes(rows: Iterable[Sequence[object]], *, delimiter: str = ",") -> bytes:
    """CSV of ``rows`` (every cell through :func:`safe_cell`), encoded as ``utf-8-sig``.

    ``delimiter=";"`` suits Excel set to Kazakh or Russian, where the comma is the decimal separator.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", delimiter=delimiter)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue().encode("utf-8-sig")
