"""Builders for roster files and the upload / commit requests of the roster tests."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date

from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, encode_multipart

from app.core.iin import make_iin
from tests.factories import csrf_token

PUPIL_HEADER = ["Class", "Surname", "First name", "Patronymic", "IIN", "Date of birth", "Sex", "Kundelik ID",
                "Personal file number"]
PARENT_HEADER = ["Pupil's IIN", "Pupil's personal file number", "Surname", "First name", "Patronymic", "Relation",
                 "Phone", "E-mail", "Legal representative"]
CLASS_HEADER = ["Grade", "Letter", "Language of instruction"]


def iin(serial: int, *, born: date = date(2014, 2, 3), sex: str = "male") -> str:
    """A valid IIN no factory pupil has (the factories use other birth dates)."""
    return make_iin(born, sex, serial)


def csv_file(header: list[str], rows: list[list[str]], *, sep: str = ";", bom: bool = True) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig" if bom else "utf-8")


def xlsx_file(sheets: dict[str, list[list[object]]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        worksheet = workbook.create_sheet(title)
        for row in rows:
            worksheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


_REPORT_ROW = re.compile(r"<tr><td>([^<]*)</td>\s*<td class=\"text-right\">(\d*)</td>\s*<td>([^<]*)</td>\s*"
                         r"<td>([^<]*)</td></tr>")


def report(page: str) -> list[tuple[str, int, str, str]]:
    """The rows of the preview's error and warning tables: (sheet, row, column, message)."""
    return [(html.unescape(sheet), int(row or 0), html.unescape(column), html.unescape(message))
            for sheet, row, column, message in _REPORT_ROW.findall(page)]


def upload(client: FlaskClient, school_id: int, files: list[tuple[str, bytes]], *, year: int) -> TestResponse:
    """Upload ``files`` for the school through the real form; returns the response (a redirect to the preview)."""
    token = csrf_token(client, f"/roster/?school_id={school_id}")
    values = MultiDict([("csrf_token", token), ("school_year", str(year))])
    for name, content in files:
        values.add("files", FileStorage(io.BytesIO(content), filename=name))
    # Encoded in memory: the test client would spool a large body to a temporary file it never closes.
    boundary, body = encode_multipart(values)
    return client.post(f"/roster/schools/{school_id}/upload", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def preview_path(response: TestResponse) -> str:
    assert response.status_code == 302, response.status_code
    location = response.headers["Location"]
    assert re.search(r"/roster/uploads/[0-9a-f-]{36}$", location), location
    return location


def commit(client: FlaskClient, preview: str, *, mark_left: bool = False) -> TestResponse:
    data = {"csrf_token": csrf_token(client, preview)}
    if mark_left:
        data["mark_left"] = "y"
    return client.post(f"{preview}/commit", data=data)


def import_file(client: FlaskClient, school_id: int, files: list[tuple[str, bytes]], *, year: int,
                mark_left: bool = False) -> str:
    """Upload, preview and commit; returns the preview page's text after the commit."""
    preview = preview_path(upload(client, school_id, files, year=year))
    page = client.get(preview).get_data(as_text=True)
    assert 'action="' + preview + '/commit"' in page, "the preview offers no commit"
    response = commit(client, preview, mark_left=mark_left)
    assert response.status_code == 302, response.status_code
    return client.get(preview).get_data(as_text=True)
