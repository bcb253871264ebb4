"""Migration 0014 both ways; the report in the reader's language; the commit re-checks against the database."""

from __future__ import annotations

import json

from sqlalchemy import inspect, select, text

from app.core.audit import AuditAction, AuditEntry
from app.core.models import Pupil, SchoolClass
from app.extensions import db
from tests.factories import login, make_pupil
from tests.migration_support import MIGRATIONS, scratch_app
from tests.roster.support import PUPIL_HEADER, commit, csv_file, iin, preview_path, report, upload


def test_migration_0014_adds_the_roster_columns_and_table_and_removes_them(tmp_path) -> None:
    from flask_migrate import downgrade, upgrade

    with scratch_app(f"sqlite:///{tmp_path / 'm.db'}"):
        upgrade(directory=MIGRATIONS, revision="0012_code_cards")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO regions (id, name_kk, name_ru) VALUES (1, 'r', 'r')"))
            conn.execute(text("INSERT INTO districts (id, region_id, name_kk, name_ru) VALUES (1, 1, 'd', 'd')"))
            conn.execute(text("INSERT INTO schools (id, district_id, name_kk, name_ru, default_language) "
                              "VALUES (1, 1, 's', 's', 'kk')"))
            conn.execute(text(
                "INSERT INTO pupils (id, uuid, school_id, last_name_ct, first_name_ct, name_bidx, birth_date, sex, "
                "active, created_at) VALUES (7, 'p-7', 1, x'00', x'00', x'00', '2012-01-01', 'female', 1, "
                "'2026-01-01 00:00:00')"))
        upgrade(directory=MIGRATIONS, revision="0014_roster_import")
        inspector = inspect(db.engine)
        assert {"import_key", "source", "left_at"} <= {c["name"] for c in inspector.get_columns("pupils")}
        assert "phone" in {c["name"] for c in inspector.get_columns("users")}
        assert "roster_uploads" in inspector.get_table_names()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT source, left_at FROM pupils")).one() == ("manual", None)
        db.session.remove()
        downgrade(directory=MIGRATIONS, revision="0012_code_cards")
        inspector = inspect(db.engine)
        assert "roster_uploads" not in inspector.get_table_names()
        assert "import_key" not in {c["name"] for c in inspector.get_columns("pupils")}
        assert "phone" not in {c["name"] for c in inspector.get_columns("users")}
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT id FROM pupils")).scalar_one() == 7


def test_the_roster_models_and_their_migration_agree(app_ctx):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert [d for d in diff if any(w in repr(d) for w in ("roster_uploads", "import_key", "left_at", "phone",
                                                            "'source'"))] == []


def test_the_report_is_in_the_readers_language(app, world, year):
    rows = [["7А", "Қате", "Сан", "", "123", "", "", "", ""], ["7 А", "Жаңа", "Бала", "", iin(9500), "", "", "", ""]]
    for language, sheet, column, words in (("ru", "Ученики", "ИИН", "ИИН состоит ровно из 12 цифр."),
                                           ("kk", "Оқушылар", "ЖСН", "ЖСН дәл 12 цифрдан тұрады.")):
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        world.a1.totp_last_step = None  # the director signs in twice within one code's 30 seconds
        db.session.commit()
        login(client, world.a1)
        page = client.get(preview_path(upload(client, world.s1.id, [("p.csv", csv_file(PUPIL_HEADER, rows))],
                                              year=year))).get_data(as_text=True)
        assert (sheet, 2, column, words) in report(page), language


def test_the_commit_checks_again_and_refuses_what_changed_since_the_preview(client, world, year):
    value = iin(9501)
    login(client, world.a1)
    preview = preview_path(upload(client, world.s1.id, [("p.csv", csv_file(
        PUPIL_HEADER, [["7А", "Жаңа", "Бала", "", value, "", "", "", ""]]))], year=year))
    assert "/commit" in client.get(preview).get_data(as_text=True)
    make_pupil(world.p3.school_class, iin=value)  # meanwhile, another school registers the same IIN
    db.session.commit()
    response = commit(client, preview)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "changed since the preview" in page
    assert any(row == 2 and "another school" in message for _s, row, _c, message in report(page))
    db.session.expire_all()
    assert len(db.session.execute(select(Pupil).where(Pupil.school_id == world.s1.id)).scalars().all()) == 2
    assert db.session.execute(select(AuditEntry).where(AuditEntry.action == AuditAction.ROSTER_IMPORT)).first() is None


def test_upload_and_preview_audit_entries_hold_counts_only(client, world, year):
    login(client, world.a1)
    value = iin(9502)
    preview = preview_path(upload(client, world.s1.id, [("p.csv", csv_file(
        PUPIL_HEADER, [["9Я", "Құпия", "Есім", "", value, "", "", "", ""]]))], year=year))
    client.get(preview)
    entries = db.session.execute(select(AuditEntry).where(AuditEntry.action.in_(
        [AuditAction.ROSTER_UPLOAD, AuditAction.ROSTER_PREVIEW]))).scalars().all()
    assert {e.action for e in entries} == {AuditAction.ROSTER_UPLOAD, AuditAction.ROSTER_PREVIEW}
    for entry in entries:
        assert entry.school_id == world.s1.id and entry.actor_id == world.a1.id
        assert "Құпия" not in entry.details and value not in entry.details and "9Я" not in entry.details
        assert all(isinstance(v, int | str | list | bool) for v in json.loads(entry.details).values())
    assert db.session.execute(select(SchoolClass).where(SchoolClass.grade == 9)).first() is None


def test_a_conflict_while_writing_rolls_everything_back(client, world, year, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    from app.roster import services
    from app.roster.models import RosterUpload, UploadStatus

    def clash(*_args, **_kwargs):
        raise IntegrityError("INSERT", {}, Exception("unique"))

    login(client, world.a1)
    preview = preview_path(upload(client, world.s1.id, [("p.csv", csv_file(
        PUPIL_HEADER, [["7А", "Жаңа", "Бала", "", iin(9503), "", "", "", ""]]))], year=year))
    monkeypatch.setattr(services, "_apply_parents", clash)  # after the pupils were written in the transaction
    response = commit(client, preview)
    assert response.status_code == 200 and "changed since the preview" in response.get_data(as_text=True)
    db.session.expire_all()
    assert len(db.session.execute(select(Pupil)).scalars().all()) == 3
    assert db.session.execute(select(RosterUpload.status)).scalar_one() == UploadStatus.PENDING
    assert db.session.execute(select(AuditEntry).where(AuditEntry.action == AuditAction.ROSTER_IMPORT)).first() is None
