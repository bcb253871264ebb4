"""Read uploaded roster files into sheets of text cells, with row numbers as a spreadsheet shows them.

* XLSX through openpyxl, read-only and with formulas kept as their text: a cell holding ``=HYPERLINK(...)`` is
  that text, never its computed value (pandas' Excel reader always takes the computed value, so it is not used).
* CSV in UTF-8, with or without a byte-order mark, separated by ``;`` (Excel in Kazakhstan and Russia) or
  ``,``, decided from the header line; tokenised by :mod:`csv` so that a ragged row is reported with its number.

Nothing here touches the database. Size, row and archive limits stop a file before it is parsed further.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import PurePath
from typing import Any

from app.roster.columns import Sheet, match_header
from app.roster.problems import Problem, problem

#: Uncompressed size and entry count an XLSX may have (a "zip bomb" is refused before openpyxl opens it).
MAX_XLSX_UNPACKED = 200 * 1024 * 1024
MAX_XLSX_ENTRIES = 5000
#: Reading a worksheet stops after this many empty rows in a row (formatted but empty rows to the end).
MAX_BLANK_RUN = 1000
#: Columns whose numeric cells lost their leading zeros in Excel.
_DIGIT_COLUMNS = frozenset({"iin", "pupil_iin"})
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass
class SheetRows:
    """The rows of one recognised sheet: column keys, then (row number, cells by key)."""

    sheet: Sheet
    source: str
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "columns": self.columns,
                "rows": [[number, [cells.get(key, "") for key in self.columns]] for number, cells in self.rows]}

    @classmethod
    def from_dict(cls, sheet: Sheet, data: dict[str, Any]) -> SheetRows:
        columns = list(data["columns"])
        rows = [(int(number), dict(zip(columns, values, strict=True))) for number, values in data["rows"]]
        return cls(sheet=sheet, source=data["source"], rows=rows, columns=columns)


@dataclass
class ReadResult:
    """The sheets found in the uploaded files and what stopped any of them."""

    sheets: dict[Sheet, SheetRows] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return sum(len(s.rows) for s in self.sheets.values())


def read_files(files: Iterable[tuple[str, bytes]], *, max_bytes: int, max_rows: int) -> ReadResult:
    """Read every uploaded ``(file name, bytes)``; problems of the files themselves go into the result."""
    result = ReadResult()
    files = [(PurePath(name or "file").name[-120:], data) for name, data in files if name or data]
    if not files:
        result.problems.append(problem("no_files"))
        return result
    if len(files) > 3 or (len(files) > 1 and any(_is_zip(data) for _, data in files)):
        result.problems.append(problem("too_many_files"))
        return result
    for name, data in files:
        if len(data) > max_bytes:
            result.problems.append(problem("file_too_large", file=name, limit=max_bytes // (1024 * 1024)))
            continue
        kind = _kind(name, data)
        if kind == "xlsx":
            _read_xlsx(result, name, data, max_rows=max_rows)
        elif kind == "csv":
            _read_csv(result, name, data, max_rows=max_rows)
        else:
            result.problems.append(problem(kind, file=name))
    if not result.sheets and not result.problems:
        result.problems.append(problem("no_sheets"))
    elif result.sheets and not result.row_count and not result.problems:
        result.problems.append(problem("file_empty", file=", ".join(name for name, _data in files)))
    return result


def _is_zip(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def _kind(name: str, data: bytes) -> str:
    """"xlsx", "csv", or the problem code saying why the file is neither."""
    suffix = PurePath(name).suffix.lower()
    if not data.strip():
        return "file_empty"
    if data[:8] == _OLE_MAGIC:
        return "file_old_xls"
    if _is_zip(data):
        return "xlsx" if suffix in ("", ".xlsx", ".xlsm") else "file_type"
    if suffix not in ("", ".csv", ".txt"):
        return "file_type"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:4096]:
        return "file_encoding"  # UTF-16 ("Unicode text") or binary
    return "csv"


# --- XLSX ------------------------------------------------------------------------------------------


def _cell_text(value: Any, key: str | None) -> str:
    """A cell as text: dates as ISO dates, whole numbers without ".0", IINs typed as numbers zero-padded."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        text = str(value)
        return text.zfill(12) if key in _DIGIT_COLUMNS and len(text) < 12 else text
    return str(value)


def _read_xlsx(result: ReadResult, name: str, data: bytes, *, max_rows: int) -> None:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            names = {e.filename for e in entries}
            unpacked = sum(e.file_size for e in entries)
        if "xl/workbook.xml" not in names:
            result.problems.append(problem("file_type", file=name))
            return
        if len(entries) > MAX_XLSX_ENTRIES or unpacked > MAX_XLSX_UNPACKED:
            result.problems.append(problem("file_unreadable", file=name))
            return
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception:
        result.problems.append(problem("file_unreadable", file=name))
        return
    found = False
    try:
        for worksheet in workbook.worksheets:
            rows = ((number, list(values)) for number, values in
                    enumerate(worksheet.iter_rows(values_only=True), start=1))
            found |= _take_sheet(result, f"{name} \u2014 {worksheet.title}", rows, max_rows=max_rows,
                                 convert=_cell_text, strict_header=False)
    except Exception:
        result.problems.append(problem("file_unreadable", file=name))
        return
    finally:
        workbook.close()
    if not found and not any(p.code == "too_many_rows" for p in result.problems):
        result.problems.append(problem("no_sheets"))


# --- CSV -------------------------------------------------------------------------------------------


def _delimiter(text: str) -> str:
    """";" or "," (or a tab), whichever the header line holds most of, outside quotes."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    unquoted = "".join(part for index, part in enumerate(first.split('"')) if index % 2 == 0)
    counts = {sep: unquoted.count(sep) for sep in (";", ",", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _read_csv(result: ReadResult, name: str, data: bytes, *, max_rows: int) -> None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.problems.append(problem("file_encoding", file=name))
        return
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    rows = ((number, row) for number, row in enumerate(reader, start=1))
    try:
        if not _take_sheet(result, name, rows, max_rows=max_rows, convert=lambda v, _k: v, strict_header=True):
            return
    except csv.Error:
        result.problems.append(problem("file_type", file=name))


# --- shared -----------------------------------------------------------------------------------------


def _blank(values: list[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _take_sheet(result: ReadResult, source: str, rows: Iterator[tuple[int, list[Any]]], *, max_rows: int,
                convert: Any, strict_header: bool) -> bool:
    """Read a header row and the rows under it into ``result``; False if the header is not the template's."""
    header = next(((n, values) for n, values in rows if not _blank(values)), None)
    if header is None:
        if strict_header:
            result.problems.append(problem("file_empty", file=source))
        return False
    match = match_header([_cell_text(v, None) if not isinstance(v, str) else v for v in header[1]])
    if match.sheet is None:
        if strict_header:
            result.problems.append(problem("header_unknown", file=source))
        return False
    sheet = match.sheet
    if sheet in result.sheets:
        result.problems.append(problem("duplicate_sheet", kind=sheet.value, file=source))
        return True
    if match.missing:
        result.problems.append(problem("missing_columns", sheet, columns=match.missing))
    if match.doubled:
        result.problems.append(problem("duplicate_column", sheet, columns=sorted(set(match.doubled))))
    if match.unknown:
        result.problems.append(problem("unknown_column", sheet, columns=match.unknown[:10]))
    data = SheetRows(sheet=sheet, source=source, columns=[match.positions[i] for i in sorted(match.positions)])
    width = len(header[1])
    blank_run = 0
    for number, values in rows:
        if _blank(values):
            blank_run += 1
            if blank_run >= MAX_BLANK_RUN:
                break
            continue
        blank_run = 0
        if len(data.rows) >= max_rows:
            result.problems.append(problem("too_many_rows", sheet, limit=max_rows))
            data.rows.clear()
            break
        cells = {key: convert(values[i], key).strip() if i < len(values) else ""
                 for i, key in match.positions.items()}
        if len(values) > width and not _blank(values[width:]):
            result.problems.append(problem("extra_cells", sheet, number))
        data.rows.append((number, cells))
    result.sheets[sheet] = data
    return True
