"""Reading files (separators, byte-order mark, headers in three languages, limits) and ``flask roster import``."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from app.core.audit import AuditAction, AuditEntry
from app.core.models import Pupil
from app.extensions import db
from app.roster.checks import check
from app.roster.columns import Sheet, match_header
from app.roster.reading import read_files
from tests.roster.support import PARENT_HEADER, PUPIL_HEADER, csv_file, iin, xlsx_file

LIMITS = {"max_bytes": 1024 * 1024, "max_rows": 100}


@pytest.mark.parametrize("sep", [";", ","])
@pytest.mark.parametrize("bom", [True, False])
def test_csv_in_utf8_with_either_separator_and_with_or_without_bom(sep, bom):
    content = csv_file(PUPIL_HEADER, [["7А", "Әлиева, Ж.", "Аружан", "", iin(1), "", "", "", ""]], sep=sep, bom=bom)
    result = read_files([("p.csv", content)], **LIMITS)
    assert result.problems == []
    ((number, cells),) = result.sheets[Sheet.PUPILS].rows
    assert number == 2 and cells["last_name"] == "Әлиева, Ж." and cells["class"] == "7А"


def test_headers_in_kazakh_russian_english_or_keys_and_blank_rows_keep_their_numbers():
    kazakh = "Сынып;Тегі;Аты;ЖСН\n7А;Сейіт;Али;{}\n;;;\n8Б;Омар;Дина;{}\n".format(iin(2), iin(3, sex="female"))
    result = read_files([("kk.csv", kazakh.encode())], **LIMITS)
    assert [n for n, _ in result.sheets[Sheet.PUPILS].rows] == [2, 4]
    for header in (["Класс", "ФАМИЛИЯ", "имя*", "ИИН (12 цифр)"], ["class", "last_name", "first_name", "iin"]):
        assert match_header(header).positions == {0: "class", 1: "last_name", 2: "first_name", 3: "iin"}
    assert match_header(PARENT_HEADER).sheet is Sheet.PARENTS
    assert match_header(["Grade", "Letter"]).sheet is Sheet.CLASSES
    assert match_header(["Name", "Phone"]).sheet is None


def test_missing_doubled_and_unknown_columns_and_ragged_rows():
    content = "Class;Surname;Surname;Shoe size\n7А;A;B;42;extra\n".encode()
    result = read_files([("p.csv", content)], **LIMITS)
    codes = {(p.code, p.row) for p in result.problems}
    assert codes == {("missing_columns", None), ("duplicate_column", None), ("unknown_column", None),
                     ("extra_cells", 2)}


def test_xlsx_formula_cells_are_read_as_their_text_and_extra_sheets_are_skipped():
    rows = [["Class", "Surname", "First name", "IIN"], ["7А", '=HYPERLINK("x","y")', "Ali", 51231600123]]
    content = xlsx_file({"Help": [["Anything", "else"]], "P": rows})
    result = read_files([("r.xlsx", content)], **LIMITS)
    ((_n, cells),) = result.sheets[Sheet.PUPILS].rows
    assert cells["last_name"] == '=HYPERLINK("x","y")' and cells["iin"] == "051231600123"


def test_damaged_or_oversized_workbooks_and_too_many_files_are_refused():
    assert read_files([("r.xlsx", b"PK\x03\x04not really a zip")], **LIMITS).problems[0].code == "file_unreadable"
    import io
    import zipfile

    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    assert read_files([("letter.docx", docx.getvalue())], **LIMITS).problems[0].code == "file_type"
    csv_bytes = csv_file(PUPIL_HEADER, [])
    assert read_files([("a.csv", csv_bytes)] * 4, **LIMITS).problems[0].code == "too_many_files"
    assert read_files([("a.csv", csv_bytes)], **LIMITS).problems[0].code == "file_empty"
    assert read_files([], **LIMITS).problems[0].code == "no_files"


def test_checks_take_birth_date_and_sex_from_the_iin_and_normalise_contacts():
    pupils = read_files([("p.csv", csv_file(PUPIL_HEADER, [["7 a", " Ким ", "Ли", "", iin(5), "", "", "", ""]]))],
                        **LIMITS)
    parents = read_files([("r.csv", csv_file(PARENT_HEADER, [
        [iin(5), "", "Ким", "Ольга", "", "Мать", "8(701)000-00-01", " Olga@Mail.KZ ", "Да"]]))], **LIMITS)
    checked = check([*pupils.sheets.values(), *parents.sheets.values()], today=date(2026, 12, 5))
    (pupil,) = checked.pupils
    assert (pupil.grade, pupil.letter, pupil.last_name, pupil.birth_date, pupil.sex) == (
        7, "A", "Ким", date(2014, 2, 3), "male")
    (parent,) = checked.parents
    assert (parent.relation, parent.phone, parent.email, parent.legal_representative) == (
        "mother", "+77010000001", "olga@mail.kz", True)


# --- the command line ----------------------------------------------------------------------------------


def _pupil_count() -> int:
    return db.session.execute(select(func.count()).select_from(Pupil)).scalar_one()


def test_cli_checks_reports_and_commits_with_a_progress_bar(app, world, year, tmp_path):
    runner = app.test_cli_runner()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_file(PUPIL_HEADER, [["7А", "Жаман", "Сан", "", "123", "", "", "", ""],
                                            ["12Я", "Жоқ", "Сынып", "", iin(9400), "", "", "", ""]]))
    result = runner.invoke(args=["roster", "import", str(bad), "--school", str(world.s1.id)])
    assert result.exit_code == 1
    assert "error: Pupils, row 2, IIN: An IIN has exactly 12 digits." in result.output
    assert "error: Pupils, row 3, Class: The class 12Я does not exist" in result.output
    assert "Nothing was changed" in result.output and _pupil_count() == 3
    good = tmp_path / "good.csv"
    good.write_bytes(csv_file(PUPIL_HEADER, [["7А", "Жақсы", "Бала", "", iin(9401), "", "", "", ""]]))
    checked = runner.invoke(args=["roster", "import", str(good), "--school", str(world.s1.id), "--lang", "ru"])
    assert checked.exit_code == 0 and "Checked only" in checked.output and _pupil_count() == 3
    assert "Checking" in checked.output, "the progress bar is shown"
    done = runner.invoke(args=["roster", "import", str(good), "--school", str(world.s1.id), "--commit",
                               "--mark-left"])
    assert done.exit_code == 0, done.output
    assert "pupils new: 1" in done.output and "pupils marked as left: 2" in done.output
    assert "Imported: 1 rows processed." in done.output and _pupil_count() == 4
    (entry,) = db.session.execute(select(AuditEntry).where(AuditEntry.action == AuditAction.ROSTER_IMPORT)).scalars()
    assert entry.actor_id is None and json.loads(entry.details)["via"] == "cli"
    again = runner.invoke(args=["roster", "import", str(good), "--school", str(world.s1.id), "--commit"])
    assert "pupils unchanged: 1" in again.output and "pupils new: 0" in again.output


def test_cli_refuses_an_unknown_school(app, world):
    result = app.test_cli_runner().invoke(args=["roster", "import", __file__, "--school", "999999"])
    assert result.exit_code == 2 and "no school with id 999999" in result.output


def test_the_readme_documents_every_column_in_three_languages():
    from pathlib import Path

    from app.roster.columns import COLUMNS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Bringing a roster in"):readme.index("## Screening instruments")]
    for columns in COLUMNS.values():
        for column in columns:
            for text in (f"`{column.key}`", column.en, column.ru, column.kk):
                assert text in section, text
