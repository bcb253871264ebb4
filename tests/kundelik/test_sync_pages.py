"""The sync's admin page and command: who may use them, scoping, the report in the reader's language, progress,
the background run, ``flask kundelik sync``, and migration 0023 both ways."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select, text

from app.auth.permissions import ROLE_PERMISSIONS, Permission, endpoint_permission
from app.auth.roles import Role
from app.core.audit import AuditAction, Outcome
from app.extensions import db
from app.kundelik import sync
from app.kundelik.runs import KundelikSyncRun
from tests.factories import login, post
from tests.kundelik.sync_support import entries, keep_token, link_school, run
from tests.migration_support import MIGRATIONS, insert_school, model_drift, scratch_app
from tests.security.helpers import audit_count

ROLES = ["admin", "a1", "psy1", "soc1", "t7a", "r1", "pupil1", "d1", "reg1", "norole"]
HOLDERS = {"admin", "a1"}


@pytest.fixture
def school(world, kundelik):
    link_school(world.s1)
    keep_token(kundelik, world.a1)
    return world.s1


def test_only_admins_and_directors_may_sync():
    assert {r for r, perms in ROLE_PERMISSIONS.items() if Permission.ROSTER_SYNC in perms} == {
        Role.ADMIN, Role.DIRECTOR}


def test_every_sync_endpoint_requires_the_sync_permission(app):
    endpoints = [name for name in app.view_functions if name.startswith("kundelik_sync.")]
    assert sorted(endpoints) == ["kundelik_sync.index", "kundelik_sync.run", "kundelik_sync.start"]
    assert {endpoint_permission(app.view_functions[name]) for name in endpoints} == {Permission.ROSTER_SYNC}


@pytest.mark.parametrize("role", ROLES)
def test_roles_get_what_their_permission_allows(en, world, kundelik, role):
    link_school(world.s1)
    finished = run(world.s1, None)  # a failed run (no token) the pages can show
    login(en, getattr(world, role))
    expected = 200 if role in HOLDERS else 403
    for path in ("/kundelik/sync/", f"/kundelik/sync/?school_id={world.s1.id}", f"/kundelik/sync/runs/{finished.uuid}"):
        assert en.get(path).status_code == expected, (role, path)
    response = post(en, f"/kundelik/sync/schools/{world.s1.id}/runs", form_page="/account")
    assert response.status_code == (302 if role in HOLDERS else 403), role


def test_anonymous_is_sent_to_sign_in(en, world):
    response = en.get("/kundelik/sync/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert post(en, f"/kundelik/sync/schools/{world.s1.id}/runs", form_page="/login").status_code == 401


def _denials(school_id: int) -> int:
    return audit_count(action=AuditAction.ACCESS_DENIED, outcome=Outcome.DENIED, school_id=school_id)


def test_a_director_of_another_school_gets_audited_404s(en, world, kundelik):
    world.s2.kundelik_id = "1000000000012"
    db.session.commit()
    other = run(world.s2, None)
    login(en, world.a1)
    before = _denials(world.s2.id)
    assert en.get(f"/kundelik/sync/?school_id={world.s2.id}").status_code == 404
    assert en.get(f"/kundelik/sync/runs/{other.uuid}").status_code == 404
    assert post(en, f"/kundelik/sync/schools/{world.s2.id}/runs", form_page="/account").status_code == 404
    assert _denials(world.s2.id) == before + 3
    assert db.session.execute(select(KundelikSyncRun).where(KundelikSyncRun.school_id == world.s2.id)).scalars(
    ).all() == [other], "no run was started for the other school"


def test_the_director_runs_the_sync_from_the_page_and_reads_the_report(en, school, world):
    login(en, world.a1)
    page = en.get(f"/kundelik/sync/?school_id={school.id}").get_data(as_text=True)
    assert "Sync from Kundelik now" in page and "No sync has run for this school yet." in page

    response = post(en, f"/kundelik/sync/schools/{school.id}/runs", form_page=f"/kundelik/sync/?school_id={school.id}")

    assert response.status_code == 302
    report = en.get(response.headers["Location"]).get_data(as_text=True)
    assert "The roster was synced" in report and "Pupils added" in report and "data-refresh-every" not in report
    [entry] = entries(AuditAction.KUNDELIK_SYNC)
    assert entry["via"] == "web" and entry["token_of"] == world.a1.id
    again = post(en, f"/kundelik/sync/schools/{school.id}/runs", form_page=f"/kundelik/sync/?school_id={school.id}")
    assert "No changes" in en.get(again.headers["Location"]).get_data(as_text=True)
    listing = en.get(f"/kundelik/sync/?school_id={school.id}").get_data(as_text=True)
    assert listing.count("/kundelik/sync/runs/") == 2


def test_the_report_names_moved_and_departed_pupils_and_its_reading_is_audited(en, school, world, kundelik):
    run(school, world.a1)
    kundelik.local.world.next_term()
    done = run(school, world.a1)
    login(en, world.a1)

    page = en.get(f"/kundelik/sync/runs/{done.uuid}").get_data(as_text=True)

    assert "Moved to another class" in page and "8Б → 9Ә" in page and "Marked as left" in page
    [read] = entries(AuditAction.KUNDELIK_SYNC_REPORT)
    assert read == {"pupils": 2}


@pytest.mark.parametrize(("language", "words"), [
    ("ru", "Кунделик не принял сохранённый вход"), ("kk", "Күнделік сақталған кіруді қабылдамады")])
def test_an_expired_token_is_explained_in_the_readers_language(client, school, world, kundelik, language, words):
    kundelik.local.expire_tokens()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    login(client, world.a1)
    response = post(client, f"/kundelik/sync/schools/{school.id}/runs", form_page="/account")
    assert words in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_person_is_not_given_a_role_by_their_own_run(en, school, world):
    world.a1.kundelik_person_id = "3000000000905"  # the director is 8Б's class teacher in Kundelik
    db.session.commit()
    login(en, world.a1)
    response = post(en, f"/kundelik/sync/schools/{school.id}/runs", form_page="/account")
    page = en.get(response.headers["Location"]).get_data(as_text=True)
    assert "nobody gives themselves a role" in page
    assert world.a1.roles == {Role.DIRECTOR}


def test_a_running_sync_shows_its_progress_and_refreshes(en, school, world):
    started = sync.start_run(actor=world.a1, school=school, via="web")
    started.step, started.done, started.total = "pupils", 12, 60
    db.session.commit()
    login(en, world.a1)
    page = en.get(f"/kundelik/sync/runs/{started.uuid}").get_data(as_text=True)
    assert "Reading the pupils and their parents: 12 / 60" in page
    # Refreshed by app.js, which the reader can stop; never a <meta> refresh (axe meta-refresh, WCAG 2.2.1)
    assert 'http-equiv="refresh"' not in page and 'data-refresh-every="3"' in page
    assert "Stop refreshing" in page and f'href="/kundelik/sync/runs/{started.uuid}">Refresh now</a>' in page
    response = post(en, f"/kundelik/sync/schools/{school.id}/runs", form_page="/account")
    assert response.headers["Location"].endswith(started.uuid), "one run of a school at a time"


def test_the_page_runs_the_sync_in_the_background(app, en, school, world):
    app.config["SENIM_KUNDELIK_SYNC_BACKGROUND"] = True
    try:
        login(en, world.a1)
        response = post(en, f"/kundelik/sync/schools/{school.id}/runs", form_page="/account")
        for thread in list(__import__("threading").enumerate()):
            if thread.name.startswith("senim-kundelik-sync-"):
                thread.join(timeout=60)
    finally:
        app.config["SENIM_KUNDELIK_SYNC_BACKGROUND"] = False
    db.session.expire_all()
    [done] = db.session.execute(select(KundelikSyncRun)).scalars().all()
    assert response.headers["Location"].endswith(done.uuid)
    assert done.status == "succeeded" and done.report["counts"]["pupils_new"] == 60


def test_the_command_syncs_with_progress_and_says_no_changes_the_second_time(app, school, world):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["kundelik", "sync", "--school", str(school.id)])
    assert first.exit_code == 0, first.output
    assert "Pupils added: 60" in first.output and "Reading the pupils and their parents" in first.output
    second = runner.invoke(args=["kundelik", "sync", "--school", str(school.id), "--lang", "ru"])
    assert second.exit_code == 0 and "No changes." in second.output
    assert "Добавлено учеников: 0" in second.output


def test_the_command_fails_clearly_without_a_token(app, world, kundelik):
    link_school(world.s1)
    result = app.test_cli_runner().invoke(args=["kundelik", "sync", "--school", str(world.s1.id)])
    assert result.exit_code == 1 and "Sign in with Kundelik once" in result.output
    unknown = app.test_cli_runner().invoke(args=["kundelik", "sync", "--school", "999999"])
    assert unknown.exit_code == 2


def test_migration_0023_adds_the_class_id_and_the_runs_and_removes_them(tmp_path) -> None:
    from flask_migrate import downgrade, upgrade

    with scratch_app(f"sqlite:///{tmp_path / 'm.db'}"):
        upgrade(directory=MIGRATIONS, revision="0022_kundelik_oauth")
        with db.engine.begin() as conn:
            insert_school(conn)
            conn.execute(text("INSERT INTO school_classes (id, school_id, grade, letter, school_year, language) "
                              "VALUES (3, 1, 7, 'А', 2026, 'kk')"))
        upgrade(directory=MIGRATIONS, revision="0023_kundelik_sync")
        inspector = inspect(db.engine)
        assert "kundelik_id" in {c["name"] for c in inspector.get_columns("school_classes")}
        assert "kundelik_sync_runs" in inspector.get_table_names()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT kundelik_id FROM school_classes")).scalar_one() is None
        db.session.remove()
        downgrade(directory=MIGRATIONS, revision="0022_kundelik_oauth")
        inspector = inspect(db.engine)
        assert "kundelik_sync_runs" not in inspector.get_table_names()
        assert "kundelik_id" not in {c["name"] for c in inspector.get_columns("school_classes")}
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT id FROM school_classes")).scalar_one() == 3


def test_the_sync_models_and_their_migration_agree(app_ctx):
    assert model_drift("kundelik_sync_runs", "school_classes") == []


def test_the_token_kept_at_a_directors_kundelik_sign_in_runs_the_sync(en, world, kundelik):
    """End to end: the director signs in with Kundelik (and her second factor), then syncs from the page."""
    from tests.factories import csrf_token, totp_now
    from tests.kundelik.conftest import sign_in_with_kundelik

    link_school(world.s1)
    world.a1.kundelik_person_id = "3000000000901"
    db.session.commit()
    assert sign_in_with_kundelik(en, "director").status_code == 302
    en.post("/mfa", data={"code": totp_now(world.a1), "csrf_token": csrf_token(en, "/mfa")})

    response = post(en, f"/kundelik/sync/schools/{world.s1.id}/runs", form_page="/kundelik/sync/")

    page = en.get(response.headers["Location"]).get_data(as_text=True)
    assert "The roster was synced" in page
    [entry] = entries(AuditAction.KUNDELIK_SYNC)
    assert entry["token_of"] == world.a1.id and entry["pupils_new"] == 60
