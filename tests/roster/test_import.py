"""Roster import through the web pages: valid files, every kind of bad row, idempotence, moves, departures."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import func, select, text

from app.auth.models import User
from app.auth.passwords import UNUSABLE_HASH
from app.consent.services import today_local
from app.core.audit import AuditAction, AuditEntry
from app.core.models import Pupil, PupilGuardian, SchoolClass, age_on
from app.extensions import db
from app.roster.models import RosterUpload
from tests.factories import login
from tests.roster.support import (
    CLASS_HEADER,
    PARENT_HEADER,
    PUPIL_HEADER,
    commit,
    csv_file,
    iin,
    import_file,
    preview_path,
    report,
    upload,
    xlsx_file,
)
from tests.security.helpers import inline_code_problems


def _count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _imports() -> list[dict]:
    entries = db.session.execute(select(AuditEntry).where(AuditEntry.action == AuditAction.ROSTER_IMPORT)
                                 .order_by(AuditEntry.id)).scalars()
    return [json.loads(e.details) for e in entries]


def _pupil(value: str) -> Pupil:
    from app.core.encryption import blind_index

    db.session.expire_all()
    return db.session.execute(select(Pupil).where(Pupil.iin_bidx == blind_index(value, scope="iin"))).scalar_one()


A, B, C = iin(9001), iin(9002, sex="female"), iin(9003, born=date(2015, 6, 7))


def _valid_files() -> list[tuple[str, bytes]]:
    classes = csv_file(CLASS_HEADER, [["9", "В", "ru"]])
    pupils = csv_file(PUPIL_HEADER, [
        ["7А", "Ахметов", "Ерлан", "Маратұлы", A, "", "", "", "N-1"],
        ["9В", "Ахметова", "Дана", "", B, "2014-02-03", "ж", "", ""],
        ["8Б", "Смирнов", "Илья", "", C, "07.06.2015", "м", "K-77", ""],
    ], sep=",", bom=False)
    parents = csv_file(PARENT_HEADER, [
        [A, "", "Ахметова", "Гүлнар", "", "анасы", "8 701 123 45 67", "Gulnar@Example.kz", "иә"],
        [B, "", "Ахметова", "Гүлнар", "", "mother", "", "gulnar@example.kz", ""],
        [C, "", "Смирнов", "Олег", "", "отец", "+7 (777) 000-11-22", "", "нет"],
    ])
    return [("classes.csv", classes), ("pupils.csv", pupils), ("parents.csv", parents)]


def test_valid_csv_files_are_imported_in_one_audited_transaction(client, world, year):
    files = _valid_files()
    login(client, world.a1)
    page = import_file(client, world.s1.id, files, year=year)
    assert "The roster was imported." in page and "7 of 7 rows processed." in page
    assert inline_code_problems(page) == []
    new_class = db.session.execute(select(SchoolClass).where(SchoolClass.school_id == world.s1.id,
                                                             SchoolClass.grade == 9)).scalar_one()
    assert (new_class.letter, new_class.language, new_class.school_year) == ("В", "ru", year)
    first, second, third = _pupil(A), _pupil(B), _pupil(C)
    assert (first.last_name, first.patronymic, first.class_id, first.sex, first.birth_date) == (
        "Ахметов", "Маратұлы", world.c7a.id, "male", date(2014, 2, 3))
    assert (first.import_key, first.source) == ("N-1", "import")
    assert (second.class_id, second.sex) == (new_class.id, "female")
    assert (third.class_id, third.kundelik_id) == (world.c8b.id, "K-77")
    mother = db.session.execute(select(User).where(User.email == "gulnar@example.kz")).scalar_one()
    assert mother.password_hash == UNUSABLE_HASH and mother.phone == "+77011234567"
    assert [a.role for a in mother.assignments] == ["parent"] and mother.username.startswith("parent-")
    assert {link.pupil_id for link in mother.guardian_links} == {first.id, second.id}
    father = db.session.execute(select(User).where(User.phone == "+77770001122")).scalar_one()
    (link,) = father.guardian_links
    assert (link.pupil_id, link.relation, link.is_legal_representative) == (third.id, "father", False)
    (details,) = _imports()
    assert details["pupils_new"] == 3 and details["classes_new"] == 1 and details["parents_new"] == 2
    assert details["parents_linked"] == 1 and details["rows"] == 7 and details["via"] == "web"
    raw = json.dumps(details, ensure_ascii=False)
    for secret in ("Ахмет", "Смирнов", A, B, "gulnar", "701"):
        assert secret not in raw, "no personal data in the audit entry"
    assert db.session.execute(select(RosterUpload.payload_ct)).scalar_one() is None, "the rows are deleted"


def test_xlsx_with_russian_headers_numbers_and_date_cells_is_imported(client, world, year):
    born_2005 = iin(9100, born=date(2006, 1, 15), sex="female")  # starts with 0: Excel drops it in a number cell
    workbook = xlsx_file({
        "Ученики": [["Класс", "Фамилия", "Имя", "ИИН", "Дата рождения", "Пол"],
                    ["8Б", "Омарова", "Әсел", int(born_2005), date(2006, 1, 15), "жен"],
                    [], ["7 а", "Ким", "Виктор", A, None, None]],
        "Справка": [["Что-то", "другое"]],
    })
    login(client, world.admin)
    page = import_file(client, world.s1.id, [("roster.xlsx", workbook)], year=year)
    assert "2 of 2 rows processed." in page
    assert _pupil(born_2005).class_id == world.c8b.id
    assert _pupil(A).class_id == world.c7a.id, "7 а (spaced, small, Latin a) finds 7А"


def test_a_file_with_every_kind_of_bad_row_reports_each_and_changes_nothing(client, world, year):
    pupils = csv_file(PUPIL_HEADER, [
        ["7А", "Дұрыс", "Бала", "", A, "", "", "", ""],                       # 2 valid
        ["7А", "Қате", "Сан", "", A[:-1] + str((int(A[-1]) + 1) % 10), "", "", "", ""],  # 3 checksum
        ["7А", "Басқа", "Күн", "", B, "2014-02-04", "", "", ""],              # 4 date differs from the IIN
        ["7А", "Басқа", "Жыныс", "", C, "", "female", "", ""],                # 5 C is a boy's IIN
        ["11Я", "Жоқ", "Сынып", "", iin(9010), "", "", "", ""],              # 6 unknown class
        ["8Б", "Қайталау", "Бала", "", A, "", "", "", ""],                    # 7 duplicate of row 2
        ["8Б", "Бөтен", "Мектеп", "", world.p3.iin, "", "", "", ""],          # 8 IIN of another school
        ["8Б", "Күн", "Қате", "", "", "31.02.2014", "male", "", "F-9"],       # 9 bad date
        ["8Б", "", "Тегісіз", "", iin(9011), "", "", "", ""],                 # 10 no surname
        ["8Б", "Жыныс", "Белгісіз", "", "", "2014-01-01", "x", "", "F-10"],  # 11 bad sex
        ["8Б", "Нөмірсіз", "Бала", "", "", "2014-01-01", "male", "", ""],    # 12 no identifier
        ["seven", "Сынып", "Қате", "", iin(9012), "", "", "", ""],           # 13 bad class
        ["8Б", "Ересек", "Адам", "", iin(9013, born=date(1990, 1, 1)), "", "", "", ""],  # 14 not a pupil's age
    ])
    parents = csv_file(PARENT_HEADER, [
        [A, "", "Ата", "Ана", "", "mother", "", "", ""],                   # 2 no contact
        [A, "", "Ата", "Ана", "", "mother", "12345", "", ""],              # 3 bad phone
        [A, "", "Ата", "Ана", "", "mother", "", "not-an-address", ""],     # 4 bad e-mail
        [iin(9020), "", "Ата", "Ана", "", "mother", "+77011112233", "", ""],  # 5 unknown pupil
        [A, "", "Ата", "Ана", "", "aunt", "+77011112234", "", ""],         # 6 bad relation
        [A, "", "Ата", "Ана", "", "mother", "+77011112235", "", "maybe"],  # 7 bad yes/no
    ])
    before = (_count(Pupil), _count(User), _count(PupilGuardian), _count(SchoolClass))
    login(client, world.a1)
    preview = preview_path(upload(client, world.s1.id, [("p.csv", pupils), ("r.csv", parents)], year=year))
    page = client.get(preview).get_data(as_text=True)
    expected = [
        ("Pupils", 3, "IIN", "check digit is wrong"), ("Pupils", 4, "IIN", "date of birth differs"),
        ("Pupils", 5, "IIN", "sex differs"), ("Pupils", 6, "Class", "The class 11Я does not exist"),
        ("Pupils", 7, "IIN", "The same IIN as row 2."),
        ("Pupils", 8, "IIN", "registered for a pupil of another school"),
        ("Pupils", 9, "Date of birth", "Not a date"), ("Pupils", 10, "Surname", "A value is required."),
        ("Pupils", 11, "Sex", "Write male or female."),
        ("Pupils", 12, "IIN", "Give the IIN, the Kundelik ID or the personal file number"),
        ("Pupils", 13, "Class", "Write the class as a grade and a letter"),
        ("Pupils", 14, "Date of birth", f"would be {age_on(date(1990, 1, 1), today_local())} years old"),
        ("Parents", 2, "Phone", "Give the parent's phone or e-mail"),
        ("Parents", 3, "Phone", "Not a Kazakhstan phone number"), ("Parents", 4, "E-mail", "Not an e-mail"),
        ("Parents", 5, "Pupil's IIN", "No pupil of this school"), ("Parents", 6, "Relation", "Write mother, father"),
        ("Parents", 7, "Legal representative", "Write yes or no."),
    ]
    found = report(page)
    for sheet, row, column, words in expected:
        assert any(f[:3] == (sheet, row, column) and words in f[3] for f in found), (sheet, row, column, words)
    assert "nothing can be imported yet" in page and "/commit" not in page
    assert inline_code_problems(page) == [], "the report page keeps to the Content-Security-Policy"
    assert world.s2.name_kk not in page and world.s2.name_ru not in page
    assert world.p3.short_name not in page, "the other school's pupil is not named"
    assert commit(client, preview).status_code == 200, "a commit of a file with errors is refused"
    assert (_count(Pupil), _count(User), _count(PupilGuardian), _count(SchoolClass)) == before
    assert _imports() == []


def _snapshot() -> list:
    tables = ("pupils", "users", "pupil_guardians", "school_classes", "role_assignments")
    with db.engine.connect() as connection:
        return [sorted(map(tuple, connection.execute(text(f"SELECT * FROM {t}")).all()), key=repr)  # noqa: S608
                for t in tables]


def test_importing_the_same_file_again_changes_nothing(client, world, year):
    login(client, world.a1)
    import_file(client, world.s1.id, _valid_files(), year=year)
    before = _snapshot()
    preview = preview_path(upload(client, world.s1.id, _valid_files(), year=year))
    page = client.get(preview).get_data(as_text=True)
    assert "importing it changes nothing" in page
    assert commit(client, preview).status_code == 302
    assert _snapshot() == before
    second = _imports()[1]
    assert second["pupils_unchanged"] == 3 and second["parents_unchanged"] == 3
    assert not any(second[k] for k in ("pupils_new", "pupils_moved", "pupils_updated", "classes_new",
                                       "parents_new", "parents_linked", "parents_updated", "pupils_left"))


def _row(pupil: Pupil, label: str) -> list[str]:
    return [label, pupil.last_name, pupil.first_name, pupil.patronymic or "", pupil.iin, "", "", "", ""]


def test_a_pupil_in_another_class_is_reported_as_moved(client, world, year):
    login(client, world.a1)
    preview = preview_path(upload(client, world.s1.id, [("p.csv", csv_file(PUPIL_HEADER, [
        _row(world.p1, "8Б"), _row(world.p2, "8Б")]))], year=year))
    page = client.get(preview).get_data(as_text=True)
    assert "moved from 7А to 8Б" in page
    commit(client, preview)
    assert _pupil(world.p1.iin).class_id == world.c8b.id
    assert _imports()[0]["pupils_moved"] == 1 and _imports()[0]["pupils_unchanged"] == 1


def test_departed_pupils_are_marked_only_when_asked_and_never_deleted(client, world, year):
    login(client, world.a1)
    only_p1 = [("p.csv", csv_file(PUPIL_HEADER, [_row(world.p1, "7А")]))]
    preview = preview_path(upload(client, world.s1.id, only_p1, year=year))
    page = client.get(preview).get_data(as_text=True)
    assert "Pupils of the school not in the file" in page and world.p2.short_name in page
    assert world.p3.short_name not in page, "another school's pupils are never listed"
    commit(client, preview)
    assert _pupil(world.p2.iin).active is True, "without the tick nobody is marked"
    import_file(client, world.s1.id, only_p1, year=year, mark_left=True)
    left = _pupil(world.p2.iin)
    assert left.active is False and left.left_at is not None
    assert _imports()[1]["pupils_left"] == 1 and _pupil(world.p3.iin).active
    back = import_file(client, world.s1.id, [("p.csv", csv_file(PUPIL_HEADER, [_row(world.p2, "8Б")]))],
                       year=year)
    assert "Pupils back at school" in back and _pupil(world.p2.iin).active and _pupil(world.p2.iin).left_at is None


def test_upload_is_kept_encrypted_server_side_and_expires(client, world, year, app):
    login(client, world.a1)
    preview = preview_path(upload(client, world.s1.id, _valid_files(), year=year))
    with db.engine.connect() as connection:
        raw = bytes(connection.execute(text("SELECT payload_ct FROM roster_uploads")).scalar_one())
    for secret in ("Ахметов".encode(), A.encode(), b"gulnar"):
        assert secret not in raw
    cookie = client.get_cookie("senim_session")
    session = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    assert set(session) <= {"_fresh", "csrf_token", "sid", "_flashes"}, "the rows are not in the cookie"
    db.session.execute(text("UPDATE roster_uploads SET expires_at = :t"), {"t": "2000-01-01 00:00:00"})
    db.session.commit()
    response = client.get(preview)
    assert response.status_code == 302 and "/roster/" in response.headers["Location"]
    assert "no longer kept" in client.get(response.headers["Location"]).get_data(as_text=True)
    preview_path(upload(client, world.s1.id, _valid_files(), year=year))
    assert _count(RosterUpload) == 1, "the expired upload was deleted"


def test_an_unknown_file_type_or_encoding_or_size_is_refused(client, world, year, app):
    login(client, world.a1)
    cases = [
        ("report.pdf", b"%PDF-1.7 binary", "is not a CSV or XLSX file"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old Excel 97"),
        ("win.csv", "Класс;Фамилия\n7А;Иванов\n".encode("cp1251"), "is not in UTF-8"),
        ("utf16.csv", "Class,Surname\n".encode("utf-16"), "is not in UTF-8"),
        ("letter.csv", b"Dear parents,\nhello\n", "header row of letter.csv is not one of the template"),
    ]
    for name, content, words in cases:
        page = client.get(preview_path(upload(client, world.s1.id, [(name, content)], year=year)))
        assert words in page.get_data(as_text=True), name
    app.config["SENIM_ROSTER_MAX_ROWS"], app.config["SENIM_ROSTER_MAX_BYTES"] = 2, 2 * 1024 * 1024
    try:
        rows = [_row(world.p1, "7А"), _row(world.p2, "8Б"), ["8Б", "Үшінші", "Бала", "", iin(9030)] + [""] * 4]
        page = client.get(preview_path(upload(client, world.s1.id, [("p.csv", csv_file(PUPIL_HEADER, rows))],
                                              year=year))).get_data(as_text=True)
        assert "more than 2 rows" in page
        big = b"Class;Surname\n" + b"7A;x\n" * 500_000
        page = client.get(preview_path(upload(client, world.s1.id, [("big.csv", big)], year=year)))
        assert "larger than 2 MB" in page.get_data(as_text=True)
    finally:
        app.config["SENIM_ROSTER_MAX_ROWS"], app.config["SENIM_ROSTER_MAX_BYTES"] = 10_000, 8 * 1024 * 1024
    assert _count(Pupil) == 3


def test_forms_carry_csrf_tokens_and_posts_without_them_are_refused(client, world, year):
    login(client, world.a1)
    page = client.get(f"/roster/?school_id={world.s1.id}").get_data(as_text=True)
    assert 'name="csrf_token"' in page and 'enctype="multipart/form-data"' in page
    assert client.post(f"/roster/schools/{world.s1.id}/upload", data={"school_year": year}).status_code == 400
    preview = preview_path(upload(client, world.s1.id, _valid_files(), year=year))
    assert 'name="csrf_token"' in client.get(preview).get_data(as_text=True)
    assert client.post(f"{preview}/commit", data={}).status_code == 400
    assert _imports() == [] and _count(Pupil) == 3
