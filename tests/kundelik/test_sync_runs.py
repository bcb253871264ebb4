"""Sync runs in production: one running run per school (the database decides, also for two starts at the same
moment), the heartbeat, a silent run shown as interrupted and no longer blocking, ``flask kundelik sync --all``,
and migration 0026 both ways."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import insert, inspect, select, text, update
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.core.audit import AuditAction
from app.core.demo_people import DEMO_SCHOOL_IDS
from app.core.models import Pupil, School, utcnow
from app.extensions import db
from app.kundelik import sync
from app.kundelik.runs import KundelikSyncRun, RunStatus
from tests.factories import login, post
from tests.kundelik.sync_support import entries, keep_token, link_school, run
from tests.migration_support import MIGRATIONS, insert_school, model_drift, scratch_app

SCHOOL_12 = DEMO_SCHOOL_IDS[1]


@pytest.fixture
def school(world, kundelik):
    link_school(world.s1)
    keep_token(kundelik, world.a1)
    return world.s1


def _runs(school_id: int) -> list[KundelikSyncRun]:
    db.session.expire_all()
    return list(db.session.execute(select(KundelikSyncRun).where(KundelikSyncRun.school_id == school_id)
                                   .order_by(KundelikSyncRun.id)).scalars())


def _silence(run_id: int, minutes: int = 11) -> None:
    """The run's last heartbeat was ``minutes`` ago (its process stopped then)."""
    db.session.execute(update(KundelikSyncRun).where(KundelikSyncRun.id == run_id)
                       .values(heartbeat_at=utcnow() - timedelta(minutes=minutes)))
    db.session.commit()


def _kundelik_pupils(school_id: int) -> int:
    return len(db.session.execute(select(Pupil.id).where(Pupil.school_id == school_id,
                                                         Pupil.kundelik_id.is_not(None))).all())


# --- one running run per school ---------------------------------------------------------------------------


def test_the_database_refuses_a_second_running_run_of_a_school(school, world):
    values = {"uuid": "", "school_id": school.id, "via": "cli", "status": "running", "step": "start", "done": 0,
              "total": 0, "started_at": utcnow(), "heartbeat_at": utcnow(), "report_json": "{}"}
    with db.engine.begin() as connection:
        connection.execute(insert(KundelikSyncRun).values({**values, "uuid": "a"}))
        connection.execute(insert(KundelikSyncRun).values({**values, "uuid": "b", "status": "succeeded"}))
        connection.execute(insert(KundelikSyncRun).values({**values, "uuid": "c", "school_id": world.s2.id}))
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        connection.execute(insert(KundelikSyncRun).values({**values, "uuid": "d"}))


def _start_at_once(app: Flask, school_id: int, actor_ids: list[int]) -> list[Any]:
    """Each actor starts the school's sync in a thread of its own (own app context, own database connection),
    all released at the same moment; each thread's outcome: the new run's id or the AlreadyRunning."""
    barrier = threading.Barrier(len(actor_ids))
    outcomes: list[Any] = [None] * len(actor_ids)

    def start(index: int, actor_id: int) -> None:
        with app.app_context():
            try:
                actor = db.session.get(User, actor_id)
                school = db.session.get_one(School, school_id)
                barrier.wait(timeout=10)
                outcomes[index] = sync.start_run(actor=actor, school=school, via="web").id
            except sync.AlreadyRunning as running:
                outcomes[index] = running
            except Exception as error:  # reported by the test (outcomes)
                outcomes[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=start, args=(i, a)) for i, a in enumerate(actor_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.parametrize("round_", range(3))
def test_two_starts_at_the_same_moment_make_one_run(app, school, world, round_):
    outcomes = _start_at_once(app, school.id, [world.a1.id, world.admin.id])

    started = [o for o in outcomes if isinstance(o, int)]
    refused = [o for o in outcomes if isinstance(o, sync.AlreadyRunning)]
    assert len(started) == 1 and len(refused) == 1, outcomes
    assert refused[0].run.id == started[0]
    [only] = _runs(school.id)
    assert only.id == started[0] and only.status == RunStatus.RUNNING


def test_a_second_start_from_the_page_says_who_started_the_running_one_and_starts_nothing(client, school, world):
    running = sync.start_run(actor=world.admin, school=school, via="web")
    login(client, world.a1)
    for language, words in (("en", "A sync of this school is already running, started at"),
                            ("ru", "Синхронизация этой школы уже идёт: начата"),
                            ("kk", "Бұл мектептің синхрондауы жүріп жатыр")):
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        response = post(client, f"/kundelik/sync/schools/{school.id}/runs", form_page="/account")
        assert response.headers["Location"].endswith(running.uuid)
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert words in page and world.admin.full_name in page, language
    assert [r.id for r in _runs(school.id)] == [running.id]
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    listing = client.get(f"/kundelik/sync/?school_id={school.id}").get_data(as_text=True)
    assert "Watch its progress" in listing and "Sync from Kundelik now" not in listing


def test_the_command_honours_a_running_run(app, school, world):
    running = sync.start_run(actor=world.admin, school=school, via="web")
    runner = app.test_cli_runner()

    refused = runner.invoke(args=["kundelik", "sync", "--school", str(school.id)])

    assert refused.exit_code == 1
    assert "already running, started at" in refused.output and world.admin.full_name in refused.output
    assert [r.id for r in _runs(school.id)] == [running.id]


# --- heartbeat and interrupted runs -----------------------------------------------------------------------


def test_the_heartbeat_advances_as_the_run_progresses(school, world):
    beats: list[Any] = []

    def watch(_step: str, _done: int, _total: int) -> None:
        with db.engine.connect() as connection:
            beats.append(connection.execute(select(KundelikSyncRun.heartbeat_at).where(
                KundelikSyncRun.status == RunStatus.RUNNING.value)).scalar_one())

    done = run(school, world.a1, echo=watch)

    assert done.status == "succeeded"
    distinct = sorted(set(beats))
    assert len(distinct) >= 3 and distinct == list(dict.fromkeys(beats)), "it only moves forward"
    assert done.heartbeat_at >= distinct[-1] and done.heartbeat_at > done.started_at


def test_a_silent_run_is_shown_interrupted_and_a_new_one_can_start(en, school, world):
    silent = sync.start_run(actor=world.admin, school=school, via="web")
    silent.step, silent.done, silent.total = "pupils", 12, 60
    db.session.commit()
    _silence(silent.id, minutes=9)
    login(en, world.a1)
    assert "data-refresh-every" in en.get(f"/kundelik/sync/runs/{silent.uuid}").get_data(as_text=True)  # still alive
    _silence(silent.id, minutes=11)  # past SENIM_KUNDELIK_SYNC_STALE_AFTER (10 minutes)

    page = en.get(f"/kundelik/sync/runs/{silent.uuid}").get_data(as_text=True)
    listing = en.get(f"/kundelik/sync/?school_id={school.id}").get_data(as_text=True)

    assert "Interrupted" in page and "nothing of this run was saved" in page and "Last sign of life" in page
    assert "data-refresh-every" not in page and "Stop refreshing" not in page
    assert "Interrupted" in listing and "Sync from Kundelik now" in listing

    response = post(en, f"/kundelik/sync/schools/{school.id}/runs", form_page="/account")

    old, new = _runs(school.id)
    assert old.id == silent.id and old.status == "interrupted" and old.error == "interrupted"
    assert new.status == "succeeded" and response.headers["Location"].endswith(new.uuid)
    assert [e["reason"] for e in entries(AuditAction.KUNDELIK_SYNC_FAILED)] == ["interrupted"]


def test_the_command_starts_over_a_silent_run(app, school, world):
    silent = sync.start_run(actor=None, school=school, via="cli")
    _silence(silent.id)

    result = app.test_cli_runner().invoke(args=["kundelik", "sync", "--school", str(school.id)])

    assert result.exit_code == 0, result.output
    assert [r.status for r in _runs(school.id)] == ["interrupted", "succeeded"]


def test_a_run_declared_interrupted_while_it_works_stops_and_writes_nothing(school, world):
    def declared_dead(step: str, done: int, _total: int) -> None:
        if step == "pupils" and done == 10:  # another start found it silent and took over
            with db.engine.begin() as connection:
                connection.execute(update(KundelikSyncRun).values(status="interrupted", error="interrupted"))

    stopped = run(school, world.a1, echo=declared_dead)

    assert stopped.status == "interrupted"
    assert _kundelik_pupils(school.id) == 0
    assert entries(AuditAction.KUNDELIK_SYNC) == [] and entries(AuditAction.KUNDELIK_SYNC_FAILED) == []


def test_a_run_found_interrupted_when_it_saves_rolls_its_writes_back(school, world, monkeypatch):
    write_school = sync.write_school

    def taken_over_meanwhile(*args: Any, **kwargs: Any) -> dict[str, Any]:
        with db.engine.begin() as connection:  # after its last heartbeat, before its commit
            connection.execute(update(KundelikSyncRun).values(status="interrupted", error="interrupted"))
        return write_school(*args, **kwargs)

    monkeypatch.setattr(sync, "write_school", taken_over_meanwhile)

    stopped = run(school, world.a1)

    assert stopped.status == "interrupted" and stopped.report_json == "{}"
    assert _kundelik_pupils(school.id) == 0
    assert entries(AuditAction.KUNDELIK_SYNC) == []


# --- every school from cron -------------------------------------------------------------------------------


def test_all_syncs_every_linked_school_and_fails_when_one_does(app, world, kundelik):
    link_school(world.s1)
    world.s2.kundelik_id = SCHOOL_12
    db.session.commit()
    keep_token(kundelik, world.admin)  # an admin's kept sign-in reads both schools
    kundelik.local.unavailable_schools.add(int(SCHOOL_12))  # school № 12's Kundelik answers 503, retries too
    runner = app.test_cli_runner()

    result = runner.invoke(args=["kundelik", "sync", "--all"])

    assert result.exit_code == 1, result.output
    assert f"== School {world.s1.id}" in result.output and f"== School {world.s2.id}" in result.output
    assert "Pupils added: 60" in result.output and "Kundelik is not answering" in result.output
    assert f"Schools synced: 1; failed: 1 ({world.s2.id})." in result.output
    assert _kundelik_pupils(world.s1.id) == 60 and _kundelik_pupils(world.s2.id) == 0
    assert [r.error for r in _runs(world.s2.id)] == ["unavailable"]

    kundelik.local.unavailable_schools.clear()
    again = runner.invoke(args=["kundelik", "sync", "--all", "--lang", "ru"])
    assert again.exit_code == 0, again.output
    assert "Schools synced: 2; failed: 0." in again.output and _kundelik_pupils(world.s2.id) > 0


def test_the_command_wants_one_school_or_all(app, world):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["kundelik", "sync"]).exit_code == 2
    assert runner.invoke(args=["kundelik", "sync", "--all", "--school", str(world.s1.id)]).exit_code == 2


# --- migration 0026 ---------------------------------------------------------------------------------------


def test_migration_0026_adds_the_heartbeat_and_the_index_and_removes_them(tmp_path) -> None:
    from flask_migrate import downgrade, upgrade

    row = ("INSERT INTO kundelik_sync_runs (id, uuid, school_id, via, status, step, done, total, started_at, "
           "report_json) VALUES (:id, :uuid, 1, 'web', :status, 'start', 0, 0, '2026-12-01 10:00:00', '{}')")
    with scratch_app(f"sqlite:///{tmp_path / 'm.db'}"):
        upgrade(directory=MIGRATIONS, revision="0023_kundelik_sync")
        with db.engine.begin() as conn:
            insert_school(conn)
            for run_id, status in ((1, "running"), (2, "running"), (3, "succeeded")):
                conn.execute(text(row), {"id": run_id, "uuid": f"u{run_id}", "status": status})
        upgrade(directory=MIGRATIONS, revision="0026_sync_jobs")
        inspector = inspect(db.engine)
        assert "heartbeat_at" in {c["name"] for c in inspector.get_columns("kundelik_sync_runs")}
        assert "uq_kundelik_sync_runs_running_school" in {i["name"] for i in inspector.get_indexes(
            "kundelik_sync_runs")}
        with db.engine.connect() as conn:
            statuses = conn.execute(text("SELECT id, status FROM kundelik_sync_runs ORDER BY id")).all()
            assert [tuple(r) for r in statuses] == [(1, "interrupted"), (2, "running"), (3, "succeeded")]
            assert conn.execute(text("SELECT COUNT(*) FROM kundelik_sync_runs WHERE heartbeat_at IS NULL")
                                ).scalar_one() == 0
        db.session.remove()
        downgrade(directory=MIGRATIONS, revision="0023_kundelik_sync")
        inspector = inspect(db.engine)
        assert "heartbeat_at" not in {c["name"] for c in inspector.get_columns("kundelik_sync_runs")}
        with db.engine.connect() as conn:
            assert [r[0] for r in conn.execute(text("SELECT status FROM kundelik_sync_runs ORDER BY id"))] == [
                "failed", "running", "succeeded"]


def test_the_runs_model_and_its_migration_agree(app_ctx):
    assert model_drift("kundelik_sync_runs") == []
